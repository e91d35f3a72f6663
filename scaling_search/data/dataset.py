"""The loaded dataset every trainer sees, and the steps all sources share: validation split and channel statistics."""

from __future__ import annotations

from dataclasses import dataclass

import torch


class DatasetError(ValueError):
    """A dataset spec, file or array that cannot be used; the message says what is wrong and what is allowed."""


@dataclass(frozen=True)
class Splits:
    """What a source loader produces: uint8 [N, 3, H, W] images and int64 labels, before the validation split."""

    class_names: tuple[str, ...]
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    skipped: int = 0


@dataclass(frozen=True, eq=False)
class ImageData:
    """A dataset held in memory as uint8 images at its storage resolution.

    ``val_*`` is carved from the source's training data with a fixed seed and is what model
    choices are made on; ``test_*`` is the source's own test split, kept for reporting only.
    """

    name: str
    class_names: tuple[str, ...]
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    skipped: int = 0

    def __post_init__(self) -> None:
        size = self.train_x.shape[-1]
        for split in ("train", "val", "test"):
            x, y = getattr(self, f"{split}_x"), getattr(self, f"{split}_y")
            if x.dtype != torch.uint8 or x.dim() != 4 or tuple(x.shape[1:]) != (3, size, size):
                raise ValueError(f"{split}_x must be uint8 [N, 3, {size}, {size}], got {x.dtype} {tuple(x.shape)}")
            if y.dtype != torch.int64 or tuple(y.shape) != (x.shape[0],):
                raise ValueError(f"{split}_y must be int64 [{x.shape[0]}], got {y.dtype} {tuple(y.shape)}")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def storage_resolution(self) -> int:
        return int(self.train_x.shape[-1])


def split_validation(y: torch.Tensor, val_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (train, val) of a seeded, stratified split of labels ``y``; both sorted, disjoint, covering ``y``.

    Each class gives ``round(n_c * val_fraction)`` images to validation, at least one when it has
    two or more and never all of them, so every class stays in both parts whenever it can.
    """
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(y), generator=generator)
    order = order[torch.argsort(y[order], stable=True)]  # grouped by class, random within each class
    counts = torch.bincount(y, minlength=1)
    starts = torch.cumsum(counts, 0) - counts
    wanted = torch.minimum(torch.clamp(torch.round(counts * val_fraction), min=1), counts - 1).clamp(min=0)
    sorted_y = y[order]
    rank = torch.arange(len(y)) - starts[sorted_y]
    is_val = rank < wanted[sorted_y]
    return order[~is_val].sort().values, order[is_val].sort().values


def channel_stats(x: torch.Tensor) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Per-channel mean and standard deviation of uint8 images ``x`` in [0, 1] units.

    Computed exactly from each channel's 256-bin histogram, so a large dataset needs no float copy.
    The standard deviation is floored at one grey level so normalising a flat channel stays finite.
    """
    levels = torch.arange(256, dtype=torch.float64) / 255
    means, stds = [], []
    for channel in range(3):
        counts = torch.bincount(x[:, channel].reshape(-1), minlength=256).to(torch.float64)
        total = counts.sum().clamp(min=1)
        mean = (counts * levels).sum() / total
        variance = (counts * levels.square()).sum() / total - mean.square()
        means.append(float(mean))
        stds.append(max(float(variance.clamp(min=0).sqrt()), 1 / 255))
    return tuple(means), tuple(stds)  # type: ignore[return-value]


def assemble(name: str, splits: Splits, *, val_fraction: float, seed: int) -> ImageData:
    """Carve the validation part out of ``splits``' training data and measure the training statistics."""
    if len(splits.test_y) == 0:
        raise DatasetError(f"{name} has no test images; the test split needs at least one")
    train_idx, val_idx = split_validation(splits.train_y, val_fraction, seed)
    if len(val_idx) == 0:
        raise DatasetError(
            f"{name} has too few training images ({len(splits.train_y)}) to carve a validation split; "
            "each class needs at least two"
        )
    train_x = splits.train_x[train_idx].contiguous()
    mean, std = channel_stats(train_x)
    return ImageData(
        name=name,
        class_names=splits.class_names,
        train_x=train_x,
        train_y=splits.train_y[train_idx].contiguous(),
        val_x=splits.train_x[val_idx].contiguous(),
        val_y=splits.train_y[val_idx].contiguous(),
        test_x=splits.test_x.contiguous(),
        test_y=splits.test_y.contiguous(),
        mean=mean,
        std=std,
        skipped=splits.skipped,
    )

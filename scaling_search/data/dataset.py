"""The loaded dataset every trainer sees, and the steps all sources share: validation split and channel statistics."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from scaling_search.errors import InputError
from scaling_search.support.machine import GIB, memory_fit


class DatasetError(InputError):
    """A dataset spec, file or array that cannot be used; the message says what is wrong and what is allowed."""


@dataclass(frozen=True)
class Splits:
    """What a source loader produces: uint8 [N, 3, H, W] images and int64 labels, before the validation split.

    ``native_resolution`` is the side the source's images really have before any resizing (see
    :attr:`ImageData.native_resolution`).
    """

    class_names: tuple[str, ...]
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    native_resolution: int
    skipped: int = 0
    val_x: torch.Tensor | None = None
    """The source's own validation split, when it has one; otherwise one is carved from train."""
    val_y: torch.Tensor | None = None

    def __post_init__(self) -> None:
        check_native_resolution(self.native_resolution)


def check_native_resolution(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DatasetError(f"native_resolution must be a positive integer (pixels), got {value!r}")


@dataclass(frozen=True, eq=False)
class ImageData:
    """A dataset held in memory as uint8 images at its storage resolution.

    ``val_*`` is what model choices are made on: the source's own validation split when it has one
    (an ImageFolder's ``val/`` beside ``test/``, an npz file's ``x_val``), else carved from its
    training data with a fixed seed (``val_source`` says which). ``test_*`` is the source's test
    split, kept for reporting only. ``skipped`` counts source files that could not be used.

    ``native_resolution`` is the side length the source's images really have, before any resizing:
    32 for CIFAR, 28 for Fashion-MNIST, the stored side of an npz file, the median shorter side of
    an ImageFolder's files, and the rendered resolution for ``synthetic`` (drawn natively at any
    size). Training above it feeds the network interpolated pixels that add no detail
    (:func:`scaling_search.data.detail.upsample`). It is independent of ``storage_resolution``,
    the side the images are held at here.

    Example:

        >>> from scaling_search.data.load import load_dataset
        >>> data = load_dataset("synthetic:classes=2,train=64,test=16", resolution=16)
        >>> data.num_classes, tuple(data.train_x.shape), len(data.val_y), data.val_source
        (2, (58, 3, 16, 16), 6, 'carved')
        >>> data.native_resolution
        16
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
    native_resolution: int
    skipped: int = 0
    val_source: str = "carved"
    """"carved" (a seeded part of the training data) or "given" (the source's own validation split)."""

    def __post_init__(self) -> None:
        check_native_resolution(self.native_resolution)
        size = self.train_x.shape[-1]
        for split in ("train", "val", "test"):
            x, y = getattr(self, f"{split}_x"), getattr(self, f"{split}_y")
            if x.dtype != torch.uint8 or x.dim() != 4 or tuple(x.shape[1:]) != (3, size, size):
                raise InputError(f"{split}_x must be uint8 [N, 3, {size}, {size}], got {x.dtype} {tuple(x.shape)}")
            if y.dtype != torch.int64 or tuple(y.shape) != (x.shape[0],):
                raise InputError(f"{split}_y must be int64 [{x.shape[0]}], got {y.dtype} {tuple(y.shape)}")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def storage_resolution(self) -> int:
        return int(self.train_x.shape[-1])

    def summary(self) -> str:
        """One line for people: the name, the split sizes and where validation came from, native side, skipped files."""
        skipped = f", {self.skipped} unusable files skipped" if self.skipped else ""
        return (f"{self.name}: {len(self.train_y)} train / {len(self.val_y)} val ({self.val_source}) / "
                f"{len(self.test_y)} test images, {self.num_classes} classes, native {self.native_resolution} px"
                f"{skipped}")


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
    """The source's validation split, or one carved out of its training data; statistics from training data only."""
    if len(splits.test_y) == 0:
        raise DatasetError(f"{name} has no test images; the test split needs at least one")
    if splits.val_x is not None and splits.val_y is not None:
        if len(splits.val_y) == 0:
            raise DatasetError(f"{name}'s validation split holds no images")
        train_x, train_y, val_x, val_y = splits.train_x, splits.train_y, splits.val_x, splits.val_y
        val_source = "given"
    else:
        train_idx, val_idx = split_validation(splits.train_y, val_fraction, seed)
        if len(val_idx) == 0:
            raise DatasetError(
                f"{name} has too few training images ({len(splits.train_y)}) to carve a validation split; "
                "each class needs at least two"
            )
        train_x, train_y = splits.train_x[train_idx], splits.train_y[train_idx]
        val_x, val_y = splits.train_x[val_idx], splits.train_y[val_idx]
        val_source = "carved"
    train_x = train_x.contiguous()
    mean, std = channel_stats(train_x)
    return ImageData(
        name=name,
        class_names=splits.class_names,
        train_x=train_x,
        train_y=train_y.contiguous(),
        val_x=val_x.contiguous(),
        val_y=val_y.contiguous(),
        test_x=splits.test_x.contiguous(),
        test_y=splits.test_y.contiguous(),
        mean=mean,
        std=std,
        native_resolution=splits.native_resolution,
        skipped=splits.skipped,
        val_source=val_source,
    )


LOADING_COPIES = 2


def check_fits_in_memory(images: int, side: int, what: str) -> None:
    """Fail with a clear message before allocating ``images`` uint8 RGB images of ``side`` px that RAM cannot hold.

    Loading holds the images twice at its peak (decoded, then laid out as the training tensors).
    """
    needed = LOADING_COPIES * images * 3 * side * side
    fit = memory_fit(needed)
    if fit is not None and not fit.copies:
        raise DatasetError(
            f"{what}: loading {images} images at {side}x{side} px needs about {needed / GIB:.1f} GiB, more than "
            f"this machine's {fit.total / GIB:.1f} GiB of memory; use fewer images or a lower resolution"
        )

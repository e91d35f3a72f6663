"""Batch augmentation on the training device: uint8 images in, normalised float32 at a candidate's resolution out.

Everything works on the whole batch at once. A random-resized crop is a per-sample affine map
(``affine_grid`` + bilinear ``grid_sample``); pad-and-crop is one gather at per-sample integer
offsets; evaluation is one resize of the whole image (``interpolate``, antialiased when shrinking).

Bilinear sampling alone aliases when a crop shrinks by more than about 1.5x, and aliasing would
make the training images of a low-resolution candidate systematically different from its
(antialiased) evaluation images. So each crop is sampled from a copy of the batch shrunk, with
antialiasing, by the power of two nearest its zoom (a mipmap level). The batch is sampled at every
level the augmentation's bounds allow (at most two or three, known on the host) and each sample
keeps its own level's result: a few ``grid_sample`` calls per batch, never one per image, and no
wait for the device to say which levels occur.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
import torch.nn.functional as F

from scaling_search.errors import InputError

if TYPE_CHECKING:
    from scaling_search.data.dataset import ImageData

AugmentationKind = Literal["random-resized", "pad-crop", "none"]
KINDS: tuple[str, ...] = ("random-resized", "pad-crop", "none")
AUGMENTATION_NAMES: tuple[str, ...] = ("flip", *KINDS)
"""What :meth:`Augmentation.named` takes: "flip" alone, or a kind (each but "none" flips too)."""


@dataclass(frozen=True)
class Augmentation:
    """How training batches are cropped and flipped.

    ``random-resized``: a crop of ``scale`` of the image's area and aspect ratio in ``ratio``
    (log-uniform), anywhere in the image, resized to the resolution (the ImageNet recipe).
    ``pad-crop``: pad by ``pad_fraction`` of the side with black and take a random window of the
    original size (the CIFAR recipe: 4 px at 32), then resize. ``none``: resize only.
    ``flip`` mirrors a random half of the batch left-right, whatever the kind.
    """

    kind: AugmentationKind = "random-resized"
    flip: bool = True
    scale: tuple[float, float] = (0.35, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    pad_fraction: float = 0.125

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"augmentation kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        low, high = self.scale
        if not 0 < low <= high <= 1:
            raise InputError(f"augmentation scale must satisfy 0 < min <= max <= 1, got {self.scale}")
        low, high = self.ratio
        if not 0 < low <= high or not math.isfinite(high):
            raise InputError(f"augmentation ratio must satisfy 0 < min <= max, got {self.ratio}")
        if not 0 <= self.pad_fraction <= 0.5:
            raise InputError(f"augmentation pad_fraction must lie in [0, 0.5], got {self.pad_fraction}")

    @classmethod
    def named(cls, name: str) -> Augmentation:
        """The augmentation a short name stands for: "flip" (left-right only), or a kind, which flips too but "none".

        Example:
            >>> from scaling_search.data.augment import Augmentation
            >>> Augmentation.named("flip").kind, Augmentation.named("pad-crop").flip
            ('none', True)
        """
        if name not in AUGMENTATION_NAMES:
            raise InputError(f"augmentation must be one of {', '.join(AUGMENTATION_NAMES)}, not {name!r}")
        if name == "flip":
            return cls(kind="none", flip=True)
        return cls(kind=name, flip=name != "none")  # type: ignore[arg-type]  # a kind, checked above


def normalisation(data: ImageData, device: torch.device | str) -> tuple[torch.Tensor, torch.Tensor]:
    """``data``'s channel mean and std as float32 [1, 3, 1, 1] tensors on ``device``."""
    mean = torch.tensor(data.mean, dtype=torch.float32, device=device).view(1, 3, 1, 1)
    std = torch.tensor(data.std, dtype=torch.float32, device=device).view(1, 3, 1, 1)
    return mean, std


def eval_batch(x: torch.Tensor, resolution: int, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """The whole of each uint8 image resized to ``resolution`` and normalised: float32 [B, 3, R, R]."""
    check_batch(x, resolution)
    return resize(to_unit(x), resolution).sub_(mean).div_(std)


def train_batch(
    x: torch.Tensor,
    resolution: int,
    augmentation: Augmentation,
    mean: torch.Tensor,
    std: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """An augmented, normalised float32 [B, 3, R, R] batch from uint8 images ``x``.

    Random numbers come from ``generator`` (which must live on ``x``'s device), so a seeded
    generator gives the same batch every time.
    """
    check_batch(x, resolution)
    size, device = len(x), x.device
    flips = torch.rand(size, generator=generator, device=device) < 0.5 if augmentation.flip else None
    if augmentation.kind == "random-resized":
        images = random_resized_crop(to_unit(x), resolution, augmentation, flips, generator)
    elif augmentation.kind == "pad-crop":
        pad = round(augmentation.pad_fraction * x.shape[-1])
        top, left = torch.randint(0, 2 * pad + 1, (2, size), generator=generator, device=device)
        no_flips = torch.zeros(size, dtype=torch.bool, device=device)
        images = resize(to_unit(pad_crop(x, pad, top, left, no_flips if flips is None else flips)), resolution)
    else:
        images = resize(to_unit(x), resolution)
        if flips is not None:
            images = torch.where(flips.view(-1, 1, 1, 1), images.flip(-1), images)
    return images.sub_(mean).div_(std)


def check_batch(x: torch.Tensor, resolution: int) -> None:
    if x.dtype != torch.uint8 or x.dim() != 4 or x.shape[1] != 3:
        raise InputError(f"expected a uint8 [B, 3, H, W] batch, got {x.dtype} {tuple(x.shape)}")
    if resolution < 1:
        raise InputError(f"resolution must be >= 1, got {resolution}")


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """uint8 → float32 in [0, 1]."""
    return x.to(torch.float32).div_(255)


def resize(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """Bilinear resize to ``resolution`` square, antialiased when shrinking."""
    if images.shape[-2:] == (resolution, resolution):
        return images
    shrink = images.shape[-1] > resolution or images.shape[-2] > resolution
    return F.interpolate(images, size=(resolution, resolution), mode="bilinear", align_corners=False, antialias=shrink)


def random_resized_crop(
    images: torch.Tensor,
    resolution: int,
    augmentation: Augmentation,
    flips: torch.Tensor | None,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Per-sample random crops of float images, mirrored where ``flips``, resampled to ``resolution``."""
    size, _, height, width = images.shape
    u = torch.rand(size, 4, generator=generator, device=images.device)
    low, high = augmentation.scale
    area = low + (high - low) * u[:, 0]
    log_low, log_high = math.log(augmentation.ratio[0]), math.log(augmentation.ratio[1])
    ratio = torch.exp(log_low + (log_high - log_low) * u[:, 1])
    crop_w = torch.sqrt(area * ratio).clamp(max=1)  # fractions of the image's width and height
    crop_h = torch.sqrt(area / ratio).clamp(max=1)
    # the crop as an axis-aligned map from output to input coordinates, both in [-1, 1]
    scale_x = crop_w if flips is None else torch.where(flips, -crop_w, crop_w)
    offset_x = (1 - crop_w) * (2 * u[:, 2] - 1)  # crop centre
    offset_y = (1 - crop_h) * (2 * u[:, 3] - 1)
    grid = crop_grid(scale_x, offset_x, crop_h, offset_y, resolution)
    zoom = torch.maximum(crop_w * width, crop_h * height) / resolution  # source pixels per output pixel
    top_level = max(int(math.log2(min(height, width))), 0)
    levels = torch.round(torch.log2(zoom)).clamp(0, top_level).to(torch.int64)
    possible = possible_levels(augmentation, height, width, resolution, top_level)
    out = sample(shrink(images, possible[0]), grid)
    for level in possible[1:]:  # every sample at every possible level, then a per-sample choice: no host sync
        chosen = (levels == level).view(-1, 1, 1, 1)
        out = torch.where(chosen, sample(shrink(images, level), grid), out)
    return out


def possible_levels(augmentation: Augmentation, height: int, width: int, resolution: int, top_level: int) -> range:
    """The mipmap levels a crop can need, from the augmentation's bounds alone (so known without the device).

    A crop's zoom is ``max(w * width, h * height) / resolution`` with its width and height fractions
    ``w, h`` in [``min(1, sqrt(scale_min * ratio_min))``, 1] and [``min(1, sqrt(scale_min / ratio_max))``, 1].
    """
    low_area = augmentation.scale[0]
    low_w = min(1.0, math.sqrt(low_area * augmentation.ratio[0]))
    low_h = min(1.0, math.sqrt(low_area / augmentation.ratio[1]))
    least = max(low_w * width, low_h * height) / resolution
    most = max(width, height) / resolution

    def level(zoom: float) -> int:
        return min(max(round(math.log2(zoom)), 0), top_level)

    return range(level(least), level(most) + 1)


def shrink(images: torch.Tensor, level: int) -> torch.Tensor:
    """``images`` shrunk 2**level times with antialiasing (mipmap level ``level``)."""
    if level == 0:
        return images
    height, width = images.shape[-2:]
    size = (max(height >> level, 1), max(width >> level, 1))
    return F.interpolate(images, size=size, mode="bilinear", align_corners=False, antialias=True)


def crop_grid(
    scale_x: torch.Tensor, offset_x: torch.Tensor, scale_y: torch.Tensor, offset_y: torch.Tensor, resolution: int
) -> torch.Tensor:
    """``grid_sample``'s [B, R, R, 2] grid for per-sample axis-aligned maps ``input = scale * output + offset``.

    What ``affine_grid`` gives for a diagonal ``theta`` (``align_corners=False``), built as two
    broadcasts instead of a batched matrix product, which is much cheaper on CPU (docs/benchmarks.md).
    """
    size = len(scale_x)
    pixels = (torch.arange(resolution, dtype=torch.float32, device=scale_x.device) * 2 + 1) / resolution - 1
    x = scale_x.view(size, 1, 1) * pixels.view(1, 1, resolution) + offset_x.view(size, 1, 1)
    y = scale_y.view(size, 1, 1) * pixels.view(1, resolution, 1) + offset_y.view(size, 1, 1)
    return torch.stack(torch.broadcast_tensors(x, y), dim=-1)


def sample(images: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of ``images`` at ``grid`` ([B, R, R, 2], normalised coordinates), borders repeated."""
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def pad_crop(x: torch.Tensor, pad: int, top: torch.Tensor, left: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """Windows of ``x``'s size at per-sample offsets (``top``, ``left``) of ``x`` zero-padded by ``pad``.

    ``top == left == pad`` gives the image itself; ``flip`` (bool [B]) mirrors a window left-right.
    """
    size, _, height, width = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    columns = torch.arange(width, device=x.device)
    rows = top.view(-1, 1) + torch.arange(height, device=x.device)  # [B, H]
    columns = left.view(-1, 1) + torch.where(flip.view(-1, 1), width - 1 - columns, columns)  # [B, W]
    batch = torch.arange(size, device=x.device).view(-1, 1, 1)
    # two advanced indices split by a slice: the indexed dimensions come first, channels last
    return padded[batch, :, rows.view(size, height, 1), columns.view(size, 1, width)].permute(0, 3, 1, 2)

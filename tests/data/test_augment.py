"""Batch augmentation: shapes, ranges, determinism, and that each transform does what it says."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from scaling_search.data.augment import (
    AUGMENTATION_NAMES,
    KINDS,
    Augmentation,
    crop_grid,
    eval_batch,
    normalisation,
    pad_crop,
    possible_levels,
    train_batch,
)

IDENTITY = (torch.zeros(1, 3, 1, 1), torch.ones(1, 3, 1, 1))  # mean 0, std 1: outputs stay in [0, 1]
FULL_CROP = {"scale": (1.0, 1.0), "ratio": (1.0, 1.0)}


def images(count: int = 16, size: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.randint(
        0, 256, (count, 3, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed)
    )


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("resolution", [16, 24, 32, 48])
def test_train_batch_shape_dtype_and_range(kind: str, resolution: int) -> None:
    out = train_batch(images(), resolution, Augmentation(kind=kind), *IDENTITY, generator())
    assert out.shape == (16, 3, resolution, resolution)
    assert out.dtype == torch.float32
    assert out.min() >= -1e-6 and out.max() <= 1 + 1e-6


@pytest.mark.parametrize("resolution", [16, 32, 56])
def test_eval_batch_resizes_and_normalises(resolution: int) -> None:
    x = images()
    mean = torch.tensor([0.2, 0.5, 0.7]).view(1, 3, 1, 1)
    std = torch.tensor([0.5, 0.25, 2.0]).view(1, 3, 1, 1)
    out = eval_batch(x, resolution, mean, std)
    assert out.shape == (16, 3, resolution, resolution) and out.dtype == torch.float32
    plain = eval_batch(x, resolution, *IDENTITY)
    torch.testing.assert_close(out, (plain - mean) / std)


def test_eval_batch_at_storage_resolution_is_exact() -> None:
    x = images()
    torch.testing.assert_close(eval_batch(x, 32, *IDENTITY), x.float() / 255, rtol=0, atol=0)


def test_normalisation_centres_the_dataset() -> None:
    from scaling_search.data.load import load_dataset

    data = load_dataset("synthetic:classes=4,train=200,test=20", resolution=16)
    mean, std = normalisation(data, "cpu")
    assert mean.shape == std.shape == (1, 3, 1, 1) and mean.dtype == std.dtype == torch.float32
    out = eval_batch(data.train_x, 16, mean, std)
    torch.testing.assert_close(out.mean((0, 2, 3)), torch.zeros(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(out.std((0, 2, 3)), torch.ones(3), atol=1e-3, rtol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_same_generator_seed_same_batch(kind: str) -> None:
    x, augmentation = images(), Augmentation(kind=kind)
    first = train_batch(x, 24, augmentation, *IDENTITY, generator(7))
    again = train_batch(x, 24, augmentation, *IDENTITY, generator(7))
    other = train_batch(x, 24, augmentation, *IDENTITY, generator(8))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_none_without_flip_equals_eval_path() -> None:
    x = images()
    for resolution in (16, 32, 40):
        out = train_batch(x, resolution, Augmentation(kind="none", flip=False), *IDENTITY, generator())
        assert torch.equal(out, eval_batch(x, resolution, *IDENTITY))


@pytest.mark.parametrize("kind", ["none", "random-resized"])
def test_flip_mirrors_about_half_the_batch(kind: str) -> None:
    x = images(count=64)
    plain = eval_batch(x, 32, *IDENTITY)
    out = train_batch(x, 32, Augmentation(kind=kind, **FULL_CROP), *IDENTITY, generator())
    same = (out - plain).abs().amax((1, 2, 3)) < 1e-4
    mirrored = (out - plain.flip(-1)).abs().amax((1, 2, 3)) < 1e-4
    assert bool((same ^ mirrored).all()), "every image is either untouched or mirrored left-right"
    assert 16 <= int(mirrored.sum()) <= 48


@pytest.mark.parametrize(("storage", "resolution"), [(32, 32), (64, 32), (128, 32)])
def test_full_random_resized_crop_equals_eval_path(storage: int, resolution: int) -> None:
    """A crop of the whole image is the eval resize, also when it is sampled from a shrunk (mipmap) copy."""
    x = images(size=storage)
    augmentation = Augmentation(flip=False, **FULL_CROP)
    out = train_batch(x, resolution, augmentation, *IDENTITY, generator())
    torch.testing.assert_close(out, eval_batch(x, resolution, *IDENTITY), atol=1e-5, rtol=0)


def test_random_resized_crops_zoom_in() -> None:
    """Small crops of a left-dark, right-bright image are mostly one or the other, unlike the whole image."""
    x = torch.zeros(64, 3, 32, 32, dtype=torch.uint8)
    x[..., 16:] = 255
    out = train_batch(x, 32, Augmentation(scale=(0.05, 0.05), flip=False), *IDENTITY, generator())
    assert (out.mean((1, 2, 3)) - 0.5).abs().mean() > 0.25


def test_shrinking_crops_do_not_alias() -> None:
    """One-pixel stripes shrunk 4x must average to grey, as the antialiased eval resize does."""
    x = torch.zeros(8, 3, 64, 64, dtype=torch.uint8)
    x[..., ::2] = 255
    for scale in ((1.0, 1.0), (0.6, 1.0)):
        out = train_batch(x, 16, Augmentation(scale=scale), *IDENTITY, generator())
        assert out.std() < 0.05 and abs(out.mean() - 0.5) < 0.05


def test_mixed_zoom_levels_in_one_batch() -> None:
    x = images(count=64, size=64)
    augmentation = Augmentation(scale=(0.02, 1.0))
    out = train_batch(x, 16, augmentation, *IDENTITY, generator(3))
    assert out.shape == (64, 3, 16, 16)
    assert torch.equal(out, train_batch(x, 16, augmentation, *IDENTITY, generator(3)))


@pytest.mark.parametrize("scale", [(0.02, 1.0), (0.08, 1.0), (0.35, 1.0), (1.0, 1.0), (0.5, 0.5)])
@pytest.mark.parametrize("ratio", [(3 / 4, 4 / 3), (1.0, 1.0), (0.2, 5.0)])
@pytest.mark.parametrize(("height", "width", "resolution"), [(32, 32, 64), (64, 64, 16), (256, 256, 64), (40, 96, 24)])
def test_possible_levels_cover_every_crop(scale, ratio, height, width, resolution) -> None:
    """The levels sampled without asking the device include the level of every crop the bounds allow."""
    augmentation = Augmentation(scale=scale, ratio=ratio)
    top = int(math.log2(min(height, width)))
    possible = possible_levels(augmentation, height, width, resolution, top)
    for area in torch.linspace(*scale, 25).tolist():
        for log_ratio in torch.linspace(math.log(ratio[0]), math.log(ratio[1]), 25).tolist():
            crop_w = min(math.sqrt(area * math.exp(log_ratio)), 1)
            crop_h = min(math.sqrt(area / math.exp(log_ratio)), 1)
            zoom = max(crop_w * width, crop_h * height) / resolution
            assert min(max(round(math.log2(zoom)), 0), top) in possible


@pytest.mark.parametrize("resolution", [1, 7, 32])
def test_crop_grid_is_affine_grid_of_the_diagonal_map(resolution: int) -> None:
    rand = torch.Generator().manual_seed(0)
    scale_x, offset_x, scale_y, offset_y = torch.rand(4, 5, generator=rand) * 2 - 1
    theta = torch.zeros(5, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = scale_x, offset_x, scale_y, offset_y
    expected = F.affine_grid(theta, [5, 3, resolution, resolution], align_corners=False)
    torch.testing.assert_close(crop_grid(scale_x, offset_x, scale_y, offset_y, resolution), expected)


def test_pad_crop_identity_offsets_return_the_input() -> None:
    x = images()
    pad = 4
    centre = torch.full((16,), pad)
    no_flip = torch.zeros(16, dtype=torch.bool)
    assert torch.equal(pad_crop(x, pad, centre, centre, no_flip), x)
    assert torch.equal(pad_crop(x, pad, centre, centre, ~no_flip), x.flip(-1))


def test_pad_crop_shifts_and_pads_with_black() -> None:
    x = images()
    pad = 4
    corner = torch.zeros(16, dtype=torch.long)
    no_flip = torch.zeros(16, dtype=torch.bool)
    out = pad_crop(x, pad, corner, corner + pad, no_flip)  # window moved up by 4 rows
    assert torch.equal(out[:, :, pad:], x[:, :, :-pad])
    assert int(out[:, :, :pad].max()) == 0


def test_pad_crop_without_padding_or_flip_equals_eval_path() -> None:
    x = images()
    out = train_batch(x, 24, Augmentation(kind="pad-crop", pad_fraction=0, flip=False), *IDENTITY, generator())
    assert torch.equal(out, eval_batch(x, 24, *IDENTITY))


def test_pad_crop_moves_images_by_whole_pixels() -> None:
    x = images(count=32)
    out = train_batch(x, 32, Augmentation(kind="pad-crop", flip=False), *IDENTITY, generator())
    assert not torch.equal(out, eval_batch(x, 32, *IDENTITY))
    assert torch.equal((out * 255).round(), out * 255)  # a gather, no interpolation at the storage size


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "mixup"},
        {"scale": (0.0, 1.0)},
        {"scale": (0.8, 0.5)},
        {"scale": (0.5, 1.5)},
        {"ratio": (0.0, 1.0)},
        {"ratio": (2.0, 1.0)},
        {"pad_fraction": -0.1},
        {"pad_fraction": 0.6},
    ],
)
def test_bad_augmentation_settings_raise(fields: dict) -> None:
    with pytest.raises(ValueError, match="augmentation"):
        Augmentation(**fields)


def test_named_augmentations() -> None:
    named = {name: Augmentation.named(name) for name in AUGMENTATION_NAMES}
    assert named["flip"] == Augmentation(kind="none", flip=True)
    assert named["none"] == Augmentation(kind="none", flip=False)
    assert all(named[kind].kind == kind and named[kind].flip == (kind != "none") for kind in KINDS)
    with pytest.raises(ValueError, match="augmentation must be one of flip, random-resized, pad-crop, none"):
        Augmentation.named("mixup")


def test_bad_batches_raise() -> None:
    with pytest.raises(ValueError, match="uint8"):
        train_batch(images().float(), 16, Augmentation(), *IDENTITY)
    with pytest.raises(ValueError, match="uint8"):
        eval_batch(images()[:, :1], 16, *IDENTITY)

"""Every dataset knows its native resolution: the side its source's images really have, before any resizing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from scaling_search.data import imagefolder as imagefolder_module
from scaling_search.data.dataset import DatasetError, ImageData
from scaling_search.data.detail import upsample, upsampled
from scaling_search.data.imagefolder import native_side
from scaling_search.data.load import load_dataset
from tests.data.test_data_standard import write_idx
from tests.data_helpers import SMALL_SYNTHETIC, arrays


class FakeCifar:
    """Stands in for torchvision's CIFAR10/CIFAR100: the attributes ``load_cifar`` reads, at CIFAR's 32x32 px."""

    def __init__(self, root: str, train: bool, download: bool) -> None:
        count = 20 if train else 10
        self.data = np.random.default_rng(int(train)).integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)
        self.targets = [i % 10 for i in range(count)]
        self.classes = [f"class{i}" for i in range(10)]


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_cifar_is_32_px_native_and_48_px_upsamples_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      name: str) -> None:
    from torchvision import datasets

    monkeypatch.setattr(datasets, "CIFAR10" if name == "cifar10" else "CIFAR100", FakeCifar)
    data = load_dataset(name, resolution=48, data_root=tmp_path, val_fraction=0.5)
    assert data.native_resolution == 32
    assert upsample(48, data.native_resolution) == 1.5 and upsampled(upsample(48, data.native_resolution))
    assert not upsampled(upsample(32, data.native_resolution))
    assert data.summary().endswith("10 classes, native 32 px")


def test_fashion_mnist_is_28_px_native(tmp_path: Path) -> None:
    write_idx(tmp_path, compress=True)
    data = load_dataset("fashion-mnist", resolution=32, data_root=tmp_path, val_fraction=0.2)
    assert data.native_resolution == 28 and upsampled(upsample(32, data.native_resolution))


def test_npz_native_is_the_side_it_stores(tmp_path: Path) -> None:
    x_train, y_train, x_test, y_test = arrays(size=20)
    path = tmp_path / "set.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    data = load_dataset(f"npz:{path}", resolution=64)
    assert data.native_resolution == 20 and data.storage_resolution == 20
    assert upsample(64, data.native_resolution) == 3.2


@pytest.mark.parametrize("resolution", [16, 40])
def test_synthetic_native_is_the_resolution_it_is_rendered_at(resolution: int) -> None:
    data = load_dataset(SMALL_SYNTHETIC, resolution=resolution)
    assert data.native_resolution == resolution
    assert not upsampled(upsample(resolution, data.native_resolution))


def write_png(path: Path, width: int, height: int, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def make_sized_imagefolder(root: Path) -> None:
    """Shorter sides 40, 50, 30 (train/a, train/b), 80 and 36, plus a broken file: the median side is 40."""
    write_png(root / "train" / "a" / "1.png", 40, 60, 1)
    write_png(root / "train" / "a" / "2.png", 50, 50, 2)
    write_png(root / "train" / "b" / "3.png", 70, 30, 3)
    write_png(root / "train" / "b" / "4.png", 80, 80, 4)
    write_png(root / "test" / "a" / "5.png", 36, 36, 5)
    (root / "test" / "a" / "broken.png").write_bytes(b"\x89PNG not really")  # unreadable: no side to count


def count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, the path of every image the ImageFolder loader decodes (none on a cache hit)."""
    decoded: list[str] = []
    decode = imagefolder_module.decode_image

    def counted(path: str, size: int) -> tuple[np.ndarray, int] | str:
        decoded.append(path)
        return decode(path, size)

    monkeypatch.setattr(imagefolder_module, "decode_image", counted)
    return decoded


def test_imagefolder_native_is_the_median_shorter_side_also_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_sized_imagefolder(tmp_path / "set")
    spec, cache = f"imagefolder:{tmp_path / 'set'}", tmp_path / "cache"
    with pytest.warns(UserWarning, match="skipped unreadable"):
        first = load_dataset(spec, resolution=32, cache_dir=cache)
    assert first.native_resolution == 40 and first.storage_resolution == 32
    assert "native 40 px" in first.summary()

    decoded = count_decodes(monkeypatch)
    again = load_dataset(spec, resolution=32, cache_dir=cache)
    assert decoded == [] and again.native_resolution == 40  # read back from the decode cache
    assert upsampled(upsample(48, again.native_resolution)) and not upsampled(upsample(40, again.native_resolution))


@pytest.mark.parametrize("stored", [None, np.array(0), np.array([40, 40]), np.array(40.0)])
def test_imagefolder_cache_without_a_usable_native_resolution_is_decoded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stored: np.ndarray | None
) -> None:
    """A cache entry written before the native resolution was measured (or a damaged one) is rebuilt, not trusted."""
    make_sized_imagefolder(tmp_path / "set")
    spec, cache = f"imagefolder:{tmp_path / 'set'}", tmp_path / "cache"
    with pytest.warns(UserWarning, match="skipped unreadable"):
        first = load_dataset(spec, resolution=32, cache_dir=cache)
    (cache_file,) = cache.glob("*.npz")
    with np.load(cache_file) as archive:
        contents = {key: archive[key] for key in archive.files if key != "native_resolution"}
    if stored is not None:
        contents["native_resolution"] = stored
    np.savez(cache_file, **contents)

    decoded = count_decodes(monkeypatch)
    with pytest.warns(UserWarning, match="skipped unreadable"):
        again = load_dataset(spec, resolution=32, cache_dir=cache)
    assert len(decoded) == 6 and again.native_resolution == 40
    assert torch.equal(again.train_x, first.train_x)
    with np.load(cache_file) as archive:
        assert int(archive["native_resolution"]) == 40  # the rebuilt cache holds it again


def test_imagefolder_measures_a_jpeg_in_its_file_not_at_its_reduced_decoding_scale(tmp_path: Path) -> None:
    """Pillow decodes a large JPEG at a fraction of its size when the storage side allows; the side is the file's."""
    for split, label, seed in (("train", "a", 0), ("train", "a", 1), ("train", "b", 2), ("train", "b", 3),
                               ("test", "a", 4)):
        path = tmp_path / "set" / split / label / f"{seed}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = np.random.default_rng(seed).integers(0, 256, (128, 200, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path, quality=90)
    data = load_dataset(f"imagefolder:{tmp_path / 'set'}", resolution=32, cache_dir=tmp_path / "cache")
    assert data.native_resolution == 128  # decoded at 1/2 or 1/4 scale, which would say 64 or 32


def test_native_side_is_the_lower_median() -> None:
    assert native_side([40, 50, 30]) == 40
    assert native_side([30, 40, 50, 80]) == 40  # even count: a side some file has, not 45
    assert native_side([160]) == 160


@pytest.mark.parametrize("native", [0, -32, 32.0, True, None])
def test_image_data_refuses_a_native_resolution_that_is_no_pixel_count(native: object) -> None:
    data = load_dataset(SMALL_SYNTHETIC, resolution=16)
    fields = {name: getattr(data, name) for name in data.__dataclass_fields__}
    with pytest.raises(DatasetError, match="native_resolution must be a positive integer"):
        ImageData(**{**fields, "native_resolution": native})

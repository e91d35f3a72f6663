"""Dataset loading: every source, the validation split, the ImageFolder cache, and every error message."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from scaling_search.cache import current_umask
from scaling_search.data import (
    DatasetError,
    ImageData,
    eval_batch,
    load_dataset,
    normalisation,
    split_validation,
)
from scaling_search.data import imagefolder as imagefolder_module
from scaling_search.data.standard import DEBIAN_FASHION_MNIST, IDX_FILES

REPO = Path(__file__).resolve().parents[1]
CIFAR_JPEG = REPO.parent / "shared" / "data" / "cifar10-jpeg.npz"
MATERIALIZE = REPO.parent / "shared" / "data" / "materialize.py"
SMALL_SYNTHETIC = "synthetic:classes=4,train=120,test=40"


def check_image_data(data: ImageData, size: int) -> None:
    for split in ("train", "val", "test"):
        x, y = getattr(data, f"{split}_x"), getattr(data, f"{split}_y")
        assert x.dtype == torch.uint8 and x.shape[1:] == (3, size, size) and x.is_contiguous()
        assert y.dtype == torch.int64 and y.shape == (len(x),)
        assert int(y.min()) >= 0 and int(y.max()) < data.num_classes
    assert data.storage_resolution == size
    assert all(0 < m < 1 for m in data.mean) and all(0 < s < 1 for s in data.std)


# --- synthetic ---------------------------------------------------------------------------------------------------


def test_synthetic_defaults() -> None:
    data = load_dataset("synthetic", resolution=32)
    check_image_data(data, 32)
    assert data.name == "synthetic"
    assert data.num_classes == 10
    assert data.class_names[:2] == ("disc-stripes", "square-stripes")
    assert len(data.train_y) + len(data.val_y) == 4000 and len(data.test_y) == 1000
    assert len(data.val_y) == 400
    assert data.skipped == 0


def test_synthetic_options_and_name() -> None:
    data = load_dataset("synthetic:classes=12, train=240,test=24", resolution=20)
    check_image_data(data, 20)
    assert data.name == "synthetic:classes=12,train=240,test=24"
    assert data.num_classes == 12 and len(set(data.class_names)) == 12
    assert torch.bincount(data.test_y, minlength=12).tolist() == [2] * 12


def test_synthetic_is_bit_identical_per_seed() -> None:
    first = load_dataset(SMALL_SYNTHETIC, resolution=24, seed=3)
    again = load_dataset(SMALL_SYNTHETIC, resolution=24, seed=3)
    other = load_dataset(SMALL_SYNTHETIC, resolution=24, seed=4)
    for split in ("train_x", "train_y", "val_x", "val_y", "test_x", "test_y"):
        assert torch.equal(getattr(first, split), getattr(again, split))
    assert not torch.equal(first.test_x, other.test_x)


def test_synthetic_draws_the_same_scenes_at_every_resolution() -> None:
    """Rendered natively: 64 px images averaged down to 32 px match the 32 px ones, up to noise and fine texture."""
    low = load_dataset(SMALL_SYNTHETIC, resolution=32)
    high = load_dataset(SMALL_SYNTHETIC, resolution=64)
    assert torch.equal(low.test_y, high.test_y)
    pooled = torch.nn.functional.avg_pool2d(high.test_x.float(), 2)
    difference = (pooled - low.test_x.float()).abs().mean() / 255
    unrelated = (pooled - low.test_x.float().roll(1, 0)).abs().mean() / 255
    assert difference < 0.05 < unrelated


def test_synthetic_is_learnable() -> None:
    """A three-layer CNN beats chance (25%) clearly after 200 steps at 32 px."""
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        data = load_dataset("synthetic:classes=4,train=800,test=400", resolution=32)
        layers: list[torch.nn.Module] = []
        for channels_in, channels_out in ((3, 16), (16, 32), (32, 64)):
            layers += [torch.nn.Conv2d(channels_in, channels_out, 3, 2, 1), torch.nn.BatchNorm2d(channels_out)]
            layers.append(torch.nn.ReLU())
        model = torch.nn.Sequential(*layers, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(64, 4))
        optimiser = torch.optim.Adam(model.parameters(), 3e-3)
        mean, std = normalisation(data, "cpu")
        generator = torch.Generator().manual_seed(0)
        for _ in range(200):
            batch = torch.randint(0, len(data.train_y), (32,), generator=generator)
            loss = torch.nn.functional.cross_entropy(
                model(eval_batch(data.train_x[batch], 32, mean, std)), data.train_y[batch]
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(eval_batch(data.test_x, 32, mean, std)).argmax(1) == data.test_y).float().mean().item()
    finally:
        torch.set_num_threads(threads)
    assert accuracy > 0.4


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("synthetic:colour=3", "unknown option 'colour=3'; allowed: classes=N, train=N, test=N"),
        ("synthetic:classes", "unknown option 'classes'"),
        ("synthetic:classes=ten", "classes must be an integer, got 'ten'"),
        ("synthetic:classes=1", r"classes must lie in \[2, 24\], got 1"),
        ("synthetic:classes=25", r"classes must lie in \[2, 24\], got 25"),
        ("synthetic:classes=10,train=15", "train must be at least twice classes"),
        ("synthetic:test=0", "test must be >= 1"),
        ("synthetic:10", r"unknown option '10' \(did you mean classes=10\?\)"),
        ("synthetic:classes=4,classes=3", "classes is given twice"),
        ("synthetic:train=99999999999999999999", "needs about .* GiB, more than this machine's .* GiB of memory"),
    ],
)
def test_synthetic_bad_options(spec: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        load_dataset(spec, resolution=16)


# --- split and common arguments ------------------------------------------------------------------------------------


def test_split_is_seeded_stratified_disjoint_and_complete() -> None:
    y = torch.arange(1000) % 7
    train, val = split_validation(y, 0.2, seed=5)
    again_train, again_val = split_validation(y, 0.2, seed=5)
    other_train, _ = split_validation(y, 0.2, seed=6)
    assert torch.equal(train, again_train) and torch.equal(val, again_val)
    assert not torch.equal(train, other_train)
    assert torch.equal(torch.cat([train, val]).sort().values, torch.arange(1000))
    counts = torch.bincount(y[val], minlength=7)
    assert counts.min() >= 28 and counts.max() <= 29


def test_split_keeps_every_class_in_train() -> None:
    y = torch.tensor([0, 0, 1, 1, 1, 1, 2])
    train, val = split_validation(y, 0.25, seed=0)
    assert set(y[train].tolist()) == {0, 1, 2}
    assert sorted(y[val].tolist()) == [0, 1]  # at least one per class, but a lone image stays in train


def test_validation_comes_from_train_and_test_is_untouched(tmp_path: Path) -> None:
    x_train, y_train, x_test, y_test = arrays(train=60, test=20)
    np.savez(tmp_path / "d.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    data = load_dataset(f"npz:{tmp_path / 'd.npz'}", resolution=16, val_fraction=0.2, seed=1)
    assert len(data.val_y) == 12 and len(data.train_y) == 48
    assert torch.equal(data.test_x, torch.from_numpy(x_test).permute(0, 3, 1, 2))
    assert torch.equal(data.test_y, torch.from_numpy(y_test))
    ids = lambda x: set(x[:, 0, 0, 0].tolist())  # noqa: E731 - every image carries its index in pixel (0, 0)
    assert ids(data.train_x).isdisjoint(ids(data.val_x))
    assert ids(data.train_x) | ids(data.val_x) == set(range(60))
    again = load_dataset(f"npz:{tmp_path / 'd.npz'}", resolution=16, val_fraction=0.2, seed=1)
    assert torch.equal(again.val_x, data.val_x)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"spec": "mnist"}, r"unknown dataset 'mnist'; known: synthetic\[:classes=N,train=N,test=N\], cifar10, "),
        ({"spec": "cifar10:x"}, "unknown dataset 'cifar10:x'"),
        ({"spec": "imagefolder:"}, "known: .*imagefolder:PATH, npz:PATH"),
        ({"resolution": 7}, "resolution must be an integer >= 8, got 7"),
        ({"resolution": 32.5}, "resolution must be an integer >= 8, got 32.5"),
        ({"val_fraction": 0.0}, r"val_fraction must lie in \(0, 0.5\], got 0.0"),
        ({"val_fraction": 0.6}, r"val_fraction must lie in \(0, 0.5\], got 0.6"),
        ({"workers": 0}, "workers must be >= 1, got 0"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    arguments = {"spec": SMALL_SYNTHETIC, "resolution": 16, **kwargs}
    with pytest.raises(DatasetError, match=message):
        load_dataset(arguments.pop("spec"), **arguments)


def test_import_stays_light() -> None:
    code = (
        "import sys, scaling_search.data\n"
        "print([m for m in ('ray', 'optuna', 'fvcore', 'torchvision') if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert result.stdout.strip() == "[]"


# --- npz -----------------------------------------------------------------------------------------------------------


def arrays(train: int = 40, test: int = 12, size: int = 16, classes: int = 4, grey: bool = False) -> tuple:
    """Images carrying their index in the first pixel, labels cycling over ``classes``."""
    shape = (size, size) if grey else (size, size, 3)
    x_train = np.random.default_rng(0).integers(0, 256, (train, *shape), dtype=np.uint8)
    x_test = np.random.default_rng(1).integers(0, 256, (test, *shape), dtype=np.uint8)
    x_train[:, 0, 0] = np.arange(train).reshape(-1, *([1] * (len(shape) - 2)))
    return x_train, np.arange(train) % classes, x_test, np.arange(test) % classes


def test_npz_rgb_with_class_names(tmp_path: Path) -> None:
    x_train, y_train, x_test, y_test = arrays()
    path = tmp_path / "rgb.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, class_names=np.array(list("abcd")))
    data = load_dataset(f"npz:{path}", resolution=64)
    check_image_data(data, 16)  # stored at its own size; batches are resized on the device
    assert data.name == f"npz:{path.resolve()}"
    assert data.class_names == ("a", "b", "c", "d")
    assert len(data.train_y) + len(data.val_y) == 40 and len(data.test_y) == 12


def test_npz_grey_becomes_rgb(tmp_path: Path) -> None:
    x_train, y_train, x_test, y_test = arrays(grey=True)
    path = tmp_path / "grey.npz"
    np.savez_compressed(path, x_train=x_train, y_train=y_train.astype(np.uint8), x_test=x_test, y_test=y_test)
    data = load_dataset(f"npz:{path}", resolution=16)
    check_image_data(data, 16)
    assert data.class_names == ("0", "1", "2", "3")
    assert torch.equal(data.test_x[:, 0], data.test_x[:, 2])
    assert torch.equal(data.test_x[:, 0], torch.from_numpy(x_test))


def test_npz_labels_as_a_column_as_keras_stores_them(tmp_path: Path) -> None:
    x_train, y_train, x_test, y_test = arrays()
    path = tmp_path / "keras.npz"
    np.savez(path, x_train=x_train, y_train=y_train[:, None], x_test=x_test, y_test=y_test[:, None])
    data = load_dataset(f"npz:{path}", resolution=16)
    assert torch.equal(data.test_y, torch.from_numpy(y_test).long())


def malformed(tmp_path: Path, **changes: object) -> Path:
    x_train, y_train, x_test, y_test = arrays()
    fields = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test, **changes}
    path = tmp_path / "bad.npz"
    np.savez(path, **{k: v for k, v in fields.items() if v is not None})
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"y_test": None}, "lacks y_test; an npz dataset needs x_train, y_train, x_test, y_test"),
        ({"x_train": np.zeros((4, 16, 16, 3), np.float32)}, "x_train must hold uint8 pixels, got torch.float32"),
        ({"x_train": np.zeros((40, 16, 16, 4), np.uint8)}, r"x_train must be uint8 \[N, H, W, 3\]"),
        ({"x_train": np.zeros((40, 16, 12, 3), np.uint8)}, "x_train images must be square, got 16x12"),
        ({"x_test": np.zeros((12, 8, 8, 3), np.uint8)}, "x_train and x_test must have the same image size"),
        ({"y_train": np.arange(39)}, "y_train must be a 1-D array of 40 labels"),
        ({"y_train": np.full(40, 0.5)}, "y_train must hold integer class labels"),
        ({"y_test": -np.ones(12, np.int64)}, "labels must be class indices >= 0, got -1"),
        ({"class_names": np.array(["a", "b"])}, r"y_train has label 3, but there are 2 classes \(labels 0..1\)"),
        ({"y_test": np.full(12, 4)}, r"y_test has label 4, but there are 4 classes \(labels 0..3, the ones in y_train"),
        ({"y_train": np.arange(40) % 2 * 4 + 3}, "class '0', '1', '2', '4', '5' and 1 more has no training images"),
        ({"y_train": np.arange(40) % 2 * 10**9}, "y_train's labels go up to 1000000000 with only 40 training images"),
        ({"class_names": np.array(list("abcde"))}, "class 'e' has no training images"),
        ({"class_names": np.array(["a", "b", "a", "c"])}, "class names must differ, got 'a' more than once"),
        ({"y_train": np.array(["cat", "dog"] * 20)}, "y_train must hold integer class labels, got <U3"),
        ({"x_val": np.zeros((4, 16, 16, 3), np.uint8)}, "a validation split needs both x_val and y_val"),
        ({"x_val": np.zeros((4, 8, 8, 3), np.uint8), "y_val": np.zeros(4, np.int64)},
         "x_train and x_val must have the same image size"),
        ({"y_train": np.zeros(40, np.int64), "y_test": np.zeros(12, np.int64)}, "needs at least 2 classes"),
        ({"class_names": np.array([{"a": 1}], dtype=object)}, "plain \\(unpickled\\) arrays"),
    ],
)
def test_npz_malformed(tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        load_dataset(f"npz:{malformed(tmp_path, **changes)}", resolution=16)


def test_npz_not_a_file_or_not_an_archive(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"npz file not found: .*missing\.npz"):
        load_dataset(f"npz:{tmp_path / 'missing.npz'}", resolution=16)
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(DatasetError, match=r"is not an .npz archive"):
        load_dataset(f"npz:{tmp_path / 'text.npz'}", resolution=16)
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(DatasetError, match=r"is not an .npz archive"):
        load_dataset(f"npz:{tmp_path / 'single.npy'}", resolution=16)


# --- Fashion-MNIST and CIFAR -----------------------------------------------------------------------------------------


def write_idx(folder: Path, compress: bool) -> tuple[np.ndarray, np.ndarray]:
    """Four small IDX files as the official distribution lays them out; returns the test images and labels."""
    rng = np.random.default_rng(0)
    contents = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(30) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": np.arange(10).astype(np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in contents.items():
        header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, dtype=">i4").tobytes()
        raw = header + array.tobytes()
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)
    return contents["t10k-images-idx3-ubyte"], contents["t10k-labels-idx1-ubyte"]


@pytest.mark.parametrize("compress", [True, False])
def test_fashion_mnist_reads_idx_files(tmp_path: Path, compress: bool) -> None:
    test_x, test_y = write_idx(tmp_path, compress)
    data = load_dataset("fashion-mnist", resolution=32, data_root=tmp_path, val_fraction=0.2)
    check_image_data(data, 28)
    assert data.class_names[0] == "T-shirt/top" and data.num_classes == 10
    assert len(data.train_y) == 20 and len(data.val_y) == 10
    assert torch.equal(data.test_x[:, 1], torch.from_numpy(test_x))
    assert torch.equal(data.test_y, torch.from_numpy(test_y).long())


def test_fashion_mnist_in_torchvision_layout(tmp_path: Path) -> None:
    write_idx(tmp_path / "FashionMNIST" / "raw", compress=False)
    assert len(load_dataset("fashion-mnist", resolution=28, data_root=tmp_path).test_y) == 10


def test_fashion_mnist_truncated_idx(tmp_path: Path) -> None:
    write_idx(tmp_path, compress=False)
    path = tmp_path / IDX_FILES[0]
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(DatasetError, match="is truncated or malformed"):
        load_dataset("fashion-mnist", resolution=28, data_root=tmp_path)


def test_fashion_mnist_corrupt_gzip(tmp_path: Path) -> None:
    write_idx(tmp_path, compress=True)
    path = tmp_path / f"{IDX_FILES[0]}.gz"
    damaged = bytearray(path.read_bytes())
    damaged[12:40] = bytes(range(28))  # inside the deflate stream
    path.write_bytes(bytes(damaged))
    with pytest.raises(DatasetError, match="cannot read IDX file"):
        load_dataset("fashion-mnist", resolution=28, data_root=tmp_path)


def test_fashion_mnist_missing(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=f"no IDX files .* in {tmp_path} .*--download.*dataset-fashion-mnist"):
        load_dataset("fashion-mnist", resolution=28, data_root=tmp_path)


@pytest.mark.skipif(
    not (DEBIAN_FASHION_MNIST / "train-images-idx3-ubyte.gz").exists(),
    reason=f"Fashion-MNIST is not installed in {DEBIAN_FASHION_MNIST} (apt-get install dataset-fashion-mnist)",
)
def test_fashion_mnist_real_files() -> None:
    data = load_dataset("fashion-mnist", resolution=28)  # the Debian folder is the default data root
    check_image_data(data, 28)
    assert len(data.train_y) + len(data.val_y) == 60000 and len(data.test_y) == 10000
    assert len(data.val_y) == 6000
    assert torch.bincount(data.test_y).tolist() == [1000] * 10
    assert torch.equal(data.train_x[:, 0], data.train_x[:, 2])
    assert 0.25 < data.mean[0] < 0.32  # Fashion-MNIST's published mean is 0.286


def test_cifar_missing(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=f"cifar10: no usable copy under {tmp_path} .*pass --download"):
        load_dataset("cifar10", resolution=32, data_root=tmp_path)


def test_cifar_download_that_fails_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib.error

    from torchvision import datasets

    def offline(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(datasets, "CIFAR100", offline)
    with pytest.raises(DatasetError, match=r"cifar100: no usable copy .*could not download it there"):
        load_dataset("cifar100", resolution=32, data_root=tmp_path, download=True)


def test_fashion_mnist_download_that_fails_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from torchvision import datasets

    def offline(*args: object, **kwargs: object) -> None:  # torchvision's own message spans several lines
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried http://x/, got:\n<urlopen error>\n")

    monkeypatch.setattr(datasets, "FashionMNIST", offline)
    with pytest.raises(DatasetError) as caught:
        load_dataset("fashion-mnist", resolution=32, data_root=tmp_path, download=True)
    assert "\n" not in str(caught.value) and "download into" in str(caught.value)
    assert "ubyte.gz: Tried http://x/, got: <urlopen error>" in str(caught.value)


# --- imagefolder -----------------------------------------------------------------------------------------------------


def save(path: Path, image: Image.Image, **options: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **options)


def noise(size: tuple[int, int], seed: int, mode: str = "RGB") -> Image.Image:
    bands = len(Image.new(mode, (1, 1)).getbands())
    shape = (size[1], size[0], bands) if bands > 1 else (size[1], size[0])
    pixels = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    return Image.fromarray(pixels).convert(mode) if mode != "RGB" else Image.fromarray(pixels)


def make_imagefolder(root: Path) -> None:
    """train/{cat,dog}: 5 + 4 readable images of many sizes and formats, 2 broken files, hidden files.

    val/cat holds one image of each awkward mode, in a known order, so tests can check each one.
    """
    for i, size in enumerate([(40, 40), (64, 48), (20, 30), (100, 100), (33, 77)]):
        save(root / "train" / "cat" / f"{i}.png", noise(size, i))
    save(root / "train" / "dog" / "a.jpg", noise((50, 50), 10), quality=90)
    save(root / "train" / "dog" / "b.bmp", noise((32, 32), 11))
    save(root / "train" / "dog" / "nested" / "c.webp", noise((45, 60), 12))
    save(root / "train" / "dog" / "d.gif", noise((36, 36), 13, "P"))
    (root / "train" / "dog" / "broken.png").write_bytes((root / "train" / "cat" / "0.png").read_bytes()[:60])
    (root / "train" / "dog" / "notes.jpg").write_text("not an image at all\n")
    (root / "train" / "dog" / ".DS_Store").write_bytes(b"\0\1\2")
    (root / "train" / ".hidden_class").mkdir()

    grey = Image.fromarray(np.tile(np.arange(0, 256, 4, dtype=np.uint8), (64, 1)))
    save(root / "val" / "cat" / "1_grey.png", grey)
    save(root / "val" / "cat" / "2_sixteen.png", Image.fromarray(np.full((40, 40), 32768, np.uint16)))
    transparent = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    save(root / "val" / "cat" / "3_transparent.png", transparent)
    palette = Image.new("P", (40, 40))
    palette.putpalette([0, 0, 255] * 256)
    save(root / "val" / "cat" / "4_palette.png", palette)
    save(root / "val" / "cat" / "5_cmyk.jpg", Image.new("CMYK", (40, 40), (0, 255, 255, 0)), quality=95)
    wide = np.zeros((32, 96, 3), np.uint8)
    wide[:, :32, 0], wide[:, 32:64, 1], wide[:, 64:, 2] = 255, 255, 255  # red | green | blue
    save(root / "val" / "cat" / "6_wide.png", Image.fromarray(wide))


def test_imagefolder_mixed_modes(tmp_path: Path) -> None:
    make_imagefolder(tmp_path / "set")
    with pytest.warns(UserWarning, match=r"skipped 2 unreadable files, e.g. .*dog/broken.png \(OSError: .*truncated"):
        data = load_dataset(f"imagefolder:{tmp_path / 'set'}", resolution=24, cache_dir=tmp_path / "cache", workers=2)
    check_image_data(data, 32)  # stored at max(resolution, 32)
    assert data.name == f"imagefolder:{(tmp_path / 'set').resolve()}"
    assert data.class_names == ("cat", "dog")
    assert data.skipped == 2  # broken.png and notes.jpg; hidden files are not counted
    assert len(data.train_y) + len(data.val_y) == 9
    assert sorted(torch.cat([data.train_y, data.val_y]).tolist()) == [0] * 5 + [1] * 4
    assert data.test_y.tolist() == [0] * 6

    grey, sixteen, transparent, palette, cmyk, wide = data.test_x.int()
    assert torch.equal(grey[0], grey[1]) and torch.equal(grey[0], grey[2])
    assert grey[0, :, 0].max() < 20 and grey[0, :, -1].min() > 230  # the ramp survives the resize
    assert (sixteen - 128).abs().max() <= 1  # 32768 of 65535 is mid-grey
    assert int(transparent.min()) == 255  # transparent pixels land on white
    assert palette.view(3, -1).float().mean(1).tolist() == [0.0, 0.0, 255.0]
    assert cmyk[0].float().mean() > 200 and cmyk[1:].float().mean() < 50  # CMYK (0, 255, 255, 0) is red
    centre = wide[:, 4:-4, 4:-4].reshape(3, -1)  # the centre crop of a red|green|blue strip is green
    assert centre[1].min() == 255 and centre[0].max() == 0 and centre[2].max() == 0


def test_imagefolder_uses_test_folder_and_class_subset(tmp_path: Path) -> None:
    for name in ("ant", "bee", "cow"):
        for i in range(3):
            save(tmp_path / "train" / name / f"{i}.png", noise((40, 40), i))
    save(tmp_path / "test" / "bee" / "0.png", noise((40, 40), 9))
    data = load_dataset(f"imagefolder:{tmp_path}", resolution=40, cache_dir=tmp_path / ".cache")
    check_image_data(data, 40)
    assert data.class_names == ("ant", "bee", "cow")
    assert data.test_y.tolist() == [1]


def test_imagefolder_cache_is_used_and_invalidated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_imagefolder(tmp_path / "set")
    spec, cache = f"imagefolder:{tmp_path / 'set'}", tmp_path / "cache"
    first = load_dataset(spec, resolution=32, cache_dir=cache)
    assert len(list(cache.glob("imagefolder-set-*-32px-*.npz"))) == 1

    decoded: list[str] = []
    decode = imagefolder_module.decode_image
    monkeypatch.setattr(
        imagefolder_module, "decode_image", lambda path, size: decoded.append(path) or decode(path, size)
    )
    second = load_dataset(spec, resolution=32, cache_dir=cache)
    assert decoded == []  # read from the cache
    for split in ("train_x", "train_y", "val_x", "val_y", "test_x", "test_y"):
        assert torch.equal(getattr(first, split), getattr(second, split))
    assert second.skipped == first.skipped == 2

    save(tmp_path / "set" / "train" / "cat" / "new.png", noise((40, 40), 99))
    third = load_dataset(spec, resolution=32, cache_dir=cache)
    assert len(decoded) == 18  # a new file changes the key: all 12 train and 6 val files are decoded again
    assert len(third.train_y) + len(third.val_y) == 10
    assert len(list(cache.glob("imagefolder-set-*-32px-*.npz"))) == 1  # the stale cache is replaced
    load_dataset(spec, resolution=48, cache_dir=cache)
    assert len(list(cache.glob("imagefolder-set-*.npz"))) == 2  # one per storage resolution


def test_imagefolder_loaded_by_two_at_once_is_decoded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_imagefolder(tmp_path / "set")
    decoded: list[str] = []
    decode = imagefolder_module.decode_image

    def slow_decode(path: str, size: int):
        time.sleep(0.02)  # long enough that the second loader arrives while the first decodes
        decoded.append(path)
        return decode(path, size)

    monkeypatch.setattr(imagefolder_module, "decode_image", slow_decode)
    load = partial(load_dataset, f"imagefolder:{tmp_path / 'set'}", resolution=32, cache_dir=tmp_path / "cache")
    with ThreadPoolExecutor(2) as pool:  # flock locks conflict between open files, so threads stand in for processes
        first, second = pool.map(lambda _: load(), range(2))
    assert len(decoded) == 17  # each of the 11 train and 6 val files once
    assert torch.equal(first.train_x, second.train_x) and first.skipped == second.skipped == 2


def test_imagefolder_decoding_reports_progress_then_the_cache_is_silent(tmp_path: Path) -> None:
    make_imagefolder(tmp_path / "set")
    calls: list[tuple[int, int]] = []
    load = partial(load_dataset, f"imagefolder:{tmp_path / 'set'}", resolution=32, cache_dir=tmp_path / "cache",
                   workers=1, progress=lambda done, total: calls.append((done, total)))
    load()
    assert calls[0] == (0, 17) and calls[-1] == (17, 17)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    calls.clear()
    load()
    assert calls == []  # a cache hit decodes nothing


def test_imagefolder_scales_high_depth_images_by_mode_not_by_image(tmp_path: Path) -> None:
    """Equal sample values decode equal in every file, whatever else the file holds."""

    def pgm(path: Path, values: np.ndarray) -> None:  # 16-bit binary PGM, which Pillow opens in mode "I"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"P5\n16 16\n65535\n" + values.astype(">u2").tobytes())

    for name, level in (("a", 200), ("b", 300)):
        pgm(tmp_path / "train" / name / "0.pgm", np.full((16, 16), level))
        pgm(tmp_path / "train" / name / "1.pgm", np.full((16, 16), 32768))
    flat, bright_pixel = np.full((32, 32), 0.5, np.float32), np.full((32, 32), 0.5, np.float32)
    bright_pixel[0, 0] = 1.02  # a highlight just past 1 must not change how the rest of the image maps
    save(tmp_path / "test" / "a" / "0.tif", Image.fromarray(flat))
    save(tmp_path / "test" / "a" / "1.tif", Image.fromarray(bright_pixel))
    data = load_dataset(f"imagefolder:{tmp_path}", resolution=32, cache_dir=tmp_path / ".cache")
    train = torch.cat([data.train_x, data.val_x]).float().mean((1, 2, 3)).round().tolist()
    assert sorted(train) == [1.0, 1.0, 128.0, 128.0]  # 200 and 300 of 65535 are both near black
    assert data.test_x[:, :, 16, 16].tolist() == [[128] * 3, [128] * 3]


def test_imagefolder_counts_loose_files_as_they_are_now_and_skips_non_files(tmp_path: Path) -> None:
    make_imagefolder(tmp_path / "set")
    spec, cache = f"imagefolder:{tmp_path / 'set'}", tmp_path / "cache"
    assert load_dataset(spec, resolution=32, cache_dir=cache).skipped == 2
    (tmp_path / "set" / "train" / "labels.csv").write_text("a file outside any class folder\n")
    assert load_dataset(spec, resolution=32, cache_dir=cache).skipped == 3  # cache hit, loose file counted
    (tmp_path / "set" / "train" / "labels.csv").unlink()
    assert load_dataset(spec, resolution=32, cache_dir=cache).skipped == 2
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "set" / "train" / "cat" / "pipe.png")  # opening it would block forever
        with pytest.warns(UserWarning, match="3 unreadable files"):
            assert load_dataset(spec, resolution=32, cache_dir=cache).skipped == 3


def test_imagefolder_ignores_a_corrupt_cache(tmp_path: Path) -> None:
    make_imagefolder(tmp_path / "set")
    spec, cache = f"imagefolder:{tmp_path / 'set'}", tmp_path / "cache"
    first = load_dataset(spec, resolution=32, cache_dir=cache)
    (cache_file,) = cache.glob("*.npz")
    cache_file.write_bytes(b"garbage")
    assert torch.equal(load_dataset(spec, resolution=32, cache_dir=cache).test_x, first.test_x)


def test_imagefolder_loads_when_the_cache_cannot_be_written(tmp_path: Path) -> None:
    make_imagefolder(tmp_path / "set")
    (tmp_path / "file").write_text("a file where the cache folder would go")
    with pytest.warns(UserWarning, match="could not cache the decoded"):
        data = load_dataset(f"imagefolder:{tmp_path / 'set'}", resolution=32, cache_dir=tmp_path / "file" / "cache")
    assert len(data.test_y) == 6


def test_imagefolder_with_val_and_test_uses_val_for_validation(tmp_path: Path) -> None:
    seeds = iter(range(100))
    for split, count in (("train", 4), ("val", 2), ("test", 3)):
        for name in ("ant", "bee"):
            for i in range(count):
                save(tmp_path / split / name / f"{i}.png", noise((20, 20), next(seeds)))
    data = load_dataset(f"imagefolder:{tmp_path}", resolution=16, cache_dir=tmp_path / ".cache", val_fraction=0.5)
    assert data.val_source == "given"
    assert (len(data.train_y), len(data.val_y), len(data.test_y)) == (8, 4, 6)
    again = load_dataset(f"imagefolder:{tmp_path}", resolution=16, cache_dir=tmp_path / ".cache")  # from the cache
    assert again.val_source == "given"
    assert torch.equal(again.val_x, data.val_x) and torch.equal(again.test_x, data.test_x)
    only_val = tmp_path / "only_val"
    shutil.copytree(tmp_path / "train", only_val / "train")
    shutil.copytree(tmp_path / "val", only_val / "val")
    carved = load_dataset(f"imagefolder:{only_val}", resolution=16, cache_dir=tmp_path / ".cache")
    assert carved.val_source == "carved" and len(carved.test_y) == 4  # val/ alone is the test split


def test_imagefolder_follows_linked_folders_once_and_counts_loose_files(tmp_path: Path) -> None:
    root = tmp_path / "set"
    for name in ("ant", "bee"):
        save(root / "train" / name / "0.png", noise((20, 20), 0))
    save(root / "val" / "ant" / "0.png", noise((20, 20), 1))
    save(tmp_path / "elsewhere" / "1.png", noise((20, 20), 2))
    save(tmp_path / "elsewhere" / "2.png", noise((20, 20), 3))
    (root / "train" / "ant" / "more").symlink_to(tmp_path / "elsewhere")
    (root / "train" / "ant" / "again").symlink_to(tmp_path / "elsewhere")  # the same folder twice: read once
    (root / "train" / "bee" / "loop").symlink_to(root / "train" / "bee")  # a cycle must not hang
    (root / "train" / "ant" / "up").symlink_to(root / "train")  # would reach bee's images as ants
    (root / "train" / "readme.txt").write_text("no class")
    save(root / "val" / "stray.png", noise((20, 20), 4))
    data = load_dataset(f"imagefolder:{root}", resolution=16, cache_dir=tmp_path / "cache")
    labels = torch.cat([data.train_y, data.val_y]).tolist()
    assert labels.count(0) == 3 and labels.count(1) == 1
    assert data.skipped == 2  # readme.txt and stray.png lie outside class folders


def test_imagefolder_class_names_match_in_any_unicode_form(tmp_path: Path) -> None:
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    for name in (composed, "tea"):
        for i in range(2):
            save(tmp_path / "train" / name / f"{i}.png", noise((20, 20), i))
    save(tmp_path / "val" / decomposed / "0.png", noise((20, 20), 5))
    data = load_dataset(f"imagefolder:{tmp_path}", resolution=16, cache_dir=tmp_path / ".cache")
    assert data.class_names == (composed, "tea") and data.test_y.tolist() == [0]


def test_imagefolder_cache_notices_permission_changes_and_damage(tmp_path: Path) -> None:
    make_imagefolder(tmp_path / "set")
    spec, cache = f"imagefolder:{tmp_path / 'set'}", tmp_path / "cache"
    first = load_dataset(spec, resolution=32, cache_dir=cache)
    (before,) = cache.glob("*.npz")
    assert before.stat().st_mode & 0o777 == 0o666 & ~current_umask()  # shareable, not mkstemp's 0600
    os.chmod(tmp_path / "set" / "train" / "cat" / "0.png", 0o600)  # same size and mtime, new status-change time
    load_dataset(spec, resolution=32, cache_dir=cache)
    (after,) = cache.glob("*.npz")
    assert after.name != before.name
    damaged = bytearray(after.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # a flipped byte inside the arrays: a CRC error, not a crash
    after.write_bytes(bytes(damaged))
    assert torch.equal(load_dataset(spec, resolution=32, cache_dir=cache).test_x, first.test_x)
    after.write_bytes(bytes(damaged[: len(damaged) // 2]))  # cut in half
    assert torch.equal(load_dataset(spec, resolution=32, cache_dir=cache).test_x, first.test_x)


def test_imagefolder_float_images_in_unit_range(tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(0, 1, 32, dtype=np.float32), (32, 1))
    for name in ("a", "b"):
        for i in range(2):
            save(tmp_path / "train" / name / f"{i}.tif", Image.fromarray(ramp))
    save(tmp_path / "val" / "a" / "0.tif", Image.fromarray(ramp))
    data = load_dataset(f"imagefolder:{tmp_path}", resolution=32, cache_dir=tmp_path / ".cache")
    assert data.skipped == 0 and int(data.test_x[0, 0, 0, 0]) < 10 and int(data.test_x[0, 0, 0, -1]) > 245


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({}, "is not a folder; an imagefolder dataset needs PATH/train/<class>/ and PATH/val/<class>/"),
        ({"val/a/0.png": True}, "has no train/ folder"),
        ({"train/a/0.png": True}, "has neither val/ nor test/"),
        ({"train/x.png": True, "val/a/0.png": True}, "train holds no class folders"),
        ({"train/a/0.png": True, "train/b/": None, "val/a/0.png": True}, "class folder .*train/b holds no files"),
        ({"train/a/0.png": True, "train/b/0.txt": False, "val/a/0.png": True}, "no readable images in train/b"),
        ({"train/a/0.png": True, "val/c/0.png": True}, "has classes that train/ lacks: c"),
        ({"train/a/0.png": True, "val/a/": None}, "holds no images"),
        ({"train/a/0.png": True, "val/a/0.png": False}, "no readable images in .*val; Pillow could open none"),
        ({"train/a/0.png": True, "test/0.png": True}, "test holds 1 files but none in a class folder"),
    ],
)
def test_imagefolder_errors(tmp_path: Path, layout: dict, message: str) -> None:
    """Each entry: a folder (None), an image (True) or a text file (False)."""
    root = tmp_path / "set"
    for relative, kind in layout.items():
        path = root / relative
        if kind is None:
            path.mkdir(parents=True, exist_ok=True)
        elif kind:
            save(path, noise((20, 20), 0))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("text")
    with pytest.raises(DatasetError, match=message):
        load_dataset(f"imagefolder:{root}", resolution=16, cache_dir=tmp_path / "cache")
    if (root / "train").is_dir() and (root / "val").is_dir():  # the split folder named instead of the dataset
        with pytest.raises(DatasetError, match=r"train has no train/ folder \(name its parent, .*set, instead\)"):
            load_dataset(f"imagefolder:{root / 'train'}", resolution=16, cache_dir=tmp_path / "cache")


@pytest.mark.skipif(not CIFAR_JPEG.exists(), reason=f"{CIFAR_JPEG} is absent (it lives beside the repository)")
def test_imagefolder_real_cifar10_jpegs(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(MATERIALIZE), str(CIFAR_JPEG), str(tmp_path / "c10"), "--per-class", "20"],
        check=True,
        capture_output=True,
    )
    data = load_dataset(f"imagefolder:{tmp_path / 'c10'}", resolution=32, cache_dir=tmp_path / "cache")
    check_image_data(data, 32)
    assert data.class_names == tuple(sorted(p.name for p in (tmp_path / "c10" / "train").iterdir()))
    assert data.num_classes == 10 and data.skipped == 0
    assert len(data.train_y) + len(data.val_y) == 200 and len(data.test_y) == 200
    files = sorted((tmp_path / "c10" / "test").glob("*/*.jpg"))
    expected = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])
    assert torch.equal(data.test_x, torch.from_numpy(expected).permute(0, 3, 1, 2))  # 32 px JPEGs: decoded as is


def test_npz_accepts_any_integer_label_dtype_and_byte_order(tmp_path: Path) -> None:
    x_train, y_train, x_test, y_test = arrays()
    path = tmp_path / "bigendian.npz"
    np.savez(path, x_train=x_train, y_train=y_train.astype(">i8"), x_test=x_test, y_test=y_test.astype(np.uint16))
    data = load_dataset(f"npz:{path}", resolution=16)
    assert sorted(torch.cat([data.train_y, data.val_y]).tolist()) == sorted(y_train.tolist())
    assert data.test_y.tolist() == y_test.tolist()


def test_npz_with_its_own_validation_split_uses_it_instead_of_carving(tmp_path: Path) -> None:
    x_train, y_train, x_test, y_test = arrays()
    x_val, y_val = x_test[:6].copy(), y_test[:6].copy()
    path = tmp_path / "with_val.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val, x_test=x_test, y_test=y_test)
    data = load_dataset(f"npz:{path}", resolution=16, val_fraction=0.5)
    assert data.val_source == "given"
    assert torch.equal(data.train_y, torch.from_numpy(y_train)) and len(data.train_x) == len(x_train)
    assert torch.equal(data.val_x, torch.from_numpy(x_val).permute(0, 3, 1, 2))
    assert load_dataset(f"npz:{malformed(tmp_path)}", resolution=16).val_source == "carved"


def test_npz_path_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"is a folder; npz:PATH names one \.npz file"):
        load_dataset(f"npz:{tmp_path}", resolution=16)

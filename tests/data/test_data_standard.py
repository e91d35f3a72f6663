"""Fashion-MNIST from its IDX files (Debian's or torchvision's layout) and CIFAR through torchvision."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from scaling_search.data.dataset import DatasetError
from scaling_search.data.load import load_dataset
from scaling_search.data.standard import DEBIAN_FASHION_MNIST, IDX_FILES
from tests.data_helpers import check_image_data


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


def test_fashion_mnist_download_that_fails_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from torchvision import datasets

    def offline(*args: object, **kwargs: object) -> None:  # torchvision's own message spans several lines
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried http://x/, got:\n<urlopen error>\n")

    monkeypatch.setattr(datasets, "FashionMNIST", offline)
    with pytest.raises(DatasetError) as caught:
        load_dataset("fashion-mnist", resolution=32, data_root=tmp_path, download=True)
    assert "\n" not in str(caught.value) and "download into" in str(caught.value)
    assert "ubyte.gz: Tried http://x/, got: <urlopen error>" in str(caught.value)


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

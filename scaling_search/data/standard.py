"""The standard small benchmarks: CIFAR-10, CIFAR-100 (through torchvision) and Fashion-MNIST.

Fashion-MNIST is read straight from its four IDX files (gzipped or not) when the data folder holds
them, which is how Debian's ``dataset-fashion-mnist`` package installs them under
``/usr/share/datasets/fashion-mnist``; otherwise torchvision's layout (``ROOT/FashionMNIST/raw``)
is used, which ``download=True`` fills. torchvision is imported only when it is needed.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from scaling_search.data.arrays import splits_from_arrays
from scaling_search.data.dataset import DatasetError, Splits

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def default_fashion_mnist_root(fallback: Path) -> Path:
    """Debian's install folder when it holds the files, else ``fallback``."""
    return DEBIAN_FASHION_MNIST if find_idx_files(DEBIAN_FASHION_MNIST) else fallback


def load_cifar(root: Path, classes: int, download: bool) -> Splits:
    """CIFAR-10 or CIFAR-100 from torchvision's files under ``root`` (python pickles)."""
    from torchvision import datasets

    dataset_class = datasets.CIFAR10 if classes == 10 else datasets.CIFAR100
    name = f"cifar{classes}"
    try:
        train = dataset_class(str(root), train=True, download=download)
        test = dataset_class(str(root), train=False, download=download)
    except (RuntimeError, OSError) as err:
        remedy = (
            "could not download it there; check the network, or put torchvision's extracted CIFAR files there"
            if download
            else "pass --download to fetch it with torchvision, or point --data-root at a folder that holds "
            "torchvision's extracted CIFAR files"
        )
        raise DatasetError(f"{name}: no usable copy under {root} ({' '.join(str(err).split())}); {remedy}") from None
    return splits_from_arrays(train.data, train.targets, test.data, test.targets, tuple(train.classes), name)


def load_fashion_mnist(root: Path, download: bool) -> Splits:
    """Fashion-MNIST from IDX files directly in ``root`` or in torchvision's layout below it."""
    files = find_idx_files(root) or find_idx_files(root / "FashionMNIST" / "raw")
    if files is None and download:
        from torchvision import datasets

        try:
            datasets.FashionMNIST(str(root), train=True, download=True)
            datasets.FashionMNIST(str(root), train=False, download=True)
        except (RuntimeError, OSError) as err:
            raise DatasetError(f"fashion-mnist: download into {root} failed: {' '.join(str(err).split())}") from None
        files = find_idx_files(root / "FashionMNIST" / "raw")
    if files is None:
        raise DatasetError(
            f"fashion-mnist: no IDX files (train-images-idx3-ubyte[.gz] and the other three) in {root} "
            f"or {root / 'FashionMNIST' / 'raw'}; pass --download to fetch them with torchvision, "
            f"or install Debian's dataset-fashion-mnist package (files in {DEBIAN_FASHION_MNIST})"
        )
    train_x, train_y, test_x, test_y = (read_idx(path) for path in files)
    return splits_from_arrays(train_x, train_y, test_x, test_y, FASHION_MNIST_CLASSES, "fashion-mnist")


def find_idx_files(folder: Path) -> list[Path] | None:
    """The four Fashion-MNIST IDX files in ``folder`` (each plain or ``.gz``), in IDX_FILES order, or None."""
    found = []
    for stem in IDX_FILES:
        candidates = [folder / stem, folder / f"{stem}.gz"]
        existing = [path for path in candidates if path.is_file()]
        if not existing:
            return None
        found.append(existing[0])
    return found


def read_idx(path: Path) -> np.ndarray:
    """An unsigned-byte IDX array (the MNIST file format): magic 0x0000 08 <ndim>, big-endian int32 sizes, data."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError, zlib.error) as err:
        raise DatasetError(f"cannot read IDX file {path}: {err}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DatasetError(f"{path} is not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4)) if len(raw) >= header else ()
    if len(shape) != ndim or len(raw) != header + int(np.prod(shape)):
        raise DatasetError(f"{path} is truncated or malformed: its header promises shape {shape}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()  # writable, as torch wants

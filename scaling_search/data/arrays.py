"""Datasets given as arrays: checking uint8 image arrays and reading ``npz:PATH`` files.

An ``.npz`` file holds ``x_train, y_train, x_test, y_test`` with images as uint8 NHWC (1 or 3
channels) or NHW grayscale, square, and integer labels in ``[0, num_classes)``; an optional
``class_names`` array of strings names the classes (otherwise they are "0", "1", ...).
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np
import torch

from scaling_search.data.dataset import DatasetError, Splits


def images_to_tensor(x: np.ndarray | torch.Tensor, what: str) -> torch.Tensor:
    """uint8 NHWC (1 or 3 channels) or NHW images as a contiguous uint8 [N, 3, H, W] tensor; grey becomes RGB."""
    x = torch.as_tensor(x)
    if x.dtype != torch.uint8:
        raise DatasetError(f"{what} must hold uint8 pixels, got {x.dtype}")
    if x.dim() == 3:
        x = x.unsqueeze(-1)
    if x.dim() != 4 or x.shape[-1] not in (1, 3):
        raise DatasetError(f"{what} must be uint8 [N, H, W, 3], [N, H, W, 1] or [N, H, W], got shape {tuple(x.shape)}")
    if x.shape[1] != x.shape[2] or x.shape[1] < 1:
        raise DatasetError(f"{what} images must be square, got {x.shape[1]}x{x.shape[2]}")
    return x.permute(0, 3, 1, 2).expand(-1, 3, -1, -1).contiguous()


def labels_to_tensor(y: np.ndarray | torch.Tensor, count: int, what: str) -> torch.Tensor:
    """Integer labels as int64 [count]."""
    y = torch.as_tensor(y)
    if y.dtype.is_floating_point or y.dtype.is_complex or y.dtype == torch.bool:
        raise DatasetError(f"{what} must hold integer class labels, got {y.dtype}")
    if tuple(y.shape) != (count,):
        raise DatasetError(f"{what} must be a 1-D array of {count} labels (one per image), got shape {tuple(y.shape)}")
    return y.to(torch.int64)


def splits_from_arrays(
    x_train: np.ndarray | torch.Tensor,
    y_train: np.ndarray | torch.Tensor,
    x_test: np.ndarray | torch.Tensor,
    y_test: np.ndarray | torch.Tensor,
    class_names: tuple[str, ...] | None,
    source: str,
) -> Splits:
    """Check and convert one dataset's arrays; class names default to the label numbers."""
    train_x = images_to_tensor(x_train, f"{source}: x_train")
    test_x = images_to_tensor(x_test, f"{source}: x_test")
    if train_x.shape[1:] != test_x.shape[1:]:
        raise DatasetError(
            f"{source}: x_train and x_test must have the same image size, got "
            f"{tuple(train_x.shape[2:])} and {tuple(test_x.shape[2:])}"
        )
    if len(train_x) == 0:
        raise DatasetError(f"{source}: x_train holds no images")
    train_y = labels_to_tensor(y_train, len(train_x), f"{source}: y_train")
    test_y = labels_to_tensor(y_test, len(test_x), f"{source}: y_test")
    labels = torch.cat([train_y, test_y])
    if class_names is None:
        class_names = tuple(str(i) for i in range(int(labels.max()) + 1))
    if len(class_names) < 2:
        raise DatasetError(f"{source}: a classification dataset needs at least 2 classes, got {len(class_names)}")
    if int(labels.min()) < 0 or int(labels.max()) >= len(class_names):
        raise DatasetError(
            f"{source}: labels must lie in [0, {len(class_names)}) for {len(class_names)} classes, "
            f"got {int(labels.min())}..{int(labels.max())}"
        )
    return Splits(class_names, train_x, train_y, test_x, test_y)


def load_npz(path: Path) -> Splits:
    """Read ``x_train, y_train, x_test, y_test`` (and optional ``class_names``) from an ``.npz`` file."""
    if not path.is_file():
        raise DatasetError(f"npz file not found: {path}")
    if not zipfile.is_zipfile(path):
        raise DatasetError(f"{path} is not an .npz archive (as written by numpy.savez)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zlib.error, zipfile.BadZipFile) as err:
        raise DatasetError(f"cannot read {path} as an .npz file of plain (unpickled) arrays: {err}") from None
    missing = [key for key in ("x_train", "y_train", "x_test", "y_test") if key not in arrays]
    if missing:
        raise DatasetError(
            f"{path} lacks {', '.join(missing)}; an npz dataset needs x_train, y_train, x_test, y_test "
            f"(and optionally class_names), found {', '.join(arrays) or 'no arrays'}"
        )
    names = tuple(str(n) for n in arrays["class_names"].reshape(-1)) if "class_names" in arrays else None
    return splits_from_arrays(
        arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], names, str(path)
    )

"""Datasets given as arrays: checking uint8 image arrays and reading ``npz:PATH`` files.

An ``.npz`` file holds ``x_train, y_train, x_test, y_test`` with images as uint8 NHWC (1 or 3
channels) or NHW grayscale, square, and integer labels in ``[0, num_classes)``, every class present
in ``y_train``; an optional ``class_names`` array of strings names the classes (otherwise they are
"0", "1", ...), and optional ``x_val, y_val`` are a validation split used instead of carving one.
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
    """Integer labels as int64 [count] (any integer dtype or byte order; a column [count, 1], as Keras stores them)."""
    if isinstance(y, np.ndarray):
        if y.dtype.kind not in "iu":
            raise DatasetError(f"{what} must hold integer class labels, got {y.dtype}")
        y = y.astype(np.int64)  # native byte order; uint64 values past int64 turn negative and fail the range check
    y = torch.as_tensor(y)
    if y.dtype.is_floating_point or y.dtype.is_complex or y.dtype == torch.bool:
        raise DatasetError(f"{what} must hold integer class labels, got {y.dtype}")
    if tuple(y.shape) == (count, 1):
        y = y.reshape(count)
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
    x_val: np.ndarray | torch.Tensor | None = None,
    y_val: np.ndarray | torch.Tensor | None = None,
    native_resolution: int | None = None,
) -> Splits:
    """Check and convert one dataset's arrays (a validation split is optional); class names default to "0", "1", ...

    ``native_resolution`` defaults to the side the images are stored at: arrays hold a source's
    images as they are (CIFAR's 32 px, Fashion-MNIST's 28 px, an npz file's own side); a loader
    that resized them first says what they were.

    Labels are class indices ``0..K-1`` and every class has training images: a label with no
    training image (a gap such as labels {3, 7}, or a class only in the test split) is an error,
    since a class the network never sees cannot be learned and would only inflate its output layer.
    """
    named = {"train": (x_train, y_train), "test": (x_test, y_test)}
    if x_val is not None or y_val is not None:
        if x_val is None or y_val is None:
            raise DatasetError(f"{source}: a validation split needs both x_val and y_val")
        named["val"] = (x_val, y_val)
    images = {split: images_to_tensor(x, f"{source}: x_{split}") for split, (x, _) in named.items()}
    for split, x in images.items():
        if x.shape[1:] != images["train"].shape[1:]:
            raise DatasetError(
                f"{source}: x_train and x_{split} must have the same image size, got "
                f"{tuple(images['train'].shape[2:])} and {tuple(x.shape[2:])}"
            )
    if len(images["train"]) == 0:
        raise DatasetError(f"{source}: x_train holds no images")
    labels = {split: labels_to_tensor(y, len(images[split]), f"{source}: y_{split}") for split, (_, y) in named.items()}
    class_names = check_classes(labels, class_names, source)
    return Splits(
        class_names,
        images["train"],
        labels["train"],
        images["test"],
        labels["test"],
        native_resolution=int(images["train"].shape[-1]) if native_resolution is None else native_resolution,
        val_x=images.get("val"),
        val_y=labels.get("val"),
    )


def check_classes(labels: dict[str, torch.Tensor], class_names: tuple[str, ...] | None, source: str) -> tuple[str, ...]:
    """The class names for ``labels`` (split → int64 labels), after checking the labels are usable class indices."""
    everything = torch.cat(list(labels.values()))
    lowest, train = int(everything.min()), labels["train"]
    if lowest < 0:
        raise DatasetError(f"{source}: labels must be class indices >= 0, got {lowest}")
    if class_names is None:
        top = int(train.max())
        if top >= len(train):  # some class would have no training image; say so before counting a huge range
            raise DatasetError(
                f"{source}: y_train's labels go up to {top} with only {len(train)} training images; labels must be "
                "class indices 0..K-1 with every class in y_train"
            )
        class_names = tuple(str(i) for i in range(top + 1))
    if len(set(class_names)) != len(class_names):
        repeated = sorted({name for name in class_names if class_names.count(name) > 1})
        raise DatasetError(f"{source}: class names must differ, got {', '.join(map(repr, repeated))} more than once")
    if len(class_names) < 2:
        raise DatasetError(f"{source}: a classification dataset needs at least 2 classes, got {len(class_names)}")
    for split, split_labels in labels.items():
        highest = int(split_labels.max()) if len(split_labels) else 0
        if highest >= len(class_names):
            raise DatasetError(
                f"{source}: y_{split} has label {highest}, but there are {len(class_names)} classes (labels 0.."
                f"{len(class_names) - 1}{', the ones in y_train' if split != 'train' else ''})"
            )
    empty = (torch.bincount(train, minlength=len(class_names)) == 0).nonzero().flatten().tolist()
    if empty:
        shown = ", ".join(repr(class_names[i]) for i in empty[:5])
        shown += f" and {len(empty) - 5} more" if len(empty) > 5 else ""
        raise DatasetError(
            f"{source}: class {shown} has no training images; labels must be class indices 0..K-1 with every "
            "class in y_train (renumber them consecutively)"
        )
    return class_names


def check_npz_path(path: Path) -> None:
    """``path`` is an existing zip archive, as ``numpy.savez`` writes."""
    if path.is_dir():
        raise DatasetError(f"{path} is a folder; npz:PATH names one .npz file (use imagefolder:PATH for folders)")
    if not path.is_file():
        raise DatasetError(f"npz file not found: {path}")
    if not zipfile.is_zipfile(path):
        raise DatasetError(f"{path} is not an .npz archive (as written by numpy.savez)")


def load_npz(path: Path) -> Splits:
    """Read ``x_train, y_train, x_test, y_test`` (optional: ``x_val, y_val``, ``class_names``) from an ``.npz`` file."""
    check_npz_path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zlib.error, zipfile.BadZipFile) as err:
        raise DatasetError(f"cannot read {path} as an .npz file of plain (unpickled) arrays: {err}") from None
    missing = [key for key in ("x_train", "y_train", "x_test", "y_test") if key not in arrays]
    if missing:
        raise DatasetError(
            f"{path} lacks {', '.join(missing)}; an npz dataset needs x_train, y_train, x_test, y_test "
            f"(optionally x_val, y_val and class_names), found {', '.join(arrays) or 'no arrays'}"
        )
    names = tuple(str(n) for n in arrays["class_names"].reshape(-1)) if "class_names" in arrays else None
    return splits_from_arrays(
        arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], names, str(path),
        x_val=arrays.get("x_val"), y_val=arrays.get("y_val"),
    )

"""ImageFolder datasets: ``PATH/train/<class>/...`` and ``PATH/val/<class>/...`` (or ``test/``), decoded once.

Classes are the sorted folder names under ``train/``; the evaluation folder (``val/`` when present,
else ``test/``) must use the same names or a subset. Files are found recursively; names starting
with "." are ignored. Every image, whatever its size or mode (grey, palette, alpha, CMYK, 16-bit),
becomes RGB (transparent parts on white, EXIF rotation applied), its shorter side resized to the
storage resolution and the centre cropped square. Files Pillow cannot read are skipped and
counted. The decoded arrays are cached in one ``.npz`` file, keyed by the folder, the storage
resolution and every file's path, size and modification time, so the next load reads one file.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from scaling_search.cache import write_atomic
from scaling_search.data.arrays import splits_from_arrays
from scaling_search.data.dataset import DatasetError, Splits

CACHE_FORMAT = 1  # bump when decoding changes, so old caches are not reused
EVAL_FOLDERS = ("val", "test")
TASK_SIZE = 64  # images per thread-pool task
HIGH_DEPTH_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")

FileEntry = tuple[str, int, int, int]
"""(path relative to the split folder, class index, size in bytes, modification time in ns)."""


def load_imagefolder(root: Path, storage: int, cache_dir: Path, workers: int | None) -> Splits:
    """Decode (or read from the cache) the ImageFolder at ``root``, with square images of side ``storage``."""
    train_dir, eval_dir = split_folders(root)
    class_names = class_folders(train_dir)
    if not class_names:
        raise DatasetError(f"{train_dir} holds no class folders; put each class's images in train/<class name>/")
    eval_classes = class_folders(eval_dir)
    unknown = sorted(set(eval_classes) - set(class_names))
    if unknown:
        raise DatasetError(
            f"{eval_dir} has classes that train/ lacks: {', '.join(unknown)}; its classes must be train's or a subset"
        )
    train_files = list_files(train_dir, class_names, class_names)
    labelled = {entry[1] for entry in train_files}
    for index, name in enumerate(class_names):
        if index not in labelled:
            raise DatasetError(f"class folder {train_dir / name} holds no files; every train class needs images")
    eval_files = list_files(eval_dir, eval_classes, class_names)
    if not eval_files:
        raise DatasetError(f"{eval_dir} holds no images; put evaluation images in {eval_dir.name}/<class name>/")

    key = cache_key(root, storage, train_files, eval_dir.name, eval_files)
    cache_file = cache_dir / f"imagefolder-{root.name}-{digest(str(root))[:8]}-{storage}px-{key[:16]}.npz"
    cached = read_cache(cache_file, class_names)
    if cached is not None:
        return cached

    with ThreadPoolExecutor(max_workers=workers or available_cpus()) as pool:
        train_x, train_y, train_skipped = decode_all(pool, train_dir, train_files, storage)
        eval_x, eval_y, eval_skipped = decode_all(pool, eval_dir, eval_files, storage)
    missing = sorted(set(range(len(class_names))) - set(train_y.tolist()))
    if missing:
        raise DatasetError(
            f"no readable images in train/{class_names[missing[0]]}"
            + (f" (and {len(missing) - 1} other class folders)" if len(missing) > 1 else "")
            + "; every train class needs at least one image Pillow can open"
        )
    if len(eval_y) == 0:
        raise DatasetError(f"no readable images in {eval_dir}; Pillow could open none of its {len(eval_files)} files")
    splits = splits_from_arrays(train_x, train_y, eval_x, eval_y, class_names, str(root))
    try:
        write_cache(cache_file, train_x, train_y, eval_x, eval_y, class_names, train_skipped + eval_skipped)
    except OSError as err:  # a read-only or full cache folder costs the next load time, not this one its data
        warnings.warn(f"could not cache the decoded {root} in {cache_file.parent}: {err}", stacklevel=2)
    return with_skipped(splits, train_skipped + eval_skipped)


def with_skipped(splits: Splits, skipped: int) -> Splits:
    return Splits(splits.class_names, splits.train_x, splits.train_y, splits.test_x, splits.test_y, skipped)


def available_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def split_folders(root: Path) -> tuple[Path, Path]:
    """``root/train`` and the evaluation folder, ``root/val`` or else ``root/test``."""
    layout = "an imagefolder dataset needs PATH/train/<class>/ and PATH/val/<class>/ (or PATH/test/<class>/)"
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder; {layout}")
    if not (root / "train").is_dir():
        raise DatasetError(f"{root} has no train/ folder; {layout}")
    for name in EVAL_FOLDERS:
        if (root / name).is_dir():
            return root / "train", root / name
    raise DatasetError(f"{root} has neither val/ nor test/; {layout}")


def class_folders(split_dir: Path) -> tuple[str, ...]:
    """Sorted names of the visible sub-folders of ``split_dir``."""
    return tuple(sorted(e.name for e in os.scandir(split_dir) if e.is_dir() and not e.name.startswith(".")))


def list_files(split_dir: Path, folders: Sequence[str], class_names: Sequence[str]) -> list[FileEntry]:
    """Every visible file below each class folder, sorted by class then path, with its size and mtime."""
    entries: list[FileEntry] = []
    for folder in folders:
        label = class_names.index(folder)
        found = []
        for directory, subdirs, files in os.walk(split_dir / folder):
            subdirs[:] = [d for d in subdirs if not d.startswith(".")]
            relative = os.path.relpath(directory, split_dir)
            for name in files:
                if name.startswith("."):
                    continue
                try:
                    stat = os.stat(os.path.join(directory, name))
                    size, mtime = stat.st_size, stat.st_mtime_ns
                except OSError:  # a dangling link: listed, then skipped like any unreadable file
                    size, mtime = -1, -1
                found.append((os.path.join(relative, name), label, size, mtime))
        entries += sorted(found)
    return entries


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def cache_key(root: Path, storage: int, train: list[FileEntry], eval_name: str, evaluation: list[FileEntry]) -> str:
    return digest(json.dumps([CACHE_FORMAT, str(root), storage, train, eval_name, evaluation]))


def decode_all(
    pool: ThreadPoolExecutor, split_dir: Path, files: list[FileEntry], size: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Decode ``files`` in parallel into uint8 [N, size, size, 3] images and labels, dropping unreadable ones."""
    images = np.empty((len(files), size, size, 3), dtype=np.uint8)

    def decode_range(start: int) -> list[bool]:
        readable = []
        for index in range(start, min(start + TASK_SIZE, len(files))):
            image = decode_image(str(split_dir / files[index][0]), size)
            if image is not None:
                images[index] = image
            readable.append(image is not None)
        return readable

    ok = np.array([flag for part in pool.map(decode_range, range(0, len(files), TASK_SIZE)) for flag in part], bool)
    labels = np.array([entry[1] for entry in files], dtype=np.int64)
    return images[ok], labels[ok], int((~ok).sum())


def decode_image(path: str, size: int) -> np.ndarray | None:
    """The image at ``path`` as uint8 [size, size, 3] (shorter side to ``size``, centre crop), or None if unreadable."""
    try:
        with Image.open(path) as image:
            image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale that still covers size x size
            rgb = to_rgb(ImageOps.exif_transpose(image))
            width, height = rgb.size
            side = min(width, height)
            box = ((width - side) / 2, (height - side) / 2, (width + side) / 2, (height + side) / 2)
            return np.asarray(rgb.resize((size, size), Image.Resampling.BILINEAR, box=box))
    except Exception:  # Pillow's format plugins raise many exception types on corrupt or foreign files
        return None


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB: high-depth grey rescaled, transparency composited on white, other modes converted."""
    if image.mode in HIGH_DEPTH_MODES:
        values = np.nan_to_num(np.asarray(image, dtype=np.float64))
        peak = values.max(initial=0)
        top = 65535 if image.mode.startswith("I;16") or 255 < peak <= 65535 else max(peak, 255)
        grey = np.clip(values * (255 / top), 0, 255).round().astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if image.mode in ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    return image.convert("RGB")


def read_cache(path: Path, class_names: tuple[str, ...]) -> Splits | None:
    """The cached splits in ``path``, or None when it is missing, unreadable or does not match."""
    try:
        with np.load(path, allow_pickle=False) as cached:
            arrays = {key: cached[key] for key in cached.files}
        splits = splits_from_arrays(
            arrays["train_x"], arrays["train_y"], arrays["test_x"], arrays["test_y"], class_names, str(path)
        )
        skipped = int(arrays["skipped"])
    except (OSError, ValueError, KeyError, EOFError):  # DatasetError is a ValueError
        return None
    return with_skipped(splits, skipped)


def write_cache(
    path: Path,
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    class_names: tuple[str, ...],
    skipped: int,
) -> None:
    """Store the decoded arrays at ``path`` and remove caches of earlier versions of the same folder."""
    buffer = io.BytesIO()
    arrays = {"train_x": train_x, "train_y": train_y, "test_x": test_x, "test_y": test_y}
    np.savez(buffer, **arrays, class_names=np.array(class_names), skipped=np.array(skipped))
    write_atomic(path, buffer.getvalue())
    prefix = path.name.rsplit("-", 1)[0] + "-"
    for stale in path.parent.glob(f"{glob.escape(prefix)}*.npz"):
        if stale != path:
            stale.unlink(missing_ok=True)

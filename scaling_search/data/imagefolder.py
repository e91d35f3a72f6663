"""ImageFolder datasets: ``PATH/train/<class>/...`` beside ``PATH/val/<class>/...`` and/or ``PATH/test/<class>/...``.

Classes are the sorted folder names under ``train/`` (compared in Unicode NFC form, so names
typed on different systems match). With ``val/`` or ``test/`` alone, that folder is the test split
and the validation split is carved from ``train/``; with both, ``val/`` is the validation split and
``test/`` the test split. They must use train's class names or a subset. Files are found
recursively, following links (each folder once); names starting with "." are ignored. Every image,
whatever its size or mode (grey, palette, alpha, CMYK, 16-bit, float), becomes RGB (transparent
parts on white, EXIF rotation applied), its shorter side resized to the storage resolution and the
centre cropped square. Sample values map to 0–255 by a fixed scale per mode, never per image, so
equal values look equal in every file: integer images above 8 bits from 0–65535, floating-point
ones from 0–1 (values outside are clipped). Files Pillow cannot read (and anything that is not a
regular file) are skipped, counted, and the first one's reason is given in a warning; files lying
outside class folders are skipped and counted. The dataset's native resolution is the median
shorter side of its readable files, as stored (before EXIF rotation, which keeps the shorter side,
and before any resizing), measured while decoding. The decoded arrays and that native resolution
are cached in one ``.npz`` file, keyed by the folder, the storage resolution and every file's path,
size, modification and status-change time, so the next load reads one file; a damaged cache file,
or one from an older version that lacks the native resolution, is decoded again.
Processes loading the same folder at once decode it once: the others wait on a lock file beside
the cache, then read it.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import statistics
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from scaling_search.data.arrays import splits_from_arrays
from scaling_search.data.dataset import DatasetError, Splits, check_fits_in_memory
from scaling_search.support.cache import exclusive_lock, open_atomic
from scaling_search.support.formatting import describe
from scaling_search.support.machine import available_cores

CACHE_FORMAT = 4  # bump when decoding or the cache's contents change, so old caches are not reused
SPLIT_FOLDERS = ("val", "test")
TASK_SIZE = 64  # images per thread-pool task
HIGH_DEPTH_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
LAYOUT = "an imagefolder dataset needs PATH/train/<class>/ and PATH/val/<class>/ and/or PATH/test/<class>/"

DecodeProgress = Callable[[int, int], None]
"""``progress(decoded, total)``: called from the loading thread as images are decoded (never on a cache hit)."""
FileEntry = tuple[str, int, int, int, int]
"""(path relative to the split folder, class index, size in bytes, modification and status-change times in ns)."""


def load_imagefolder(
    root: Path, storage: int, cache_dir: Path, workers: int | None, progress: DecodeProgress | None = None
) -> Splits:
    """Decode (or read from the cache) the ImageFolder at ``root``, with square images of side ``storage``."""
    folders = split_folders(root)
    class_names = class_folders(folders["train"])
    if not class_names:
        raise DatasetError(f"{folders['train']} holds no class folders; put each class's images in train/<class name>/")
    listed: dict[str, list[FileEntry]] = {}
    loose = 0
    for split, folder in folders.items():
        classes = class_folders(folder)
        unknown = sorted(set(map(nfc, classes)) - set(map(nfc, class_names)))
        if unknown:
            raise DatasetError(
                f"{folder} has classes that train/ lacks: {', '.join(unknown)}; its classes must be train's or a subset"
            )
        listed[split] = list_files(folder, classes, class_names)
        loose += count_loose_files(folder)
    labelled = {entry[1] for entry in listed["train"]}
    for index, name in enumerate(class_names):
        if index not in labelled:
            raise DatasetError(f"class folder {folders['train'] / name} holds no files; every train class needs images")
    for split, folder in folders.items():
        if split != "train" and not listed[split]:
            loose_here = count_loose_files(folder)
            found = f"{loose_here} files but none in a class folder" if loose_here else "no images"
            raise DatasetError(f"{folder} holds {found}; put its images in {folder.name}/<class name>/ "
                               "(an unlabelled test set cannot be scored)")

    key = cache_key(root, storage, {folders[split].name: files for split, files in listed.items()})
    stem = f"imagefolder-{root.name}-{digest(os.fsencode(root))[:8]}-{storage}px"
    cache_file = cache_dir / f"{stem}-{key[:16]}.npz"
    cached = read_cache(cache_file, class_names, loose)
    if cached is not None:
        return cached
    with exclusive_lock(cache_dir / f"{stem}.lock"):  # a process already decoding this folder: wait, then read
        cached = read_cache(cache_file, class_names, loose)
        if cached is not None:
            return cached
        total = sum(map(len, listed.values()))
        check_fits_in_memory(total, storage, str(root))
        decoded: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        sides: list[int] = []  # shorter side of every readable source file, for the native resolution
        unreadable: list[tuple[str, str]] = []  # (path, reason)
        done = 0
        if progress is not None:
            progress(0, total)
        with ThreadPoolExecutor(max_workers=workers or available_cores()) as pool, warnings.catch_warnings():
            # Pillow warns about images above ~89 MP as possible decompression bombs; these are the user's own
            # files, and the ones past its hard limit (~179 MP) are skipped with that reason
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            for split, files in listed.items():
                offset = done
                tell = None if progress is None else lambda count, offset=offset: progress(offset + count, total)
                x, y, split_sides, failures = decode_all(pool, folders[split], files, storage, tell)
                decoded[split] = (x, y)
                sides += split_sides
                unreadable += [(f"{folders[split].name}/{path}", reason) for path, reason in failures]
                done += len(files)
        example = f" (e.g. {unreadable[0][0]}: {unreadable[0][1]})" if unreadable else ""
        missing = sorted(set(range(len(class_names))) - set(decoded["train"][1].tolist()))
        if missing:
            raise DatasetError(
                f"no readable images in train/{class_names[missing[0]]}"
                + (f" (and {len(missing) - 1} other class folders)" if len(missing) > 1 else "")
                + f"; every train class needs at least one image Pillow can open{example}"
            )
        for split, (_, y) in decoded.items():
            if len(y) == 0:
                raise DatasetError(f"no readable images in {folders[split]}; Pillow could open none of its "
                                   f"{len(listed[split])} files{example}")
        if unreadable:
            skipped = f"{len(unreadable)} unreadable files, e.g." if len(unreadable) > 1 else "unreadable"
            warnings.warn(f"skipped {skipped} {root / unreadable[0][0]} ({unreadable[0][1]})", stacklevel=2)
        native = native_side(sides)
        splits = to_splits(decoded, class_names, str(root), len(unreadable) + loose, native)
        try:
            write_cache(cache_file, decoded, class_names, len(unreadable), native)
        except OSError as err:  # a read-only or full cache folder costs the next load time, not this one its data
            warnings.warn(f"could not cache the decoded {root} in {cache_file.parent}: {err}", stacklevel=2)
        return splits


def native_side(sides: Sequence[int]) -> int:
    """The median of the files' shorter sides; with an even count the lower middle one, a side some file really has."""
    return int(statistics.median_low(sides))


def to_splits(
    arrays: dict[str, tuple[np.ndarray, np.ndarray]], class_names: tuple[str, ...], source: str, skipped: int,
    native_resolution: int,
) -> Splits:
    """Splits from decoded (images, labels) per split: ``test``, and ``val`` used as validation when both exist."""
    evaluation = "test" if "test" in arrays else "val"
    x_val, y_val = arrays["val"] if evaluation == "test" and "val" in arrays else (None, None)
    splits = splits_from_arrays(*arrays["train"], *arrays[evaluation], class_names, source, x_val=x_val, y_val=y_val,
                                native_resolution=native_resolution)
    return replace(splits, skipped=skipped)


def split_folders(root: Path) -> dict[str, Path]:
    """``{"train": root/train}`` plus whichever of ``val`` and ``test`` exist (at least one must)."""
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder; {LAYOUT}")
    if not (root / "train").is_dir():
        hint = f" (name its parent, {root.parent}, instead)" if root.name in ("train", *SPLIT_FOLDERS) else ""
        raise DatasetError(f"{root} has no train/ folder{hint}; {LAYOUT}")
    folders = {"train": root / "train"} | {name: root / name for name in SPLIT_FOLDERS if (root / name).is_dir()}
    if len(folders) == 1:
        raise DatasetError(f"{root} has neither val/ nor test/; {LAYOUT}")
    return folders


def nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def class_folders(split_dir: Path) -> tuple[str, ...]:
    """Sorted names of the visible sub-folders of ``split_dir``."""
    return tuple(sorted(e.name for e in os.scandir(split_dir) if e.is_dir() and not e.name.startswith(".")))


def count_loose_files(split_dir: Path) -> int:
    """Visible files directly in ``split_dir``, outside any class folder: they have no class and are skipped."""
    return sum(1 for e in os.scandir(split_dir) if not e.name.startswith(".") and not e.is_dir())


def list_files(split_dir: Path, folders: Sequence[str], class_names: Sequence[str]) -> list[FileEntry]:
    """Every visible file below each class folder (links followed, each folder once), sorted by class then path."""
    label_of = {nfc(name): index for index, name in enumerate(class_names)}
    split_real = os.path.realpath(split_dir)
    entries: list[FileEntry] = []
    for folder in folders:
        label = label_of[nfc(folder)]
        class_real = os.path.realpath(split_dir / folder)
        found = []
        seen: set[tuple[int, int]] = set()
        for directory, subdirs, files in os.walk(split_dir / folder, followlinks=True):
            identity = os.stat(directory)
            real = os.path.realpath(directory)
            elsewhere_in_split = is_within(real, split_real) and not is_within(real, class_real)
            if (identity.st_dev, identity.st_ino) in seen or elsewhere_in_split:
                subdirs[:] = []  # a link back up the tree, a second link to a folder, or into another class
                continue
            seen.add((identity.st_dev, identity.st_ino))
            subdirs[:] = [d for d in subdirs if not d.startswith(".")]
            relative = os.path.relpath(directory, split_dir)
            for name in files:
                if name.startswith("."):
                    continue
                try:
                    stat = os.stat(os.path.join(directory, name))
                    times = stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns
                except OSError:  # a dangling link: listed, then skipped like any unreadable file
                    times = -1, -1, -1
                found.append((os.path.join(relative, name), label, *times))
        entries += sorted(found)
    return entries


def is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def digest(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def cache_key(root: Path, storage: int, files: dict[str, list[FileEntry]]) -> str:
    """A digest of everything the decoded arrays depend on; status-change times catch permission fixes too."""
    listing = json.dumps([CACHE_FORMAT, storage, sorted(files.items())])  # ASCII: any file name escapes cleanly
    return digest(os.fsencode(root) + b"\0" + listing.encode())


def decode_all(
    pool: ThreadPoolExecutor, split_dir: Path, files: list[FileEntry], size: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[int], list[tuple[str, str]]]:
    """Decode ``files`` in parallel into uint8 [N, size, size, 3] images and labels, dropping unreadable ones.

    Returns the images, their labels, the shorter side each of them had in its file, and (path,
    reason) of each file left out. ``progress(count)`` hears how many of ``files`` are done, in
    order, as the parts finish.
    """
    images = np.empty((len(files), size, size, 3), dtype=np.uint8)
    sides = [0] * len(files)

    def decode_range(start: int) -> list[str | None]:
        reasons: list[str | None] = []
        for index in range(start, min(start + TASK_SIZE, len(files))):
            decoded = decode_image(str(split_dir / files[index][0]), size)
            if isinstance(decoded, str):
                reasons.append(decoded)
            else:
                images[index], sides[index] = decoded
                reasons.append(None)
        return reasons

    reasons: list[str | None] = []
    for part in pool.map(decode_range, range(0, len(files), TASK_SIZE)):
        reasons += part
        if progress is not None:
            progress(len(reasons))
    ok = np.array([reason is None for reason in reasons], dtype=bool)
    labels = np.array([entry[1] for entry in files], dtype=np.int64)
    failures = [(entry[0], reason) for entry, reason in zip(files, reasons, strict=True) if reason is not None]
    if not failures:
        return images, labels, sides, []  # no second copy of the images when every file was read
    return images[ok], labels[ok], [side for side, good in zip(sides, ok, strict=True) if good], failures


def decode_image(path: str, size: int) -> tuple[np.ndarray, int] | str:
    """``path`` as uint8 [size, size, 3] (shorter side to ``size``, centre crop), or the reason it is unreadable.

    The image comes with the shorter side it has in its file, which the native resolution is measured from.
    """
    if not os.path.isfile(path):  # a pipe or device would block or never end; a dangling link has nothing to read
        return "not a regular file"
    try:
        with Image.open(path) as image:
            stored_side = min(image.size)  # from the header, before draft() shrinks a JPEG's decoded size
            image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale that still covers size x size
            rgb = to_rgb(ImageOps.exif_transpose(image))
            width, height = rgb.size
            side = min(width, height)
            box = ((width - side) / 2, (height - side) / 2, (width + side) / 2, (height + side) / 2)
            return np.asarray(rgb.resize((size, size), Image.Resampling.BILINEAR, box=box)), stored_side
    except Exception as err:  # Pillow's format plugins raise many exception types on corrupt or foreign files
        return describe(err).replace(f" {path!r}", "").replace(f" {path}", "")  # the warning names the file


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB: high-depth grey rescaled by its mode's fixed range, transparency composited on white."""
    if image.mode in HIGH_DEPTH_MODES:
        values = np.nan_to_num(np.asarray(image, dtype=np.float64))
        top = 1.0 if image.mode == "F" else 65535.0  # floats conventionally hold [0, 1]; integers 16-bit samples
        grey = np.clip(values * (255 / top), 0, 255).round().astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if image.mode in ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    return image.convert("RGB")


def read_cache(path: Path, class_names: tuple[str, ...], loose: int) -> Splits | None:
    """The cached splits in ``path``, or None when it is missing, damaged or does not match (then it is rebuilt).

    The cache counts the unreadable files it left out; ``loose`` files (outside class folders, not
    part of the key) are counted afresh on every load. A cache without a usable native resolution
    (written before it was measured) counts as missing.
    """
    try:
        with np.load(path, allow_pickle=False) as cached:
            arrays = {key: cached[key] for key in cached.files}
        decoded = {split: (arrays[f"{split}_x"], arrays[f"{split}_y"]) for split in ("train", "val", "test")
                   if f"{split}_x" in arrays}
        native = arrays["native_resolution"]
        if native.shape != () or native.dtype.kind not in "iu":
            return None
        return to_splits(decoded, class_names, str(path), int(arrays["unreadable"]) + loose, int(native))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error):  # DatasetError is a ValueError
        return None


def write_cache(
    path: Path, decoded: dict[str, tuple[np.ndarray, np.ndarray]], class_names: tuple[str, ...], unreadable: int,
    native_resolution: int,
) -> None:
    """Store the decoded arrays at ``path`` and remove caches of earlier versions of the same folder."""
    arrays = {f"{split}_{part}": array for split, (x, y) in decoded.items() for part, array in (("x", x), ("y", y))}
    with open_atomic(path) as handle:  # straight to the file: no second copy of the dataset in memory
        np.savez(handle, allow_pickle=False, **arrays, class_names=np.array(class_names),
                 unreadable=np.array(unreadable), native_resolution=np.array(native_resolution))
    prefix = path.name.rsplit("-", 1)[0] + "-"
    for stale in path.parent.glob(f"{glob.escape(prefix)}*.npz"):
        if stale != path:
            stale.unlink(missing_ok=True)

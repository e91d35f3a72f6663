"""``imagefolder:PATH`` datasets: image modes and formats, split folders, links, the decoded cache, every error."""

from __future__ import annotations

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

from scaling_search.data import imagefolder as imagefolder_module
from scaling_search.data.dataset import DatasetError
from scaling_search.data.load import load_dataset
from scaling_search.support.cache import current_umask
from tests.data_helpers import check_image_data

REPO = Path(__file__).resolve().parents[2]
CIFAR_JPEG = REPO.parent / "shared" / "data" / "cifar10-jpeg.npz"
MATERIALIZE = REPO.parent / "shared" / "data" / "materialize.py"


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


def test_imagefolder_float_images_in_unit_range(tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(0, 1, 32, dtype=np.float32), (32, 1))
    for name in ("a", "b"):
        for i in range(2):
            save(tmp_path / "train" / name / f"{i}.tif", Image.fromarray(ramp))
    save(tmp_path / "val" / "a" / "0.tif", Image.fromarray(ramp))
    data = load_dataset(f"imagefolder:{tmp_path}", resolution=32, cache_dir=tmp_path / ".cache")
    assert data.skipped == 0 and int(data.test_x[0, 0, 0, 0]) < 10 and int(data.test_x[0, 0, 0, -1]) > 245


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

"""``npz:PATH`` datasets: colour and grey images, label layouts, a given validation split, and every malformed file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from scaling_search.data.dataset import DatasetError
from scaling_search.data.load import load_dataset
from tests.data_helpers import arrays, check_image_data


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


def test_npz_path_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"is a folder; npz:PATH names one \.npz file"):
        load_dataset(f"npz:{tmp_path}", resolution=16)

"""What every source shares: the validation split, load_dataset's spec and arguments, and a light import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from scaling_search.data.dataset import DatasetError, split_validation
from scaling_search.data.load import load_dataset
from tests.data_helpers import SMALL_SYNTHETIC, arrays

REPO = Path(__file__).resolve().parents[2]


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

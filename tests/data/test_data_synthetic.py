"""The built-in synthetic dataset: defaults, options, determinism, native rendering, learnability, bad options."""

from __future__ import annotations

import pytest
import torch

from scaling_search.data.augment import eval_batch, normalisation
from scaling_search.data.dataset import DatasetError
from scaling_search.data.load import load_dataset
from tests.data_helpers import SMALL_SYNTHETIC, check_image_data


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

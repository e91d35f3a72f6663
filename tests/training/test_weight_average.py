"""The weight average (issue #22): the reference's EMA, TensorFlow's warm-up, and runs that evaluate the average."""

from __future__ import annotations

import copy
import math
from dataclasses import replace

import pytest
import torch
from torch import nn

import scaling_search.training.proxy as proxy_module
from scaling_search.data.augment import eval_batch, normalisation
from scaling_search.errors import InputError
from scaling_search.training.averaging import WeightAverage, decay_at
from scaling_search.training.correctness import unpack_correctness
from scaling_search.training.recipe import RECIPES, REFERENCE_EMA_DECAY, TF_REFERENCE, Budget, Recipe
from tests.training.test_train import DATA, LAYOUT, run


def test_the_paper_recipe_evaluates_the_references_weight_average_and_proxy_does_not():
    assert RECIPES["paper"].ema_decay == TF_REFERENCE.ema_decay == REFERENCE_EMA_DECAY == 0.9999
    assert RECIPES["proxy"].ema_decay is None
    # the rest of paper is what it was: the reference at batch 256, its warm-up a share of the run, precise BN
    assert replace(RECIPES["paper"], ema_decay=None) == Recipe(
        optimizer="rmsprop", lr_per_256=0.016, weight_decay=1e-5, augmentation=RECIPES["paper"].augmentation,
        zero_init=False, warmup_epochs=0.0, warmup_fraction=5 / 350, schedule="exponential", decay_factor=0.97,
        decay_epochs=2.4)


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5, 1.5, math.nan, math.inf])
def test_a_decay_outside_zero_to_one_is_refused_when_the_recipe_is_built(decay):
    with pytest.raises(InputError, match=r"ema_decay \(the weight average's decay\) must lie in \(0, 1\)"):
        Recipe(ema_decay=decay)


def test_the_decay_warms_up_as_tensorflows_with_num_updates_and_is_capped():
    assert decay_at(0.9999, 1) == pytest.approx(2 / 11)
    assert decay_at(0.9999, 92) == pytest.approx(93 / 102)  # a short proxy run ends far below the cap
    assert decay_at(0.9999, 89_000) < 0.9999 == decay_at(0.9999, 90_000)  # the cap binds from ~90,000 steps
    assert decay_at(0.5, 10) == 0.5  # 11 / 20 is above a low cap


def test_the_average_is_tensorflows_ema_of_the_weights_and_batchnorm_statistics():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    average = WeightAverage(model, decay=0.9999)
    shadow = {name: value.clone() for name, value in model.state_dict().items()}  # TF's start: the initial values
    generator = torch.Generator().manual_seed(1)
    for step in range(1, 6):
        with torch.no_grad():
            for param in model.parameters():
                param.add_(torch.randn(param.shape, generator=generator))
        model(torch.randn(8, 3, 6, 6, generator=generator))  # train mode: moves the running mean and variance
        average.update_parameters(model)
        decay = min(0.9999, (1 + step) / (10 + step))
        for name, value in model.state_dict().items():
            floating = value.is_floating_point()
            shadow[name] = decay * shadow[name] + (1 - decay) * value if floating else value.clone()
    averaged = average.module.state_dict()
    for name, expected in shadow.items():
        torch.testing.assert_close(averaged[name], expected, rtol=1e-5, atol=1e-6, msg=name)
    assert not torch.allclose(averaged["1.running_mean"], model.state_dict()["1.running_mean"])
    assert int(average.n_averaged) == 5 and average.n_averaged.device.type == "cpu"  # read without a device sync
    assert not any(p.requires_grad for p in average.module.parameters())


def test_a_run_with_a_weight_average_evaluates_the_average_not_the_last_weights(monkeypatch):
    kept: list[tuple[WeightAverage, nn.Module]] = []

    class Kept(WeightAverage):
        def update_parameters(self, model: nn.Module) -> None:
            super().update_parameters(model)
            if not kept:
                kept.append((self, model))

    monkeypatch.setattr(proxy_module, "WeightAverage", Kept)
    result = run(recipe=replace(RECIPES["proxy"], train_batch_size=32, ema_decay=0.9999),
                 budget=Budget(epochs=1, max_train_images=64))
    assert result.ok and len(kept) == 1
    average, model = kept[0]
    assert int(average.n_averaged) == 2  # one update after each of the two steps
    last, averaged = dict(model.named_parameters()), dict(average.module.named_parameters())
    assert any(not torch.equal(last[name], averaged[name]) for name in last)
    # what the run recorded is what the averaged network predicts, as the run evaluated it
    mean, std = normalisation(DATA, torch.device("cpu"))
    images = eval_batch(DATA.val_x, LAYOUT.resolution, mean, std).contiguous(memory_format=torch.channels_last)
    network = copy.deepcopy(average.module).eval()
    with torch.no_grad():
        right = (network(images).argmax(1) == DATA.val_y).numpy()
    assert (unpack_correctness(result.val_correct) == right).all()
    assert result.val_acc == pytest.approx(right.mean())

"""The built-in task is a real proxy: B0 learns it on a CPU within two epochs."""

from dataclasses import replace

import pytest
import torch

from scaling_search.data.load import load_dataset
from scaling_search.models.scaling import scale
from scaling_search.training.proxy import train_proxy
from scaling_search.training.recipe import RECIPES, Budget


@pytest.mark.slow
def test_b0_beats_chance_clearly_on_synthetic_in_two_cpu_epochs():
    data = load_dataset("synthetic", resolution=32, seed=0)
    layout = scale(resolution=32, num_classes=data.num_classes)
    result = train_proxy(layout, data, Budget(epochs=2), replace(RECIPES["proxy"], train_batch_size=64),
                         seed=0, device="cpu", threads=torch.get_num_threads())
    assert result.status == "ok"
    assert result.val_acc >= 2.0 / data.num_classes, result  # chance is 1 / num_classes
    assert result.test_acc >= 2.0 / data.num_classes

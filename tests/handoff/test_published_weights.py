"""The libraries' own models of our built-in bases (their published architectures) give their weights to ours.

Each model is what ``timm.create_model(name)`` or ``torchvision.models.<name>()`` builds, whose
pretrained checkpoints share its names and shapes, so those checkpoints initialise our base.
Where the library's BatchNorm eps and momentum are our base's too, the logits are also equal; else
only the weights load (timm's B0 and EfficientNetV2-S and torchvision's B0 keep PyTorch's eps 1e-5,
where our EfficientNets keep the TF reference's 1e-3).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import timm
import torchvision
from torch import nn

import scaling_search as ss
from tests.handoff_helpers import assert_same_logits, parameters, randomised

CASES = [
    # library, their model, our base, whether their BatchNorms are ours (eps, momentum)
    ("torchvision", torchvision.models.efficientnet_b0, "efficientnet_b0", False),
    ("torchvision", torchvision.models.mobilenet_v2, "mobilenet_v2", True),
    ("torchvision", torchvision.models.resnet50, "resnet50", True),
    ("torchvision", torchvision.models.regnet_y_400mf, "regnet_y_400mf", True),
    ("torchvision", torchvision.models.efficientnet_v2_s, "efficientnet_v2_s", True),
    ("timm", lambda: timm.create_model("efficientnet_b0"), "efficientnet_b0", False),
    ("timm", lambda: timm.create_model("mobilenetv2_100"), "mobilenet_v2", True),
    ("timm", lambda: timm.create_model("resnet50"), "resnet50", True),
    ("timm", lambda: timm.create_model("efficientnetv2_s"), "efficientnet_v2_s", False),
]
TO_OURS = {"timm": ss.from_timm_state_dict, "torchvision": ss.from_torchvision_state_dict}


@pytest.mark.parametrize(("library", "published", "base", "same_norms"),
                         [pytest.param(*case, id=f"{case[0]}-{case[2]}") for case in CASES])
def test_the_librarys_own_model_initialises_ours(library: str, published: Callable[[], nn.Module], base: str,
                                                 same_norms: bool):
    theirs = randomised(published(), seed=5)
    layout = ss.scale(base=ss.base_network(base))
    ours = ss.build(layout)
    ours.load_state_dict(TO_OURS[library](theirs.state_dict(), layout))
    assert parameters(ours) == parameters(theirs)
    if same_norms:
        assert_same_logits(theirs, ours)

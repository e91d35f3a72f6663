"""to_timm and to_torchvision: the library's own class, our parameter count and our logits, with weights both ways.

The cases are issue #24's (B0 and B3 as released, the φ = 3 member of (1.2, 1.1, 1.15), MobileNetV2
and ResNet-50 scaled by it at φ = 1) and the other two built-in bases at φ = 1, each converted where
the library can express it. BatchNorm statistics and affine pairs are randomised first, so a
buffer left out of a mapping changes the logits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
import torch

import scaling_search as ss
from scaling_search.models.architecture import PAPER_COEFFICIENTS, released_model
from scaling_search.models.layout import Layout
from scaling_search.models.network import Network
from scaling_search.models.scaling import released_layout
from tests.handoff_helpers import TOLERANCE, assert_same_logits, logits, parameters, randomised

CLASSES = 10


def member(base: str, phi: float) -> Layout:
    """The derived member at ``phi`` of (1.2, 1.1, 1.15) on ``base``, with its family's dropout and drop path."""
    return ss.derive(*PAPER_COEFFICIENTS, phis=[phi], num_classes=CLASSES, base=ss.base_network(base))[0].layout


def without_rates(layout: Layout) -> Layout:
    return replace(layout, dropout=0.0, drop_path=0.0)


LAYOUTS: dict[str, Callable[[], Layout]] = {
    "b0": lambda: released_layout(released_model("b0"), CLASSES),
    "b3": lambda: released_layout(released_model("b3"), CLASSES),
    "phi3": lambda: member("efficientnet_b0", 3),
    "mobilenet_v2-phi1": lambda: member("mobilenet_v2", 1),
    "mobilenet_v2-phi1-no-drop-path": lambda: replace(member("mobilenet_v2", 1), drop_path=0.0),
    "resnet50-phi1": lambda: member("resnet50", 1),
    "resnet50-deeper-no-rates": lambda: without_rates(ss.scale(depth=1.2, num_classes=CLASSES,
                                                               base=ss.base_network("resnet50"))),
    "efficientnet_v2_s-phi1": lambda: member("efficientnet_v2_s", 1),
    "regnet_y_400mf-phi1-no-rates": lambda: without_rates(member("regnet_y_400mf", 1)),
}
"""Each converted layout by name; drop path and dropout are taken out where the library lacks them (test_refusals)."""
CONVERTED = {
    "timm": ["b0", "b3", "phi3", "mobilenet_v2-phi1", "resnet50-phi1", "efficientnet_v2_s-phi1"],
    "torchvision": ["b0", "b3", "phi3", "mobilenet_v2-phi1-no-drop-path", "resnet50-deeper-no-rates",
                    "efficientnet_v2_s-phi1", "regnet_y_400mf-phi1-no-rates"],
}
CLASS_NAMES = {"b0": "EfficientNet", "b3": "EfficientNet", "phi3": "EfficientNet", "efficientnet_v2_s": "EfficientNet",
               "mobilenet_v2": {"timm": "EfficientNet", "torchvision": "MobileNetV2"}, "resnet50": "ResNet",
               "regnet_y_400mf": "RegNet"}
"""The library class each case becomes: timm builds MobileNetV2 with its EfficientNet class, as timm itself does."""
CASES = [pytest.param(library, name, id=f"{library}-{name}") for library, names in CONVERTED.items() for name in names]
CONVERT = {"timm": ss.to_timm, "torchvision": ss.to_torchvision}
OURS_TO_THEIRS = {"timm": ss.timm_state_dict, "torchvision": ss.torchvision_state_dict}
THEIRS_TO_OURS = {"timm": ss.from_timm_state_dict, "torchvision": ss.from_torchvision_state_dict}


def class_name(library: str, name: str) -> str:
    expected = CLASS_NAMES[name.partition("-")[0]]
    return expected if isinstance(expected, str) else expected[library]


@pytest.mark.parametrize(("library", "name"), CASES)
def test_ours_converts_to_the_librarys_own_class_with_our_parameters_and_logits(library, name):
    layout = LAYOUTS[name]()
    ours = randomised(ss.build(layout), seed=1)
    theirs = CONVERT[library](ours)
    assert type(theirs).__module__.partition(".")[0] == library
    assert type(theirs).__name__ == class_name(library, name)
    assert parameters(theirs) == parameters(ours)
    assert_same_logits(theirs, ours)
    fresh = CONVERT[library](layout)
    fresh.load_state_dict(OURS_TO_THEIRS[library](ours))
    assert_same_logits(fresh, ours)


@pytest.mark.parametrize(("library", "name"), CASES)
def test_their_weights_give_ours_their_logits(library, name):
    layout = LAYOUTS[name]()
    theirs = randomised(CONVERT[library](layout), seed=2)
    ours = ss.build(layout)
    ours.load_state_dict(THEIRS_TO_OURS[library](theirs.state_dict(), layout))
    assert parameters(ours) == parameters(theirs)
    assert_same_logits(theirs, ours)


@pytest.mark.parametrize(("library", "name"), CASES)
def test_training_mode_draws_the_same_dropout_and_drop_path(library, name):
    """The same random stream gives the same training-mode logits: the same rates, in the same blocks."""
    ours = randomised(ss.build(LAYOUTS[name]()), seed=3)
    theirs = CONVERT[library](ours)
    assert_same_logits(theirs, ours, train=True)


def test_a_different_drop_path_changes_the_training_logits():
    """The check above can fail: timm's model of another drop path draws other training-mode logits."""
    layout = LAYOUTS["b0"]()
    ours = ss.build(layout)
    theirs = ss.to_timm(replace(layout, drop_path=0.1))
    theirs.load_state_dict(ss.timm_state_dict(ours))
    assert not torch.allclose(logits(theirs, train=True), logits(ours, train=True), rtol=0, atol=TOLERANCE)


def test_a_trained_network_continues_with_timms_own_rates():
    """timm.create_model's keywords set the rates (and the classes of a layout), as its train.py passes them."""
    ours = ss.build(LAYOUTS["phi3"]())
    theirs = ss.to_timm(ours, drop_rate=0.5, drop_path_rate=0.1, pretrained=False, in_chans=3, pretrained_cfg=None)
    assert theirs.drop_rate == 0.5
    assert_same_logits(theirs, ours)
    assert ss.to_timm(ours.layout, num_classes=3).num_classes == 3


def test_the_converted_model_is_no_wrapper():
    assert not isinstance(ss.to_timm(LAYOUTS["b0"]()), Network)


def test_timms_resnet_gets_our_drop_path_in_our_blocks():
    """timm drops projection blocks too, at i/(n - 1): each block of the converted ResNet carries ours instead."""
    layout = LAYOUTS["resnet50-phi1"]()
    theirs = ss.to_timm(layout)
    blocks = [block for stage in (theirs.layer1, theirs.layer2, theirs.layer3, theirs.layer4) for block in stage]
    rates = [0.0 if block.drop_path is None else block.drop_path.drop_prob for block in blocks]
    assert rates == [0.0 if block.downsample is not None else layout.drop_path * i / len(blocks)
                     for i, block in enumerate(blocks)]
    assert layout.drop_path > 0 and any(rates)

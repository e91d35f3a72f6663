"""What a library cannot express is refused in one line of InputError, never approximated; so is a missing extra."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
import torch

import scaling_search as ss
from scaling_search.errors import InputError
from scaling_search.models.architecture import PAPER_COEFFICIENTS
from scaling_search.models.base_file import parse_base
from scaling_search.models.layout import Layout

CLASSES = 10
INSTALL = 'pip install "scaling-search[export]"'


def member(base: str) -> Layout:
    """The φ = 1 member of (1.2, 1.1, 1.15) on ``base``, with its family's dropout and drop path."""
    return ss.derive(*PAPER_COEFFICIENTS, phis=[1], num_classes=CLASSES, base=ss.base_network(base))[0].layout


def table(*stages: str) -> Layout:
    """A base of the given ``[[stages]]`` bodies whose channels round to multiples of 4 (the libraries' round to 8)."""
    text = "\n".join(["name = 'hand-written'", "stem_channels = 16", "base_resolution = 64", "head_channels = 64",
                      "[rules]", "channel_divisor = 4", *(f"[[stages]]\nrepeats = 2\nstride = 2\n{s}" for s in stages)])
    return ss.scale(num_classes=CLASSES, base=parse_base(text))


MBCONV = "block = 'mbconv'\nexpand_ratio = 4\nout_channels = 24"
ODD_MBCONV = "block = 'mbconv'\nexpand_ratio = 3\nout_channels = 20"
INVERTED_RESIDUAL = "block = 'inverted_residual'\nexpand_ratio = 4\nout_channels = 32"
BOTTLENECK = "block = 'bottleneck'\nbottleneck_ratio = 0.25\nout_channels = 64"


def b0() -> Layout:
    return ss.scale(width=0.5, depth=0.5, num_classes=CLASSES)


REFUSED = [
    pytest.param("timm", lambda: member("regnet_y_400mf"), "timm has no model class for a network of y_block stages",
                 id="timm-regnet"),
    pytest.param("timm", lambda: table(MBCONV, BOTTLENECK),
                 "timm has no model class for a network of bottleneck, mbconv stages", id="timm-mixed-kinds"),
    pytest.param("timm", lambda: replace(b0(), stem_stride=1), "timm's EfficientNet fixes the stem stride at 2",
                 id="timm-stem-stride"),
    pytest.param("timm", lambda: table(ODD_MBCONV),
                 r"timm's EfficientNet cannot express this layout exactly: its blocks\.0\.1\.conv_pw is Conv2d\(20, 64",
                 id="timm-expansion-rounding"),
    pytest.param("torchvision", lambda: member("resnet50"),
                 r"torchvision's ResNet fixes the stage widths at \(256, 512, 1024, 2048\); this layout has \(280,",
                 id="torchvision-resnet-widths"),
    pytest.param("torchvision", lambda: replace(ss.scale(num_classes=CLASSES, base=ss.base_network("resnet50")),
                                                drop_path=0.0),
                 "torchvision's ResNet has no classifier dropout, so this layout's dropout 0.2 cannot be expressed",
                 id="torchvision-resnet-dropout"),
    pytest.param("torchvision", lambda: member("mobilenet_v2"),
                 "torchvision's MobileNetV2 has no stochastic depth, so this layout's drop_path 0.2 cannot be "
                 "expressed",
                 id="torchvision-mobilenet-drop-path"),
    pytest.param("torchvision", lambda: replace(member("regnet_y_400mf"), dropout=0.0),
                 "torchvision's RegNet has no stochastic depth", id="torchvision-regnet-drop-path"),
    pytest.param("torchvision", lambda: replace(b0(), activation="relu"),
                 "torchvision's EfficientNet fixes the activation at silu; this layout has relu",
                 id="torchvision-activation"),
    pytest.param("torchvision", lambda: replace(b0(), se_ratio=0.5),
                 "torchvision's EfficientNet fixes the SE ratio at 0.25", id="torchvision-se-ratio"),
    pytest.param("torchvision", lambda: replace(b0(), head=None),
                 "torchvision's EfficientNet always has a head conv; this layout has none", id="torchvision-no-head"),
    pytest.param("torchvision", lambda: table(MBCONV, INVERTED_RESIDUAL),
                 "torchvision has no model class for a network of inverted_residual, mbconv stages",
                 id="torchvision-mixed-kinds"),
    pytest.param("torchvision", lambda: table(ODD_MBCONV),
                 r"torchvision's EfficientNet cannot express this layout exactly: its features\.1\.0\.block\.3\.0 is "
                 r"Conv2d\(48, 24", id="torchvision-channel-rounding"),
]
CONVERT = {"timm": ss.to_timm, "torchvision": ss.to_torchvision}
TO_THEIRS = {"timm": ss.timm_state_dict, "torchvision": ss.torchvision_state_dict}
TO_OURS = {"timm": ss.from_timm_state_dict, "torchvision": ss.from_torchvision_state_dict}


def one_line(error: pytest.ExceptionInfo[InputError]) -> str:
    message = str(error.value)
    assert message and "\n" not in message
    return message


@pytest.mark.parametrize(("library", "layout", "message"), REFUSED)
def test_an_unexpressible_layout_is_refused_in_one_line(library, layout, message):
    with pytest.raises(InputError, match=f"^{message}") as error:
        CONVERT[library](layout())
    one_line(error)


def test_the_weight_maps_refuse_what_the_conversion_refuses():
    network = ss.build(member("regnet_y_400mf"))
    with pytest.raises(InputError, match=r"^timm has no model class") as error:
        ss.timm_state_dict(network)
    one_line(error)
    with pytest.raises(InputError, match=r"^timm has no model class"):
        ss.from_timm_state_dict(network.state_dict(), network.layout)


@pytest.mark.parametrize(("library", "base"), [("torchvision", "mobilenet_v2"), ("torchvision", "regnet_y_400mf")])
def test_rates_the_library_lacks_still_map_the_weights(library, base):
    """Dropout and drop path hold no weights: the maps work both ways where the conversion refuses the rates."""
    layout = member(base)
    with pytest.raises(InputError, match=r"(dropout|drop_path) 0\.2 cannot be expressed"):
        CONVERT[library](layout)
    network = ss.build(layout)
    back = TO_OURS[library](TO_THEIRS[library](network), layout)
    assert list(back) == list(network.state_dict())
    assert all(torch.equal(back[key], value) for key, value in network.state_dict().items())


def test_a_state_dict_of_another_network_is_refused_in_one_line():
    layout = b0()
    state = ss.to_timm(layout).state_dict()
    del state["conv_stem.weight"]
    state["extra.weight"] = state["bn1.weight"]
    with pytest.raises(InputError, match=r"^the timm state dict does not fit this layout: missing conv_stem\.weight; "
                                         r"unexpected extra\.weight$") as error:
        ss.from_timm_state_dict(state, layout)
    one_line(error)


@pytest.mark.parametrize(("arguments", "message"), [
    ({"global_pool": "max"}, "to_timm takes no global_pool; of timm.create_model's keywords it takes num_classes, "),
    ({"pretrained": True}, "a layout has no pretrained weights"),
    ({"in_chans": 1}, r"our networks read 3 input channels \(RGB\), not in_chans=1$"),
    ({"drop_rate": 1.5}, r"dropout must lie in \[0, 1\), got 1.5"),
])
def test_to_timm_takes_only_the_create_model_keywords_it_honours(arguments, message):
    with pytest.raises(InputError, match=f"^{message}") as error:
        ss.to_timm(b0(), **arguments)
    one_line(error)


def test_a_network_keeps_its_own_classes():
    with pytest.raises(InputError, match=r"^num_classes 3 is not the network's 10: its classifier's weights cannot "
                                         r"be mapped$"):
        ss.to_timm(ss.build(b0()), num_classes=3)


@pytest.mark.parametrize("call", [
    lambda layout: ss.to_timm(layout),
    lambda layout: ss.timm_state_dict(ss.build(layout)),
    lambda layout: ss.from_timm_state_dict({}, layout),
], ids=["to_timm", "timm_state_dict", "from_timm_state_dict"])
def test_a_missing_extra_is_one_line_naming_it(call, monkeypatch):
    monkeypatch.setitem(sys.modules, "timm", None)  # `import timm` now raises ImportError, as when not installed
    with pytest.raises(InputError, match=r"^to_timm needs timm, which is not installed: ") as error:
        call(b0())
    assert one_line(error).endswith(INSTALL)


def test_torchvision_needs_no_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "timm", None)
    assert type(ss.to_torchvision(b0())).__name__ == "EfficientNet"


def test_timm_is_imported_only_when_a_network_is_handed_to_it():
    code = ("import sys, scaling_search as ss; from scaling_search.handoff import weights; "
            "ss.to_torchvision(ss.scale(width=0.25, depth=0.25)); print('timm' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert proc.stdout.strip() == "False"

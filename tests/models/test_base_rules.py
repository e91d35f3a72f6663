"""Each family's scaling rules, function by function, and that scale() follows the base's rules."""

from dataclasses import replace

import pytest
from torchvision.models.regnet import BlockParams

from scaling_search.errors import InputError
from scaling_search.models.bases import base_network
from scaling_search.models.rules import (
    ScalingRules,
    bottleneck_width,
    compatible_width,
    head_width,
    make_divisible,
    se_channels_rounded,
    stem_width,
)
from scaling_search.models.scaling import compound_layout, round_filters, round_repeats, scale, se_channels

PYCLS = ScalingRules(ten_percent=False, depth_rounding="round", scale_stem=False)


@pytest.mark.parametrize(("value", "ten_percent", "expected"), [
    (19.2, True, 24),  # 16 lost more than 10 %: one more divisor (TF round_filters, torchvision _make_divisible)
    (19.2, False, 16),  # pycls: nearest multiple only
    (38.4, True, 40), (38.4, False, 40),
    (35.2, True, 32),  # 32 ≥ 0.9 · 35.2: no bump
    (20.0, False, 24),  # an exact half rounds up (pycls's round() would give 16)
])
def test_ten_percent_rule(value, ten_percent, expected):
    assert make_divisible(value, 8, ten_percent=ten_percent) == expected


def test_ten_percent_rule_is_round_filters():
    for channels in (16, 24, 40, 80, 112, 192, 320, 1280):
        for width in (0.1, 0.37, 0.73, 1.1, 1.37, 2.0, 3.3):
            assert make_divisible(channels * width, 8) == round_filters(channels, width) \
                == ScalingRules().round_channels(channels, width)


def test_minimum_channels():
    assert make_divisible(2.0, 8) == 8  # never below the divisor by default
    assert make_divisible(2.0, 8, minimum=16) == 16
    assert ScalingRules(min_channels=32).round_channels(64, 0.1) == 32
    assert ScalingRules(channel_divisor=4).round_channels(64, 0.01) == 4


@pytest.mark.parametrize(("repeats", "depth", "ceil", "rounded"),
                         [(1, 1.1, 2, 1), (3, 1.6, 5, 5), (6, 1.3, 8, 8), (4, 0.1, 1, 1), (2, 1.25, 3, 2)])
def test_depth_rounding_modes(repeats, depth, ceil, rounded):
    assert round_repeats(repeats, depth, "ceil") == ceil
    assert round_repeats(repeats, depth, "round") == rounded  # at least one block; 2.5 rounds to even, as pycls


def test_each_base_rounds_depth_by_its_rules():
    assert scale(depth=1.1, base=base_network("resnet50")).repeats == [3, 4, 7, 3]  # pycls: round
    assert scale(depth=1.1, base=base_network("efficientnet_v2_s")).repeats == [3, 5, 5, 7, 10, 17]  # ceil
    resnet = base_network("resnet50")
    ceil = replace(resnet, rules=replace(resnet.rules, depth_rounding="ceil"))
    assert scale(depth=1.1, base=ceil).repeats == [4, 5, 7, 4]
    assert scale(depth=1.1, base=resnet, repeat_rounding="ceil").repeats == [4, 5, 7, 4]  # the argument still works
    assert scale(depth=1.1, repeat_rounding="round").repeats == [1, 2, 2, 3, 3, 4, 1]
    assert compound_layout(1.1, 1.0, 1.0, 1, base=resnet, repeat_rounding="ceil").repeats == [4, 5, 7, 4]


def test_stem_scaling_on_and_off():
    assert stem_width(32, 1.37, ScalingRules()) == 40
    assert stem_width(64, 1.37, PYCLS) == 64
    assert scale(width=1.37, base=base_network("resnet50")).stem == 64  # pycls keeps the stem
    assert scale(width=1.37, base=base_network("mobilenet_v2")).stem == 40  # torchvision scales input_channel
    regnet = base_network("regnet_y_400mf")
    assert scale(width=1.37, base=replace(regnet, rules=replace(regnet.rules, scale_stem=True))).stem == 40


def test_head_scaling_modes():
    assert head_width(1280, 0.5, ScalingRules()) == 640
    assert head_width(1280, 0.5, ScalingRules(head_scaling="fixed")) == 1280
    assert head_width(1280, 2.0, ScalingRules(head_scaling="fixed")) == 1280
    assert head_width(None, 2.0, ScalingRules()) is None


@pytest.mark.parametrize(("width", "head"), [(0.35, 1280), (0.5, 1280), (0.75, 1280), (1.0, 1280), (1.4, 1792)])
def test_mobilenet_v2_head_never_shrinks(width, head):
    """torchvision: last_channel = _make_divisible(1280 * max(1.0, width_mult), 8)."""
    import torchvision

    layout = scale(width=width, base=base_network("mobilenet_v2"))
    assert layout.head == head == torchvision.models.mobilenet_v2(width_mult=width).last_channel
    assert layout.stem == torchvision.models.mobilenet_v2(width_mult=width).features[0][0].out_channels
    assert head_width(1280, width, ScalingRules(head_scaling="grow")) == head


def test_group_width_compatibility():
    assert compatible_width(72, 1.0, 16) == (80, 16)  # 72 is 4.5 groups of 16: rounded up to 5
    assert compatible_width(64, 1.0, 16) == (64, 16)  # already a multiple: unchanged
    assert compatible_width(8, 1.0, 16) == (8, 8)  # the group width is capped at the width
    assert compatible_width(252, 0.5, 8) == (256, 8)  # bottleneck 126 → 128, out = 128 / 0.5
    for width in (0.3, 0.61, 0.73, 1.37, 2.2):  # as torchvision's _adjust_widths_groups_compatibilty
        outs = [make_divisible(w * width, 8, ten_percent=False) for w in (48, 104, 208, 440)]
        widths, group_widths = BlockParams._adjust_widths_groups_compatibilty(outs, [1.0] * 4, [24] * 4)
        assert [compatible_width(w, 1.0, 24) for w in outs] == list(zip(widths, group_widths, strict=True))


def test_regnet_scales_to_compatible_widths_or_not():
    regnet = base_network("regnet_y_400mf")
    wide = replace(regnet, stages=tuple(replace(s, group_width=24, out_channels=s.out_channels * 3)
                                        for s in regnet.stages))
    layout = scale(width=0.61, base=wide)
    assert all(s.out_channels % s.group_width == 0 for s in layout.stages)
    with pytest.raises(InputError, match="stage 1: group width 24 does not divide the bottleneck width 88"):
        scale(width=0.61, base=replace(wide, rules=replace(wide.rules, group_compatibility=False)))


def test_bottleneck_and_se_widths():
    assert bottleneck_width(256, 0.25) == 64 and bottleneck_width(186, 0.25) == 46 and bottleneck_width(2, 0.25) == 1
    assert se_channels(48, 0.25) == 12 and se_channels(10, 0.25) == 2 and se_channels(14, 0.25) == 3
    assert se_channels_rounded(10, 0.25) == 2 and se_channels_rounded(14, 0.25) == 4  # 2.5 → 2, 3.5 → 4 (round())


def test_rules_check_themselves():
    for bad, message in [({"channel_divisor": 0}, "channel_divisor must be an integer"),
                         ({"ten_percent": 1}, "ten_percent must be true or false"),
                         ({"head_scaling": "shrink"}, "head_scaling must be one of scale, grow, fixed")]:
        with pytest.raises(InputError, match=message):
            ScalingRules(**bad)


@pytest.mark.parametrize("ratio", [0.25, 0.5, 0.75, 1.0, 2.0, 4.0])
@pytest.mark.parametrize("group_width", [1, 3, 8, 16, 24])
def test_compatible_widths_always_build(ratio, group_width):
    """Whatever the ratio and group width, the adjusted stage passes the layout's check: its groups divide it."""
    for out in range(8, 400, 4):
        width, groups = compatible_width(out, ratio, group_width)
        assert bottleneck_width(width, ratio) % groups == 0, (out, width, groups)

"""Each rounding rule, the SE width, drop-path schedule and skip condition, in isolation."""

import itertools
import math

import pytest

from scaling_search.models.architecture import RELEASED_FAMILY, released_model
from scaling_search.models.network import has_identity_skip
from scaling_search.models.scaling import (
    compound_layout,
    drop_path_rate,
    family_dropout,
    released_layout,
    round_filters,
    round_repeats,
    scale,
    scale_resolution,
    se_channels,
)


@pytest.mark.parametrize(
    ("channels", "width", "expected"),
    [
        (32, 1.0, 32),
        (32, 1.1, 32),  # 35.2 → 32, not below 90 %
        (32, 1.2, 40),  # 38.4 → 40 (nearest multiple)
        (16, 1.2, 24),  # 19.2 → 16 loses > 10 % → +8
        (1280, 1.1, 1408),
        (1280, 2.0, 2560),
        (16, 0.1, 8),  # never below the divisor
        (320, 1.4, 448),
    ],
)
def test_round_filters(channels, width, expected):
    assert round_filters(channels, width) == expected


def test_round_filters_ten_percent_rule_fires_only_when_needed():
    scaled = 16 * 1.2
    plain = int(scaled + 4) // 8 * 8
    assert plain < 0.9 * scaled and round_filters(16, 1.2) == plain + 8
    assert round_filters(40, 1.2) == 48  # 48 ≥ 0.9 · 48: no bump


@pytest.mark.parametrize(("repeats", "depth", "ceil", "rounded"),
                         [(1, 1.1, 2, 1), (2, 1.2, 3, 2), (4, 3.1, 13, 12), (3, 1.0, 3, 3), (1, 0.2, 1, 1)])
def test_round_repeats(repeats, depth, ceil, rounded):
    assert round_repeats(repeats, depth) == ceil
    assert round_repeats(repeats, depth, "round") == rounded


def test_round_repeats_rejects_unknown_mode():
    with pytest.raises(ValueError, match="ceil"):
        round_repeats(2, 1.1, "floor")


def test_scale_resolution():
    assert scale_resolution(224, 1.15, 1) == 258
    assert scale_resolution(224, 1.15, 2) == round(224 * 1.15**2)
    assert scale_resolution(224, 1.15, 1, multiple=8) == 256
    assert scale_resolution(224, 1.15, -1) == round(224 / 1.15)
    with pytest.raises(ValueError):
        scale_resolution(224, 1.15, 1, multiple=0)


def test_se_width_is_of_block_input_not_expanded():
    assert se_channels(16, 0.25) == 4  # expanded width would be 96 → 24
    assert se_channels(3, 0.25) == 1  # at least one channel
    model_layout = scale()
    from scaling_search.models.network import build

    net = build(model_layout)
    second_block = net.blocks[1]  # 16 → 24, expanded 96
    se = second_block.branch[2]
    assert se.reduce.out_channels == 4 and se.reduce.in_channels == 96


def test_drop_path_schedule_linear_from_zero():
    rates = [drop_path_rate(i, 16, 0.2) for i in range(16)]
    assert rates[0] == 0.0
    assert rates[-1] == pytest.approx(0.2 * 15 / 16)
    assert all(b > a for a, b in itertools.pairwise(rates))
    from scaling_search.models.network import build

    net = build(scale())
    built = [b.drop_path.rate for b in net.blocks if b.has_skip]
    expected = [drop_path_rate(i, 16, 0.2) for i, b in enumerate(net.blocks) if b.has_skip]
    assert built == pytest.approx(expected)


def test_skip_only_with_stride_one_and_same_channels():
    assert has_identity_skip(24, 24, 1)
    assert not has_identity_skip(24, 24, 2)
    assert not has_identity_skip(16, 24, 1)
    from scaling_search.models.network import build

    net = build(scale())
    # B0 has 16 blocks; the first of each stage changes shape, so 16 − 7 = 9 have a skip.
    assert sum(b.has_skip for b in net.blocks) == 9


def test_released_repeats_and_b3_rounding():
    b1, b2, b3 = (released_layout(released_model(n)) for n in ("b1", "b2", "b3"))
    assert b1.repeats == b2.repeats == [2, 3, 3, 4, 4, 5, 2]
    assert b3.stem == 40 and b3.channels[0] == 24
    assert b3.head == round_filters(1280, 1.2)  # the head follows round_filters, not 4 × last stage


def test_released_table_is_data():
    assert [(m.width, m.depth, m.resolution, m.dropout) for m in RELEASED_FAMILY] == [
        (1.0, 1.0, 224, 0.2), (1.0, 1.1, 240, 0.2), (1.1, 1.2, 260, 0.3), (1.2, 1.4, 300, 0.3),
        (1.4, 1.8, 380, 0.4), (1.6, 2.2, 456, 0.4), (1.8, 2.6, 528, 0.5), (2.0, 3.1, 600, 0.5),
    ]
    with pytest.raises(ValueError, match="unknown model"):
        released_model("b9")
    assert released_model("EfficientNet-B3").name == "b3"


def test_compound_layout_is_pure():
    first = compound_layout(1.2, 1.1, 1.15, 1)
    second = compound_layout(1.2, 1.1, 1.15, 1)
    assert first == second and hash(first) == hash(second)
    assert first.width == pytest.approx(1.1) and first.depth == pytest.approx(1.2) and first.resolution == 258
    with pytest.raises(Exception):  # noqa: B017 - frozen dataclass
        first.resolution = 1  # type: ignore[misc]


def test_family_dropout_follows_released():
    assert [family_dropout(p) for p in range(8)] == [m.dropout for m in RELEASED_FAMILY]
    assert family_dropout(-1) == 0.2 and family_dropout(12) == 0.5


@pytest.mark.parametrize("bad", [dict(width=0), dict(depth=-1), dict(resolution=0), dict(num_classes=0),
                                 dict(dropout=1.0), dict(width=math.inf)])
def test_scale_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        scale(**bad)


def test_layout_round_trips_through_dict():
    layout = compound_layout(1.2, 1.1, 1.15, 2, num_classes=10)
    from scaling_search.models.scaling import Layout

    assert Layout.from_dict(layout.to_dict()) == layout
    with pytest.raises(ValueError, match="not a layout"):
        Layout.from_dict({"width": 1})


def test_zero_init_starts_residual_blocks_as_identity_and_logits_at_zero():
    import torch

    from scaling_search.models.network import build, zero_init_residuals

    net = build(scale(0.5, 0.5, 32, num_classes=10))
    zero_init_residuals(net)
    net.eval()
    assert torch.count_nonzero(net(torch.randn(2, 3, 32, 32))) == 0
    for block in net.blocks:
        gamma = block.branch[-1][1].weight
        assert (torch.count_nonzero(gamma) == 0) == block.has_skip


def test_init_is_the_references_fan_out_normal_with_depthwise_fan_out_k_squared():
    """Conv kernels have stddev sqrt(2 / (k·k·out/groups)), the classifier uniform(±1/sqrt(classes)).

    ``kaiming_normal_(mode="fan_out")`` counted a depthwise kernel's fan-out as k·k·channels, where
    TF's [k, k, channels, 1] kernel gives k·k: B0's depthwise kernels were 1/sqrt(channels) too small
    (0.0139 instead of 0.4714 for the last block's 3×3 over 1152 channels).
    """
    import torch

    from scaling_search.models.network import build

    torch.manual_seed(0)
    net = build(scale())  # B0, 1000 classes
    last = net.blocks[-1].branch  # stage 7: 1×1 expansion 192→1152, 3×3 depthwise, SE, 1×1 projection 1152→320
    depthwise, projection = last[1][0], last[-1][0]
    assert depthwise.weight.shape == (1152, 1, 3, 3) and projection.weight.shape == (320, 1152, 1, 1)
    assert depthwise.weight.std().item() == pytest.approx(0.4714, rel=0.03)  # sqrt(2 / 9)
    assert projection.weight.std().item() == pytest.approx(0.07906, rel=0.03)  # sqrt(2 / 320)
    assert abs(projection.weight.mean().item()) < 0.001
    classifier = net.classifier.weight
    assert classifier.abs().max().item() <= 0.031623  # 1 / sqrt(1000)
    assert classifier.std().item() == pytest.approx(0.018257, rel=0.03)  # 1 / sqrt(3000), a uniform's stddev

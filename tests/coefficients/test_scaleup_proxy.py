"""Scale-up members priced where they train: the proxy network's MACs, its ratio to the study member's, the match."""

import pytest

from scaling_search.coefficients.grid import GridSpec
from scaling_search.coefficients.scaleup import scale_up_members
from scaling_search.counting.analytic import Counts, analytic_counts
from scaling_search.models.scaling import Layout, compound_layout

SPEC = GridSpec(base_resolution=32, num_classes=10)
BEST = (1.0, 1.2, 1.104)  # the committed CPU study's answer


def pixels(layout: Layout) -> Counts:
    """A toy counter whose cost is the input's pixel count, so every ratio can be checked by hand."""
    return Counts(params=1, macs=layout.resolution ** 2, activations=1)


def test_proxy_ratios_by_hand_with_a_pixel_counter():
    found = {m.kind: m for m in scale_up_members(SPEC, BEST, 2, pixels)}
    study = found["study"]
    # 32 px × 1.104² = 39.0 → 40 px at the proxy; 224 px × 1.104² = 273.0 → 272 px at the cost scale (multiples of 4)
    assert (study.proxy_resolution, study.cost_resolution) == (40, 272)
    assert (study.proxy_macs, study.macs, study.proxy_ratio, study.cost_ratio) == (1600, 73984, 1.0, 1.0)
    for kind in ("depth-only", "width-only"):  # γ = 1: 32 px and 224 px
        member = found[kind]
        assert (member.proxy_macs, member.macs) == (32 ** 2, 224 ** 2)
        assert member.proxy_ratio == pytest.approx(1024 / 1600) and member.cost_ratio == pytest.approx(50176 / 73984)
        assert not member.proxy_matched and not member.matched and not member.comparable
    resolution = found["resolution-only"]  # γ = 1.31: 32 × 1.7161 = 54.9 → 56 px, 224 × 1.7161 = 384.4 → 384 px
    assert resolution.coefficients == (1.0, 1.0, 1.31)
    assert resolution.proxy_ratio == pytest.approx(56 ** 2 / 1600) and resolution.cost_ratio == pytest.approx(
        384 ** 2 / 73984)


def test_members_matched_at_the_cost_scale_train_with_less_compute_at_a_32_px_proxy():
    found = {m.kind: m for m in scale_up_members(SPEC, BEST, 2, analytic_counts)}
    study_proxy = analytic_counts(compound_layout(*BEST, 2, 32, 10, 4)).macs
    assert found["study"].proxy_macs == study_proxy and found["study"].comparable
    ratios = {}
    for kind in ("depth-only", "width-only", "resolution-only"):
        member = found[kind]
        assert member.proxy_macs == analytic_counts(member.proxy_layout).macs
        assert member.proxy_ratio == pytest.approx(member.proxy_macs / study_proxy, rel=1e-12)
        assert member.matched and not member.proxy_matched and not member.comparable
        ratios[kind] = round(member.proxy_ratio, 3)
    # the study member's 40 px network against 32 px (depth, width) and 56 px (resolution) ones
    assert ratios == {"depth-only": 0.627, "width-only": 0.635, "resolution-only": 0.702}
    assert not found["paper"].comparable


def test_members_are_comparable_when_the_proxy_is_the_cost_scales_resolution():
    spec = GridSpec(base_resolution=224, num_classes=10)
    for member in scale_up_members(spec, BEST, 2, analytic_counts):
        if member.kind != "paper":
            assert member.matched and member.proxy_matched and member.comparable, member
            assert abs(member.proxy_ratio - 1) <= spec.tolerance


def test_the_proxy_preference_never_gives_up_the_cost_scale_match():
    for resolution in (32, 64, 160):
        spec = GridSpec(base_resolution=resolution, num_classes=10)
        for phi in (2, 3):
            for member in scale_up_members(spec, BEST, phi, analytic_counts)[2:]:
                assert member.matched and abs(member.cost_ratio - 1) <= spec.tolerance, (resolution, phi, member)

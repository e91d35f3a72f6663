"""A family's growth per φ (issue #21): measured at its φ = 7 member, at the cost scale, with its rounding."""

from __future__ import annotations

import pytest

from scaling_search.coefficients.grid import GridSpec, cost_layout, proxy_layout
from scaling_search.coefficients.growth import GROWTH_PHI, family_growth
from scaling_search.counting.analytic import analytic_counts
from scaling_search.models.scaling import base_layout, compound_layout


def test_the_papers_point_grows_1_938_per_phi_and_a_rounding_point_far_less():
    paper = family_growth((1.2, 1.1, 1.15))
    assert paper.phi == GROWTH_PHI == 7 and paper.per_phi == pytest.approx(1.938, abs=5e-4)
    assert paper.per_phi**7 == pytest.approx(102.8, abs=0.05) and paper.on_growth(2.0, 0.05)
    slow = family_growth((1.05, 1.05, 1.05))  # meets 2x at phi = 1 by rounding alone
    assert slow.per_phi < 1.4 and slow.per_phi**7 == pytest.approx(6.5, abs=0.05) and not slow.on_growth(2.0, 0.05)


def test_growth_is_the_phi_7_members_cost_over_the_base_at_the_cost_scale():
    layout = compound_layout(1.3, 1.0, 1.1, 7, 224, 1000, 4)
    ratio = analytic_counts(layout).macs / analytic_counts(base_layout(224, 1000, 4)).macs
    assert family_growth((1.3, 1.0, 1.1)).per_phi == pytest.approx(ratio ** (1 / 7), rel=1e-12)
    assert ratio == pytest.approx(26.3, abs=0.05)


def test_a_member_that_cannot_be_built_falls_back_to_the_largest_phi_that_can():
    growth = family_growth((2.0, 1.0, 1.0))  # 2^7 = 128 is past the largest depth multiplier
    assert growth.phi == 6 and growth.reduced
    assert growth.per_phi == pytest.approx(
        (analytic_counts(compound_layout(2.0, 1.0, 1.0, 6, 224, 1000, 4)).macs
         / analytic_counts(base_layout(224, 1000, 4)).macs) ** (1 / 6), rel=1e-12)


@pytest.mark.parametrize("gamma", [1.05, 1.1, 1.15, 1.2, 1.3, 1.45])
def test_the_proxy_and_the_cost_scale_round_resolution_alike(gamma):
    """Before, γ = 1.15 from a 224 px base trained at 258 px (multiple 1) while the cost scale priced 256 px."""
    spec = GridSpec(base_resolution=224, num_classes=10, cost_resolution=224)
    assert proxy_layout(spec, 1.0, 1.0, gamma).resolution == cost_layout(spec, 1.0, 1.0, gamma).resolution
    assert proxy_layout(spec, 1.0, 1.0, gamma).resolution % spec.resolution_multiple == 0
    assert proxy_layout(spec, 1.0, 1.0, 1.15).resolution == 256


def test_a_base_resolution_off_the_multiple_is_refused():
    from scaling_search.errors import InputError

    with pytest.raises(InputError, match="not a multiple of the resolution multiple 4"):
        GridSpec(base_resolution=30)
    assert GridSpec(base_resolution=30, resolution_multiple=1).base_layout().resolution == 30

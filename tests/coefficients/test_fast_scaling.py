"""Fast scaling (Dollár, Singh & Girshick 2021): the split of the cost exponent, the nominal point, the match."""

from __future__ import annotations

import math

import pytest

from scaling_search.coefficients.fast_scaling import (
    FAST_WIDTH_SHARE,
    FastPoint,
    activation_exponent,
    fast_coefficients,
    fast_exponents,
    fast_point,
    matched_fast_coefficients,
    rounded,
    search_factors,
)
from scaling_search.coefficients.growth import family_growth
from scaling_search.counting.analytic import analytic_counts
from scaling_search.errors import InputError
from scaling_search.models.architecture import RESOLUTION_MULTIPLE
from scaling_search.models.bases import base_network
from scaling_search.models.scaling import base_layout, compound_layout

SHARES = (0.1, 0.5, FAST_WIDTH_SHARE, 0.95, 1.0)
SEARCH_TOLERANCE = 0.002
"""One step of the search, as a relative cost (SEARCH_LOG_STEP): a smooth cost is matched this closely."""


def nominal(point: tuple[float, float, float]) -> float:
    alpha, beta, gamma = point
    return alpha * beta**2 * gamma**2


def macs_ratio(resolution: int = 224, base_name: str = "efficientnet_b0", phi: float = 1.0):
    """The closed-form MACs of a point's member at ``phi`` over the base's, as ``derive --fast`` prices it."""
    base = base_network(base_name)
    base_macs = analytic_counts(base_layout(resolution, 1000, RESOLUTION_MULTIPLE, base=base)).macs

    def ratio(point: tuple[float, float, float]) -> float:
        layout = compound_layout(*point, phi, resolution, 1000, RESOLUTION_MULTIPLE, base=base)
        return analytic_counts(layout).macs / base_macs

    return ratio


def nearest_on_axis(width_share, cost_ratio, target_ratio, phi=1.0):
    """Brute force: every point of the search axis, the smallest of those whose cost is nearest the target."""
    points = [rounded(fast_coefficients(width_share, factor)) for factor in search_factors(target_ratio, phi)]
    errors = [abs(cost_ratio(point) - target_ratio) for point in points]
    return points[errors.index(min(errors))], min(errors)


@pytest.mark.parametrize("share", SHARES)
def test_the_exponents_sum_to_1_and_depth_and_resolution_split_the_rest(share):
    depth, width, resolution = fast_exponents(share)
    assert depth + width + resolution == pytest.approx(1, abs=1e-12)
    assert width == share and depth == resolution >= 0


@pytest.mark.parametrize("share", SHARES)
@pytest.mark.parametrize("target", [1.5, 2.0, 4.0])
def test_the_nominal_point_costs_the_target_per_phi(share, target):
    point = fast_coefficients(share, target)
    assert nominal(point) == pytest.approx(target, rel=1e-12)
    assert all(value >= 1 for value in point)


def test_the_default_point_is_the_papers_dwr_at_2x_per_phi():
    alpha, beta, gamma = fast_coefficients()
    assert (round(alpha, 4), round(beta, 4), round(gamma, 4)) == (1.0718, 1.3195, 1.0353)
    assert (alpha, beta, gamma) == pytest.approx((2**0.1, 2**0.4, 2**0.05), rel=1e-12)
    assert fast_exponents() == (0.1, 0.8, 0.1)


def test_activations_grow_as_s_to_the_0_6_at_the_papers_width_share():
    assert activation_exponent() == pytest.approx(0.6, abs=1e-12)
    assert activation_exponent(1.0) == 0.5  # width alone: activations grow as sqrt(s)
    alpha, beta, gamma = fast_coefficients(0.8, 2.0)
    assert math.log(alpha * beta * gamma**2, 2) == pytest.approx(0.6, abs=1e-12)  # depth · width · resolution²


def test_a_width_share_of_1_scales_width_only():
    assert fast_coefficients(1.0, 2.0) == (1.0, 2**0.5, 1.0)
    alpha, _, gamma = matched_fast_coefficients(1.0, macs_ratio(), 2.0)
    assert alpha == gamma == 1.0


@pytest.mark.parametrize("share", [0.0, -0.2, 1.01, math.nan, math.inf])
def test_a_bad_width_share_is_refused(share):
    for call in (lambda: fast_exponents(share), lambda: fast_coefficients(share), lambda: activation_exponent(share),
                 lambda: matched_fast_coefficients(share, nominal, 2.0)):
        with pytest.raises(InputError, match=r"width share must lie in \(0, 1\]"):
            call()


@pytest.mark.parametrize("target", [1.0, 0.5, math.inf, math.nan])
def test_a_target_that_does_not_scale_up_is_refused(target):
    with pytest.raises(InputError, match="target cost ratio must be > 1"):
        fast_coefficients(0.8, target)


@pytest.mark.parametrize(("target_ratio", "phi"), [(1.0, 1.0), (0.5, 1.0), (2.0, -1.0), (2.0, 0.0), (math.inf, 1.0)])
def test_a_cost_ratio_that_the_rule_cannot_reach_is_refused(target_ratio, phi):
    with pytest.raises(InputError):
        matched_fast_coefficients(0.8, nominal, target_ratio, phi=phi)


def test_on_a_stepped_fake_cost_the_match_is_the_smallest_point_with_the_nearest_cost():
    def stepped(point):  # a cost that moves in steps of 0.3, as rounding makes it
        return math.floor(nominal(point) / 0.3) * 0.3

    matched = matched_fast_coefficients(0.8, stepped, 2.0)
    assert (matched, abs(stepped(matched) - 2.0)) == nearest_on_axis(0.8, stepped, 2.0)
    assert stepped(matched) == pytest.approx(2.1)  # 7 steps of 0.3: nearer 2 than 1.8
    assert nominal(matched) == pytest.approx(2.1, rel=SEARCH_TOLERANCE)  # the step's first point, not one above it


def test_on_the_nominal_cost_the_match_is_the_nominal_point():
    assert nominal(matched_fast_coefficients(0.8, nominal, 2.0)) == pytest.approx(2.0, rel=SEARCH_TOLERANCE)


@pytest.mark.parametrize(("share", "resolution", "base_name"), [(0.8, 224, "efficientnet_b0"),
                                                                (0.5, 224, "efficientnet_b0"),
                                                                (0.8, 128, "efficientnet_b0"),
                                                                (0.8, 224, "resnet50")])
def test_on_closed_form_macs_the_matched_cost_is_the_nearest_on_the_axis(share, resolution, base_name):
    cost = macs_ratio(resolution, base_name)
    matched = matched_fast_coefficients(share, cost, 2.0)
    assert (matched, abs(cost(matched) - 2.0)) == nearest_on_axis(share, cost, 2.0)
    assert all(value >= 1 for value in matched)
    assert cost(matched) == pytest.approx(2.0, rel=0.05)  # the grid's default tolerance


def test_a_match_at_phi_2_reaches_the_ratio_at_phi_2():
    cost = macs_ratio(phi=2.0)
    matched = matched_fast_coefficients(0.8, cost, 4.0, phi=2.0)
    assert (matched, abs(cost(matched) - 4.0)) == nearest_on_axis(0.8, cost, 4.0, phi=2.0)
    assert cost(matched) == pytest.approx(4.0, rel=0.05)


def test_the_search_axis_is_per_phi_and_reaches_past_the_nominal_factor():
    factors = search_factors(2.0)
    assert factors == sorted(factors) and factors[0] > 1 and factors[-1] > 2 ** 1.9
    assert search_factors(4.0, phi=2.0) == factors == search_factors(0.5, phi=-1.0)


def test_a_point_the_cost_refuses_is_skipped_and_none_at_all_is_an_input_error():
    def unbuildable_above(limit):
        def cost(point):
            if nominal(point) > limit:
                raise InputError("cannot be built")
            return nominal(point)
        return cost

    assert nominal(matched_fast_coefficients(0.8, unbuildable_above(1.5), 2.0)) <= 1.5
    with pytest.raises(InputError, match=r"no fast-scaling point with width share 0\.8 can be built"):
        matched_fast_coefficients(0.8, unbuildable_above(1.0), 2.0)


def test_fast_point_is_the_nominal_point_matched_in_growth_per_phi():
    point = fast_point()
    assert point.width_share == 0.8 and point.nominal == fast_coefficients()
    growth = lambda p: family_growth(p).per_phi  # noqa: E731
    assert point.matched == matched_fast_coefficients(0.8, growth, 2.0)
    assert point.growth_per_phi == growth(point.matched) == pytest.approx(2.0, rel=0.005)
    assert point.matched_ratio == macs_ratio()(point.matched)
    assert set(point.to_dict()) == {"width_share", "nominal", "matched", "growth_per_phi", "matched_ratio", "cost"}
    other = fast_point(0.8, 2.0, base_resolution=128, num_classes=10, base=base_network("resnet50"))
    assert other.matched != point.matched and other.nominal == point.nominal


def test_matched_in_activations_the_family_doubles_its_activations():
    point = fast_point(cost="activations")
    assert point.cost == "activations"
    assert family_growth(point.matched, cost="activations").per_phi == pytest.approx(2.0, rel=0.005)
    assert family_growth(point.matched).per_phi > 2.2  # its MACs grow faster: width costs MACs twice


def test_matching_at_phi_1_on_b0_would_trade_width_for_the_block_depth_adds_to_every_stage():
    """Any depth above 1 rounds every stage up a block (1.48x B0): matched at phi = 1 the family keeps little width and
    grows far slower than 2x per phi, which is why a family is matched by its growth (docs/fast_scaling.md)."""
    at_phi_1 = matched_fast_coefficients(0.8, macs_ratio(), 2.0)
    assert at_phi_1[1] < 1.11 < fast_coefficients()[1]
    assert family_growth(at_phi_1).per_phi < 1.4
    assert family_growth(fast_point().matched).per_phi == pytest.approx(2.0, rel=0.005)


def test_a_fast_point_checks_itself():
    with pytest.raises(InputError, match="width share"):
        FastPoint(1.5, (1.1, 1.2, 1.0), (1.1, 1.2, 1.0), 2.0, 2.0, "macs")
    with pytest.raises(InputError, match="matched fast coefficients must be finite and >= 1"):
        FastPoint(0.8, (1.1, 1.2, 1.0), (0.9, 1.2, 1.0), 2.0, 2.0, "macs")
    with pytest.raises(InputError, match="matched cost ratio"):
        FastPoint(0.8, (1.1, 1.2, 1.0), (1.1, 1.2, 1.0), 2.0, math.nan, "macs")

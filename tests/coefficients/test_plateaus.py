"""Plateaus (the coefficients a grid at φ cannot tell apart) and their refinement at 2φ."""

import math

import pytest

from scaling_search.coefficients.grid import GridSpec, cost_layout, nominal_ratio, proxy_layout, within
from scaling_search.coefficients.grid_checks import axis_values
from scaling_search.coefficients.plateaus import Plateau, fine_values, plateau, plateau_spread, refinement_points
from scaling_search.counting.analytic import analytic_counts
from scaling_search.errors import InputError

PAPER = (1.2, 1.1, 1.15)
SPEC = GridSpec(base_resolution=32, num_classes=10)  # cost at 224 px rounded to 4, 1000 classes; α 1..2, β, γ 1..1.5


def networks(spec, coefficients, phi=None):
    """The proxy's and the cost-scale network's structure at ``phi`` (default ``spec.phi``)."""
    if phi is not None and phi != spec.phi:
        spec = GridSpec(**{**vars(spec), "phi": phi})
    return proxy_layout(spec, *coefficients).structure_key(), cost_layout(spec, *coefficients).structure_key()


def moved(point, axis, value):
    return tuple(value if index == axis else coefficient for index, coefficient in enumerate(point))


def test_paper_plateau_at_phi_1_is_the_hand_computed_box():
    box = plateau(SPEC, PAPER)
    # α: B0's repeats 1, 2, 2, 3, 3, 4, 1 become ceil(r·α) = 2, 3, 3, 4, 4, 5, 2 at α = 1.2. ceil(α) = 2 holds on
    # (1, 2], ceil(2α) = 3 on (1, 1.5], ceil(3α) = 4 on (1, 4/3], ceil(4α) = 5 on (1, 1.25]: α in (1, 1.25].
    assert box.alpha == pytest.approx((1.0, 1.25), abs=1e-6)
    # β: scale() rounds the stem 32, the stage outputs 16, 24, 40, 80, 112, 192, 320 and the head 1280 (the stage
    # inputs are the previous outputs; expansion and SE channels are derived, not rounded). A channel c rounded to
    # n keeps n while int(cβ + 4) // 8 · 8 = n, i.e. cβ in [n − 4, n + 4), and cβ ≤ n / 0.9 (10 % rule). At 1.1:
    #   32 · 1.1 = 35.2 -> 32: 10 % rule cβ ≤ 35.56             β ≤ 1.11111
    #   16 · 1.1 = 17.6 -> 16: cβ ≤ 17.78                       β ≤ 1.11111
    #   24 · 1.1 = 26.4 -> 24: cβ ≤ 26.67                       β ≤ 1.11111
    #   40 · 1.1 = 44   -> 48: cβ in [44, 52)                   β in [1.1, 1.3)          <- binds below
    #   80 · 1.1 = 88   -> 88: cβ in [84, 92)                   β in [1.05, 1.15)
    #  112 · 1.1 = 123.2 -> 120: cβ in [116, 124)               β in [1.0357, 1.10714)
    #  192 · 1.1 = 211.2 -> 208: cβ in [204, 212)               β in [1.0625, 1.10417)
    #  320 · 1.1 = 352  -> 352: cβ in [348, 356)                β in [1.0875, 1.1125)
    # 1280 · 1.1 = 1408 -> 1408: cβ in [1404, 1412)             β in [1.096875, 1.103125) <- binds above
    # so β in [1.1, 1.103125): the paper's β is the smallest of its class. Proxy and cost scale share the widths.
    assert box.beta == pytest.approx((1.1, 1412 / 1280), abs=1e-6)
    # γ: proxy round(32γ) = 37 (32 · 1.15 = 36.8): 36.5 and 37.5 both round to even, so 32γ in (36.5, 37.5),
    # γ in (1.140625, 1.171875). Cost round(224γ / 4) · 4 = 256 (56 · 1.15 = 64.4): 63.5 and 64.5 both round to
    # 64, so 56γ in [63.5, 64.5], γ in [1.133929, 1.151786]. They overlap: γ in (1.140625, 64.5 / 56], the
    # proxy binding below and the cost scale above.
    assert box.gamma == pytest.approx((36.5 / 32, 64.5 / 56), abs=1e-6)
    assert box.point == PAPER and box.phi == 1.0
    assert box.bounds() == {"alpha": [1.0, 1.25], "beta": [1.1, 1.103125], "gamma": [1.140625, 1.151786]}
    assert box.is_wide(0.05) and not box.is_wide(0.25)  # α's interval is 0.25 long, the others ≈ 0.01


def test_every_float_in_the_box_realises_the_point_networks_and_the_next_one_out_does_not():
    box = plateau(SPEC, PAPER)
    key = networks(SPEC, PAPER)
    for axis, (lo, hi) in enumerate(box.intervals):
        for inside in (lo, hi, (lo + hi) / 2):
            assert networks(SPEC, moved(PAPER, axis, inside)) == key
            assert box.contains(moved(PAPER, axis, inside))
        for outside in (math.nextafter(lo, 0), math.nextafter(hi, 2)):
            assert networks(SPEC, moved(PAPER, axis, outside)) != key
            assert not box.contains(moved(PAPER, axis, outside))
    # the ends as the rounding rules leave them: α = 1 (ceil) and 32γ = 36.5 (round to even) are open, β = 1.1 closed
    assert box.alpha[0] > 1.0 and box.gamma[0] > 36.5 / 32 and box.beta[0] == 1.1


def test_representative_is_the_rounded_midpoint_and_realises_the_same_networks():
    box = plateau(SPEC, PAPER)
    representative = box.representative()
    assert representative == (1.125, 1.1016, 1.1462)
    assert box.contains(representative)
    assert networks(SPEC, representative) == networks(SPEC, PAPER)
    assert representative != (box.alpha[0], box.beta[0], box.gamma[0])  # not the corner distinct_layouts keeps


def test_representative_keeps_the_unrounded_midpoint_where_rounding_would_leave_the_interval():
    box = Plateau((1.10002, 1.2, 1.3), 1.0, (1.10001, 1.10004), (1.0, 1.5), (1.2, 1.3))
    alpha, beta, gamma = box.representative()
    assert alpha == pytest.approx(1.100025, abs=1e-12) and round(alpha, 4) == 1.1  # 1.1 lies below the interval
    assert (beta, gamma) == (1.25, 1.25)


@pytest.mark.parametrize("phi", [2.0, 0.5, -1.0, -2.0])
def test_plateau_at_other_phis_is_a_box_of_the_same_networks(phi):
    box = plateau(SPEC, PAPER, phi)
    assert box.phi == phi and box.contains(PAPER)
    key = networks(SPEC, PAPER, phi)
    for axis, (lo, hi) in enumerate(box.intervals):
        assert lo <= PAPER[axis] <= hi
        assert networks(SPEC, moved(PAPER, axis, lo), phi) == key
        assert networks(SPEC, moved(PAPER, axis, hi), phi) == key
    assert networks(SPEC, box.representative(), phi) == key


def test_plateau_at_negative_phi_flips_which_ends_are_open():
    # at φ = −1 depth is ceil(r / α): 1, 2, 2, 3, 3, 4, 1 at α = 1.2; ceil(4 / α) = 4 needs α < 4/3, α ≥ 1 keeps all
    spec = GridSpec(phi=-1.0, base_resolution=32, num_classes=10)
    box = plateau(spec, PAPER)
    assert box.alpha == pytest.approx((1.0, 4 / 3), abs=1e-9)
    assert box.alpha[0] == 1.0  # the range's end, which belongs
    assert networks(spec, moved(PAPER, 0, math.nextafter(box.alpha[1], 2))) != networks(spec, PAPER)
    assert box == plateau(SPEC, PAPER, -1.0)


def test_plateau_is_clipped_to_the_grid_ranges():
    narrow = GridSpec(base_resolution=32, num_classes=10, alpha_range=(1.1, 1.2), beta_range=(1.05, 1.1),
                      gamma_range=(1.145, 1.15))
    box = plateau(narrow, PAPER)
    assert box.alpha == (1.1, 1.2) and box.beta == (1.1, 1.1) and box.gamma == (1.145, 1.15)
    assert box.representative() == (1.15, 1.1, 1.1475)
    with pytest.raises(InputError, match=r"alpha 1\.3 is outside 1\.1\.\.1\.2"):
        plateau(narrow, (1.3, 1.1, 1.15))


def test_plateau_spread_shows_how_far_phi_7_moves_across_the_class():
    box = plateau(SPEC, PAPER)
    (row,) = plateau_spread(box, [7])
    assert row["phi"] == 7
    assert row["depth"] == pytest.approx([1.0, 1.25**7], abs=1e-4)  # 1.0 to 4.768, where 1.2^7 = 3.58
    assert row["width"] == pytest.approx([1.1**7, (1412 / 1280) ** 7], abs=1e-4)
    assert row["resolution"] == pytest.approx([(36.5 / 32) ** 7, (64.5 / 56) ** 7], abs=1e-4)
    rows = plateau_spread(box, [0, -1])
    assert rows[0]["depth"] == rows[0]["width"] == rows[0]["resolution"] == [1.0, 1.0]
    assert rows[1]["depth"] == [0.8, 1.0]  # lo <= hi also below φ = 0


def refinement_checks(spec, parent, found, phi=2.0):
    """What every refinement point must satisfy: in the parent, on the constraint at ``phi``, networks distinct."""
    keys = [networks(spec, point.coefficients, phi) for point in found]
    assert len(set(keys)) == len(keys)
    assert [p.coefficients for p in found] == sorted(p.coefficients for p in found)
    for point in found:
        assert parent.contains(point.coefficients) and point.plateau.contains(point.coefficients)
        assert networks(spec, point.coefficients) == networks(spec, parent.point)  # the parent's class at φ
        assert point.plateau.phi == phi and point.candidate.phi == phi
        assert point.candidate.coefficients == point.coefficients and point.candidate.kind == "compound"
        assert point.candidate.on_constraint
        assert within(point.candidate.measured_ratio, spec.target**phi, spec.tolerance)
        for (lo, hi), (parent_lo, parent_hi) in zip(point.plateau.intervals, parent.intervals, strict=True):
            assert parent_lo <= lo <= hi <= parent_hi


def test_refinement_of_the_paper_class_yields_networks_on_the_constraint_at_phi_2():
    parent = plateau(SPEC, PAPER)
    found = refinement_points(SPEC, parent, analytic_counts)
    refinement_checks(SPEC, parent, found)
    # without a step the split is exact: all 4 networks on the constraint, as on a step of 0.001
    assert [p.candidate.layout.structure_key() for p in found] == [
        p.candidate.layout.structure_key() for p in refinement_points(SPEC, parent, analytic_counts, step=0.001)]
    assert len(found) == 4
    assert found[0].plateau.bounds()["alpha"] == [1.0, 1.118034]  # α² ≤ 1.25: depths as at φ = 1 with 4α² ≤ 5
    assert found == refinement_points(SPEC, parent, analytic_counts)
    # on a step of 0.01 β and γ hold one grid value each in the box, so one network is seen
    coarse = refinement_points(SPEC, parent, analytic_counts, step=0.01)
    assert [p.coefficients for p in coarse] == [(1.059, 1.1006, 1.1487)]


def test_refinement_on_a_finer_step_sees_more_networks_and_limit_spreads_them():
    parent = plateau(SPEC, PAPER)
    found = refinement_points(SPEC, parent, analytic_counts, step=0.001)
    refinement_checks(SPEC, parent, found)
    assert len(found) == 4  # of 4 depths × 3 widths × 2 cost-scale resolutions, these 4 meet 4 ± 5 %
    assert {p.candidate.cost_resolution for p in found} == {292, 296}
    assert all(p.plateau.alpha == found[0].plateau.alpha for p in found)  # only α² ≤ 1.25 is cheap enough
    assert len(refinement_points(SPEC, parent, analytic_counts, step=0.005)) == 2
    assert refinement_points(SPEC, parent, analytic_counts, step=0.001, limit=2) == [found[0], found[-1]]
    assert refinement_points(SPEC, parent, analytic_counts, step=0.001, limit=1) == [found[2]]
    assert refinement_points(SPEC, parent, analytic_counts, step=0.001, limit=9) == found
    with pytest.raises(InputError, match="limit must be at least 1"):
        refinement_points(SPEC, parent, analytic_counts, limit=0)


def test_refinement_grid_never_uses_a_value_on_an_open_end():
    box = plateau(SPEC, PAPER)
    # α's box (1, 1.25]: 1.0 is on the step but realises B0's depths; 1.25 belongs
    assert fine_values(1.0, box.alpha, 0.05) == [1.05, 1.1, 1.15, 1.2, 1.25]
    # γ's box opens at 36.5 / 32 = 1.140625 = 1 + 225 · 0.000625 (32γ = 36.5 rounds to 36), closes at 64.5 / 56
    gammas = fine_values(1.0, box.gamma, 0.000625)
    assert gammas[0] == 1.14125 and gammas[-1] == 1.15125  # 1.140625 left out; next past 1.15125: 1.151875
    assert fine_values(1.0, box.beta, 0.01) == [1.1]  # the closed lower end is used


def test_refinement_under_the_nominal_constraint_uses_grid_points_that_meet_it():
    spec = GridSpec(base_resolution=32, num_classes=10, constraint="nominal")
    parent = plateau(spec, PAPER)
    found = refinement_points(spec, parent, analytic_counts)
    assert [p.coefficients for p in found] == [(1.19, 1.1, 1.15), (1.24, 1.1, 1.15)]
    grid = {axis: axis_values(value_range, 0.01) for axis, value_range in
            enumerate((spec.alpha_range, spec.beta_range, spec.gamma_range))}
    keys = set()
    for point in found:
        assert all(value in grid[axis] for axis, value in enumerate(point.coefficients))
        assert within(nominal_ratio(*point.coefficients), spec.target, spec.tolerance) and point.candidate.on_constraint
        assert parent.contains(point.coefficients) and point.plateau.contains(point.coefficients)
        keys.add(networks(spec, point.coefficients, 2.0))
    assert len(keys) == len(found)


def test_refinement_is_empty_when_no_network_meets_the_constraint():
    strict = GridSpec(base_resolution=32, num_classes=10, tolerance=0.001)
    assert refinement_points(strict, plateau(strict, PAPER), analytic_counts, step=0.001) == []

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
SPEC_224 = GridSpec(base_resolution=224, num_classes=10)  # a proxy where γ > 1 can contend (docs/proxy.md)
CONTENDER = (1.0, 1.05, 1.35)  # a contender at φ = 1 with a 224 px proxy: growth 2.004 per φ, proxy_ratio 2.07


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
    # γ: both scales round resolution to a multiple of 4 (round half to even). Proxy round(32γ / 4) · 4 = 36
    # (8 · 1.15 = 9.2 -> 9): 8.5 rounds to 8 and 9.5 to 10, so 8γ in (8.5, 9.5), γ in (1.0625, 1.1875). Cost
    # round(224γ / 4) · 4 = 256 (56 · 1.15 = 64.4 -> 64): 63.5 and 64.5 both round to 64, so 56γ in [63.5, 64.5],
    # γ in [1.133929, 1.151786]. The cost scale's interval lies inside the proxy's: it binds at both ends.
    assert box.gamma == pytest.approx((63.5 / 56, 64.5 / 56), abs=1e-6)
    assert box.point == PAPER and box.phi == 1.0
    assert box.bounds() == {"alpha": [1.0, 1.25], "beta": [1.1, 1.103125], "gamma": [1.133929, 1.151786]}
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
    # the ends as the rounding rules leave them: α = 1 (ceil) is open; β = 1.1 (channels to 8) and γ = 63.5 / 56
    # (56γ = 63.5 rounds to the even 64, so the cost scale's 256 px) are closed
    assert box.alpha[0] > 1.0 and box.gamma[0] == 63.5 / 56 and box.beta[0] == 1.1


def test_representative_is_the_rounded_midpoint_and_realises_the_same_networks():
    box = plateau(SPEC, PAPER)
    representative = box.representative()
    # midpoints: α (1 + 1.25) / 2 = 1.125, β (1.1 + 1.103125) / 2 = 1.1015625, γ (63.5 + 64.5) / 112 = 1.142857
    assert representative == (1.125, 1.1016, 1.1429)
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
    assert row["resolution"] == pytest.approx([(63.5 / 56) ** 7, (64.5 / 56) ** 7], abs=1e-4)  # 2.4105 to 2.6891
    rows = plateau_spread(box, [0, -1])
    assert rows[0]["depth"] == rows[0]["width"] == rows[0]["resolution"] == [1.0, 1.0]
    assert rows[1]["depth"] == [0.8, 1.0]  # lo <= hi also below φ = 0


def refinement_checks(spec, parent, found, phi=2.0):
    """What every refinement point must satisfy: in the parent, a contender at ``phi``, networks distinct."""
    keys = [networks(spec, point.coefficients, phi) for point in found]
    assert len(set(keys)) == len(keys)
    assert [p.coefficients for p in found] == sorted(p.coefficients for p in found)
    for point in found:
        assert parent.contains(point.coefficients) and point.plateau.contains(point.coefficients)
        assert networks(spec, point.coefficients) == networks(spec, parent.point)  # the parent's class at φ
        assert point.plateau.phi == phi and point.candidate.phi == phi
        assert point.candidate.coefficients == point.coefficients and point.candidate.kind == "compound"
        candidate = point.candidate
        assert candidate.contender and candidate.on_growth and candidate.proxy_on_target
        assert within(candidate.growth_per_phi, spec.target, spec.growth_tolerance_used)
        assert within(candidate.proxy_ratio, spec.target**phi, spec.tolerance)
        for (lo, hi), (parent_lo, parent_hi) in zip(point.plateau.intervals, parent.intervals, strict=True):
            assert parent_lo <= lo <= hi <= parent_hi


def test_refinement_of_a_contender_class_yields_contenders_at_phi_2():
    """A contender's class refines into the contenders it splits into at φ = 2.

    Issue #21 made refinement keep contenders only (family growth on target and proxy compute within tolerance).
    The test used the paper's class at a 32 px proxy; that class now yields none: at φ = 2 its networks train
    at 40 or 44 px with 5.6–7.4× B0@32 px, far from 4 ± 5 %. It is shown on a 224 px proxy instead, where
    γ > 1 contends, with the contender (1.0, 1.05, 1.35).
    """
    assert refinement_points(SPEC, plateau(SPEC, PAPER), analytic_counts) == []
    parent = plateau(SPEC_224, CONTENDER)
    found = refinement_points(SPEC_224, parent, analytic_counts)
    refinement_checks(SPEC_224, parent, found)
    # without a step the split is exact: all 12 networks (4 widths × 3 resolutions, all contenders), as on a
    # step of 0.0001; a step of 0.001 misses the narrow width class around β = 1.0505
    assert len(found) == 12
    assert [p.candidate.layout.structure_key() for p in found] == [
        p.candidate.layout.structure_key() for p in refinement_points(SPEC_224, parent, analytic_counts, step=0.0001)]
    assert len(refinement_points(SPEC_224, parent, analytic_counts, step=0.001)) == 9
    # γ: the parent is round(56γ) = 76 (304 px), 56γ in [75.5, 76.5], γ in [1.348214, 1.366071]. At φ = 2 the
    # first class is round(56γ²) = 102 (408 px): 56γ² ≤ 102.5, γ ≤ √(102.5 / 56) = 1.352907
    assert found[0].plateau.bounds()["gamma"] == [1.348214, 1.352907]
    assert found[0].candidate.resolution == 408
    assert found == refinement_points(SPEC_224, parent, analytic_counts)
    # on a step of 0.01 β holds one grid value in the box (1.05) and γ two (1.35: 408 px, 1.36: 416 px), so two
    # networks are seen; no 0.01 value lies in the 412 px class (γ in [1.352907, 1.359466])
    coarse = refinement_points(SPEC_224, parent, analytic_counts, step=0.01)
    assert [p.coefficients for p in coarse] == [(1.0, 1.0501, 1.3506), (1.0, 1.0501, 1.3628)]
    assert [p.candidate.resolution for p in coarse] == [408, 416]


def test_refinement_on_a_finer_step_sees_more_networks_and_limit_spreads_them():
    """A finer step sees more of the networks a class splits into; ``limit`` spreads the ones kept.

    Moved from the paper's class at a 32 px proxy (no contender since issue #21) to the contender (1, 1, 1.4) at a
    224 px proxy, a class where the contention filter leaves one resolution out.
    """
    parent = plateau(SPEC_224, (1.0, 1.0, 1.4))
    found = refinement_points(SPEC_224, parent, analytic_counts, step=0.001)
    refinement_checks(SPEC_224, parent, found)
    # the parent is round(56γ) = 78 (312 px): γ in [77.5 / 56, 78.5 / 56] = [1.383929, 1.401786]. At φ = 2 56γ²
    # runs over [107.25, 110.04]: 107 (428 px) to γ < √(107.5 / 56) = 1.385512, 108 (432) to √(108.5 / 56) =
    # 1.391941, 109 (436) to √(109.5 / 56) = 1.398341, then 110 (440). β in [1, 1.003125] splits where the head's
    # 1280β² reaches 1284 (-> 1288 channels): β = √(1284 / 1280) = 1.001561. Of these 2 widths × 4 resolutions,
    # the 428 px ones train with 3.79× B0 (below 4 − 5 % = 3.8), so 6 contend.
    assert len(found) == 6
    assert {p.candidate.cost_resolution for p in found} == {432, 436, 440}
    assert {tuple(p.plateau.bounds()["beta"]) for p in found} == {(1.0, 1.001561), (1.001561, 1.003125)}
    exact = refinement_points(SPEC_224, parent, analytic_counts)  # the exact split finds no more networks
    assert [p.coefficients for p in exact] == [p.coefficients for p in found]
    assert len(refinement_points(SPEC_224, parent, analytic_counts, step=0.005)) == 3
    assert len(refinement_points(SPEC_224, parent, analytic_counts, step=0.01)) == 2
    assert refinement_points(SPEC_224, parent, analytic_counts, step=0.001, limit=2) == [found[0], found[-1]]
    assert refinement_points(SPEC_224, parent, analytic_counts, step=0.001, limit=1) == [found[3]]
    assert refinement_points(SPEC_224, parent, analytic_counts, step=0.001, limit=9) == found
    with pytest.raises(InputError, match="limit must be at least 1"):
        refinement_points(SPEC_224, parent, analytic_counts, limit=0)


def test_refinement_grid_never_uses_a_value_on_an_open_end():
    """A value on an open end of the box is not used.

    Since the proxy rounds resolution to 4 like the cost scale, the paper's γ box is the cost scale's closed
    [63.5 / 56, 64.5 / 56]; γ's open end is shown on (1.2, 1.1, 1.07), where the proxy binds below.
    """
    box = plateau(SPEC, PAPER)
    # α's box (1, 1.25]: 1.0 is on the step but realises B0's depths; 1.25 belongs
    assert fine_values(1.0, box.alpha, 0.05) == [1.05, 1.1, 1.15, 1.2, 1.25]
    assert fine_values(1.0, box.beta, 0.01) == [1.1]  # the closed lower end is used
    # γ = 1.07: proxy round(8γ) = 9 (36 px) needs 8γ in (8.5, 9.5) (both round to even: 8 and 10), γ > 1.0625;
    # cost round(56γ) = 60 (240 px) needs 56γ in [59.5, 60.5], γ in [1.0625, 1.080357]. The box is (1.0625,
    # 60.5 / 56]: open where the proxy binds, at 1.0625 = 1 + 100 · 0.000625, which is left out
    shifted = plateau(SPEC, (1.2, 1.1, 1.07))
    assert shifted.gamma[0] > 1.0625 and shifted.gamma[1] == pytest.approx(60.5 / 56, abs=1e-9)
    gammas = fine_values(1.0, shifted.gamma, 0.000625)
    assert gammas[0] == 1.063125 and gammas[-1] == 1.08  # next past 1.08: 1.080625 > 1.080357
    # the paper's closed γ box: its first value on the step is the first above 63.5 / 56 = 1.1339286
    assert fine_values(1.0, box.gamma, 0.000625)[0] == 1.134375


def test_refinement_under_the_nominal_constraint_uses_grid_points_that_meet_it():
    """Under the nominal constraint a refinement point is a grid point that meets it, and contends.

    Moved from the paper's class at a 32 px proxy (no contender since issue #21) to the contender (1.0, 1.05, 1.35)
    at a 224 px proxy.
    """
    spec = GridSpec(base_resolution=224, num_classes=10, constraint="nominal")
    parent = plateau(spec, CONTENDER)
    found = refinement_points(spec, parent, analytic_counts)
    # the 0.01 grid holds α 1.0, β 1.05 and γ 1.35, 1.36 in the box (γ in [1.348214, 1.366071]); at φ = 2 γ = 1.35
    # is 408 px and 1.36 416 px (none lies in the 412 px class, [1.352907, 1.359466]); both meet α·β²·γ² = 2 ± 5 %:
    # 1.1025 · 1.8225 = 2.009 and 1.1025 · 1.8496 = 2.039
    assert [p.coefficients for p in found] == [(1.0, 1.05, 1.35), (1.0, 1.05, 1.36)]
    grid = {axis: axis_values(value_range, 0.01) for axis, value_range in
            enumerate((spec.alpha_range, spec.beta_range, spec.gamma_range))}
    keys = set()
    for point in found:
        assert all(value in grid[axis] for axis, value in enumerate(point.coefficients))
        assert within(nominal_ratio(*point.coefficients), spec.target, spec.tolerance) and point.candidate.on_constraint
        assert point.candidate.contender
        assert parent.contains(point.coefficients) and point.plateau.contains(point.coefficients)
        keys.add(networks(spec, point.coefficients, 2.0))
    assert len(keys) == len(found)


def test_refinement_is_empty_when_no_network_contends():
    """With a tolerance of 0.1 % none of the 12 contenders of the 224 px class (proxy 3.91–4.15×) is left.

    Moved from a 32 px proxy, where no network contends at any tolerance since issue #21.
    """
    strict = GridSpec(base_resolution=224, num_classes=10, tolerance=0.001)
    assert refinement_points(strict, plateau(strict, CONTENDER), analytic_counts, step=0.001) == []
    assert refinement_points(strict, plateau(strict, CONTENDER), analytic_counts) == []

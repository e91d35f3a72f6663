"""Where the proxy is faithful: the share of γ whose proxy compute stays within tolerance; where γ can be searched."""

import pytest

from scaling_search.coefficients.faithfulness import (
    DEFAULT_LADDER,
    MIN_SEARCHABLE,
    default_resolution,
    faithfulness,
    pick_resolution,
)
from scaling_search.coefficients.grid import GridSpec, candidates
from scaling_search.errors import InputError

B0 = GridSpec(num_classes=10)


@pytest.fixture(scope="module")
def ladder():
    """B0's default grid (step 0.05, tolerance 5 %) on the default ladder, by resolution."""
    return {row.resolution: row for row in faithfulness(B0, DEFAULT_LADDER)}


def test_no_gamma_keeps_its_compute_at_32_px_and_some_do_at_160(ladder):
    at_32, at_160 = ladder[32], ladder[160]
    assert len(at_32.gammas) == len(at_160.gammas) == 10  # 1.05 .. 1.5
    assert at_32.share == 0 and at_32.faithful_gammas == () and at_32.worst_deviation > 0.5
    assert 0 < at_160.share < 1 and at_160.worst_deviation < at_32.worst_deviation
    assert ladder[224].share == 1  # the proxy is the cost scale, but for its classes


def test_the_picker_takes_a_resolution_where_contenders_hold_two_gamma_at_distinct_resolutions(ladder):
    picked = pick_resolution(list(ladder.values()))
    assert picked is not None and picked >= 96
    assert all(not ladder[r].searchable for r in ladder if r < picked)
    found = candidates(GridSpec(base_resolution=picked, num_classes=10), "analytic")
    above = {c.resolution: c.gamma for c in found if c.contender and c.gamma > 1 and c.resolution > picked}
    assert len(above) >= MIN_SEARCHABLE and len(set(above.values())) >= MIN_SEARCHABLE


def test_a_resolution_with_contending_gamma_but_an_unfaithful_proxy_is_not_searchable(ladder):
    """At 48 px three γ > 1 contend at distinct resolutions, yet most pure γ train far off their cost."""
    at_48 = ladder[48]
    assert len(at_48.searchable_gammas) >= MIN_SEARCHABLE and at_48.share <= 0.5 and not at_48.searchable


@pytest.mark.parametrize("resolution", [32, 160])
def test_the_ladder_finds_the_contenders_the_grid_does(ladder, resolution):
    found = [c for c in candidates(GridSpec(base_resolution=resolution, num_classes=10), "analytic") if c.contender]
    row = ladder[resolution]
    assert row.contenders == len(found)
    assert row.contender_gammas == tuple(sorted({c.gamma for c in found}))
    assert row.contender_resolutions == tuple(sorted({c.resolution for c in found}))


def test_with_no_searchable_rung_the_default_is_the_most_faithful():
    spec = GridSpec(gamma_range=(1.0, 1.05), num_classes=10)  # one gamma > 1: never two to compare
    rows = faithfulness(spec, [32, 224])
    assert pick_resolution(rows) is None and [row.share for row in rows] == [0, 1]
    assert default_resolution(spec, [32, 224]) == 224


@pytest.mark.parametrize("ladder_", [[], [4], [32, 34], [32.0]])
def test_bad_ladders_are_refused(ladder_):
    with pytest.raises(InputError):
        faithfulness(B0, ladder_)

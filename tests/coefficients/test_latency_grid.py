"""A grid held to latency: calibrated, pre-filtered and timed against the base, on an injected block timer."""

from __future__ import annotations

import json
import math
import random

import pytest

from scaling_search.cli import main
from scaling_search.coefficients import latency_grid
from scaling_search.coefficients.grid import GridSpec, candidates, cost_layout
from scaling_search.coefficients.latency_grid import (
    GROWTH_BUDGET_MS,
    LatencyTiming,
    fit_latency,
    growth_phi,
    latency_candidates,
)
from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.counter import make_counter
from scaling_search.counting.latency import LatencyRatio, LatencySettings
from scaling_search.errors import InputError

SPEC = GridSpec(step=0.1, base_resolution=32, num_classes=10, cost="latency", baselines=True)
BASE_MS = 10.0


def device_time(layout) -> float:
    """A device whose time per call follows activations more than MACs (as on GPUs), B0 at 224 px taking 10 ms."""
    counts = analytic_counts(layout)
    base = analytic_counts(SPEC.base_cost_layout())
    return BASE_MS * (counts.macs / base.macs) ** 0.3 * (counts.activations / base.activations) ** 0.7


def quiet(layout, settings, blocks):
    return [device_time(layout) * (1 + 0.002 * (i % 3)) for i in range(blocks)]


NOISE = random.Random(0)


def noisy_when_wide(layout, settings, blocks, rng=NOISE):
    """A device that times narrow networks steadily and wide ones (width > 1.2) with 50 % noise."""
    spread = 0.5 if layout.width > 1.2 else 0.002
    return [device_time(layout) * math.exp(rng.gauss(0, spread)) for _ in range(blocks)]


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    timing = LatencyTiming(LatencySettings(), tmp_path_factory.mktemp("latency"), timer=quiet)
    return latency_candidates(SPEC, make_counter("analytic"), timing)


def test_every_candidate_is_judged_on_its_timed_latency(found):
    for c in found:
        truth = device_time(cost_layout(SPEC, *c.coefficients)) / BASE_MS
        assert c.cost_kind == "latency" and c.latency_ratio == pytest.approx(truth, rel=0.0125)
        assert c.measured_ratio == c.latency_ratio
        assert c.on_constraint == (abs(c.measured_ratio - 2.0) <= 0.05 * 2.0)
        assert c.latency_ms == pytest.approx(device_time(cost_layout(SPEC, *c.coefficients)), rel=0.01)
        assert c.cost_device and c.latency_note is None
        assert c.contender == (c.on_growth and c.proxy_on_target)
    # latency is not MACs here: some points are on the latency constraint and far off it in MACs
    assert any(c.on_constraint and abs(c.macs_ratio - 2.0) > 0.2 for c in found)
    assert {"reference", "depth-only", "width-only", "resolution-only", "fast"} <= {c.kind for c in found}


def test_growth_is_timed_at_the_largest_member_the_device_runs_in_budget(found):
    phi = growth_phi(SPEC, BASE_MS)
    assert BASE_MS * 2.0**phi <= GROWTH_BUDGET_MS < BASE_MS * 2.0 ** (phi + 1)
    compound = [c for c in found if c.kind == "compound"]
    assert all(1 <= c.growth_phi <= phi for c in compound) and any(c.growth_phi == phi for c in compound)
    for c in compound:
        at = c.growth_phi
        member = cost_layout(GridSpec(phi=at, step=0.1, base_resolution=32, num_classes=10), *c.coefficients)
        assert device_time(member) <= GROWTH_BUDGET_MS * 1.01 or at == 1
        assert c.growth_per_phi == pytest.approx((device_time(member) / BASE_MS) ** (1 / at), rel=0.01)
        assert c.on_growth == (abs(c.growth_per_phi - 2.0) <= 0.1)
    assert growth_phi(SPEC, 1e6) == 1 and growth_phi(SPEC, 1.0) == 7


def test_the_fit_recovers_the_devices_exponents():
    samples = [(m, a, m**0.3 * a**0.7) for m, a in ((2.0, 1.5), (1.5, 2.5), (3.0, 1.2), (1.8, 1.8))]
    fit = fit_latency(samples)
    assert (fit.macs, fit.activations) == (pytest.approx(0.3), pytest.approx(0.7)) and fit.spread < 1e-9
    with pytest.raises(InputError, match="at least 2 measurable networks"):
        fit_latency(samples[:1])


def test_a_ratio_that_cannot_be_pinned_down_is_marked_and_never_contends(tmp_path):
    spec = GridSpec(step=0.1, base_resolution=32, num_classes=10, cost="latency")
    rough = latency_candidates(spec, make_counter("analytic"),
                               LatencyTiming(LatencySettings(), tmp_path, timer=noisy_when_wide))
    wide = [c for c in rough if c.layout.width > 1.2]
    assert wide and any(c.layout.width <= 1.2 for c in rough)
    for c in wide:  # its ratio at the cost scale cannot be pinned down: no number, no constraint, no contention
        assert "known only to" in c.latency_note and "needed" in c.latency_note
        assert c.latency_ratio is None and math.isnan(c.measured_ratio) and c.to_dict()["measured_ratio"] is None
        assert not c.on_constraint and not c.contender
    narrow = [c for c in rough if c.layout.width <= 1.2]
    assert all(c.latency_ratio is not None for c in narrow if c.latency_note is None)


def test_a_counted_grid_refuses_latency_and_the_cli_refuses_latency_flags_without_it(capsys):
    with pytest.raises(InputError, match="timed on a device, not counted"):
        candidates(SPEC, "analytic")
    assert main(["candidates", "--step", "0.1", "--counter", "analytic", "--latency-threads", "1"]) == 2
    assert "add --cost latency" in capsys.readouterr().err


@pytest.mark.slow  # about a minute of real timing on 2 cores
def test_a_small_grid_timed_for_real_on_this_cpu(tmp_path):
    """The real timer end to end, on a grid small enough for a test: every candidate carries its latency or why not."""
    spec = GridSpec(step=0.5, alpha_range=(1.0, 1.0), beta_range=(1.0, 1.5), gamma_range=(1.0, 1.5), tolerance=0.3,
                    base_resolution=32, num_classes=10, cost_resolution=32, cost_classes=10, cost="latency")
    timing = LatencyTiming(LatencySettings(), tmp_path, growth_budget_ms=5.0)
    try:
        found = latency_candidates(spec, make_counter("analytic"), timing)
    except InputError as err:  # a machine too busy to pin even the calibration down says so in one line
        assert "measurable" in str(err)
        return
    assert found and all(c.cost_kind == "latency" and c.cost_device for c in found)
    for c in found:
        if c.latency_ratio is None:  # not measurable: the note says why
            assert c.latency_note
        else:  # a note beside a number only says what was not timed off the constraint
            assert c.latency_ratio > 0 and c.latency_ms > 0 and c.latency_iqr_ms >= 0
            assert c.latency_note is None or (not c.on_constraint and "growth not timed" in c.latency_note)


@pytest.mark.slow
def test_candidates_cli_times_a_small_grid_on_this_cpu(capsys, tmp_path, monkeypatch):
    """``candidates --cost latency --json`` with the real timer: every row carries its latency ratio."""
    monkeypatch.setenv("SCALING_SEARCH_CACHE", str(tmp_path))
    code = main(["candidates", "--phi", "1", "--step", "0.5", "--alpha-range", "1:1", "--beta-range", "1:1.5",
                 "--gamma-range", "1:1.5", "--cost", "latency", "--cost-device", "cpu", "--cost-resolution", "32",
                 "--base-resolution", "32", "--num-classes", "10", "--cost-classes", "10", "--counter", "analytic",
                 "--tolerance", "0.3", "--json"])
    captured = capsys.readouterr()
    if code == 2:  # a machine too busy to pin even the calibration down says so in one line
        assert "measurable" in captured.err
        return
    assert code == 0, captured.err
    rows = json.loads(captured.out)
    assert rows and all(r["cost_kind"] == "latency" and "latency_ratio" in r and r["cost_device"] for r in rows)
    assert all(r["latency_ratio"] is None or r["latency_ratio"] > 0 for r in rows)


@pytest.fixture
def asked_precisions(tmp_path, monkeypatch):
    """The grid found on the quiet timer, and the precisions each network's ratio was asked to, by structure."""
    asked: dict[object, set[float]] = {}
    real = latency_grid.latency_ratio

    def recording(layout, base, settings, *, precision, **options):
        asked.setdefault(layout.structure_key(), set()).add(precision)
        return real(layout, base, settings, precision=precision, **options)

    monkeypatch.setattr(latency_grid, "latency_ratio", recording)
    found = latency_candidates(SPEC, make_counter("analytic"), LatencyTiming(LatencySettings(), tmp_path, timer=quiet))
    return found, asked


def test_calibration_asks_the_tolerance_and_candidates_a_quarter_of_it(asked_precisions):
    """The design set only places a fit (its largest miss widens the pre-filter), so it is timed to the tolerance;
    every ratio a candidate is judged on is timed to a quarter of it."""
    found, asked = asked_precisions
    design_set = latency_grid.design_points(SPEC, latency_grid.all_points(SPEC))
    design = {cost_layout(SPEC, *p).structure_key() for p in design_set}
    judged = {cost_layout(SPEC, *c.coefficients).structure_key() for c in found}
    assert all(SPEC.tolerance in asked[key] for key in design)
    assert all(SPEC.tolerance / 4 in asked[key] for key in judged)
    assert any(asked[key] == {SPEC.tolerance} for key in design - judged)


def test_the_screen_lists_only_points_that_may_meet_the_constraint(found):
    for c in found:
        if c.kind == "compound":
            truth = device_time(cost_layout(SPEC, *c.coefficients)) / BASE_MS
            assert 1.9 * 0.99 <= truth <= 2.1 * 1.01  # the band, widened by the quiet timer's 0.2 % jitter


@pytest.mark.parametrize(("low", "high", "off"), [(1.7, 1.85, True), (2.2, 2.3, True), (1.85, 1.95, False),
                                                  (2.05, 2.2, False), (None, None, False)])
def test_a_point_is_clearly_off_only_when_its_whole_interval_is(low, high, off):
    screen = LatencyRatio(None if low is None else (low + high) / 2, low, high, low is not None, None, None, None)
    assert latency_grid.clearly_off(screen, SPEC) is off


def test_growth_members_are_asked_phi_times_a_quarter_of_the_growth_tolerance(asked_precisions):
    """Growth per φ is ratio^(1/φ): a member's ratio known to φ × a quarter knows the growth to a quarter."""
    found, asked = asked_precisions
    timed = [c for c in found if c.growth_phi > 1 and not math.isnan(c.growth_per_phi)]
    assert timed
    for c in timed:
        member = cost_layout(GridSpec(phi=c.growth_phi, step=0.1, base_resolution=32, num_classes=10),
                             *c.coefficients)
        expected = min(latency_grid.GROWTH_PRECISION_CAP, c.growth_phi * SPEC.growth_tolerance_used / 4)
        assert any(p == pytest.approx(expected) for p in asked[member.structure_key()])


def test_a_grid_point_off_the_constraint_is_not_timed_at_its_growth_member(tmp_path):
    """Off the constraint a point cannot contend: its cost ratio says so, and its growth is not timed; the baselines
    are timed in full wherever they land."""
    timing = LatencyTiming(LatencySettings(), tmp_path, timer=quiet)
    book = latency_grid.LatencyBook(timing, SPEC.tolerance / 4)
    growth = latency_grid.GrowthTiming(latency_grid.LatencyFit(0.3, 0.7, 0.0, 2), BASE_MS, 3, GROWTH_BUDGET_MS)
    counter = make_counter("analytic")
    band = latency_grid.constraint_band(SPEC)
    by_truth = sorted(latency_grid.all_points(SPEC),
                      key=lambda p: device_time(cost_layout(SPEC, *p)) / BASE_MS)
    far = next(p for p in by_truth if device_time(cost_layout(SPEC, *p)) / BASE_MS > 2.3)
    near = min(by_truth, key=lambda p: abs(device_time(cost_layout(SPEC, *p)) / BASE_MS - 2.0))

    def measured(point, kind, outside):
        return latency_grid.measure_latency_candidate(SPEC, point, kind, counter, book, growth, outside)

    off = measured(far, "compound", band)
    assert not off.on_constraint and off.latency_ratio > 2.1
    assert math.isnan(off.growth_per_phi) and not off.contender and not math.isnan(off.proxy_ratio)
    assert off.latency_note == "off the latency constraint: growth not timed (it cannot contend)"
    on = measured(near, "compound", band)
    assert on.on_constraint and not math.isnan(on.growth_per_phi) and on.latency_note is None
    baseline = measured(far, "width-only", None)
    assert not baseline.on_constraint and not math.isnan(baseline.growth_per_phi)
    assert baseline.latency_note is None


def test_the_proxy_is_judged_in_the_macs_its_network_costs_at_the_cost_scale(found):
    """A proxy trains: a contender's proxy must train with the compute (MACs) its network costs at the cost scale,
    whatever its latency there; no latency is timed at the proxy."""
    assert found
    for c in found:
        proxy_macs = analytic_counts(c.layout).macs / analytic_counts(SPEC.base_layout()).macs
        assert c.proxy_ratio == pytest.approx(proxy_macs)
        assert c.proxy_on_target == (abs(c.proxy_ratio - c.macs_ratio) <= SPEC.tolerance * c.macs_ratio)
    # at a 32 px proxy resolution rounds away: some points on the constraint fail the rule, and some meet it
    on = [c for c in found if c.kind == "compound" and c.on_constraint]
    assert any(c.proxy_on_target for c in on) and any(not c.proxy_on_target for c in on)

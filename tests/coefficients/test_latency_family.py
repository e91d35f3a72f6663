"""A derived family timed member by member (``derive --cost latency``), on injected block timers."""

from __future__ import annotations

import json
import math

import pytest

from scaling_search.cli import main
from scaling_search.coefficients.family import derive_family
from scaling_search.coefficients.latency_family import family_latency
from scaling_search.coefficients.latency_grid import LatencyTiming
from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.counter import make_counter
from scaling_search.counting.latency import LatencySettings
from scaling_search.models.scaling import base_layout

BASE = base_layout(224)
BASE_MS = 20.0


def macs_time(layout, settings, blocks):
    """A device whose time per call is proportional to MACs: B0 at 224 px takes 20 ms."""
    ms = BASE_MS * analytic_counts(layout).macs / analytic_counts(BASE).macs
    return [ms * (1 + 0.002 * (i % 3)) for i in range(blocks)]


def timed(tmp_path, budget_ms, phis=range(8)):
    members = derive_family(1.2, 1.1, 1.15, list(phis), make_counter("analytic"), base_resolution=224)
    timing = LatencyTiming(LatencySettings(), tmp_path, timer=macs_time, growth_budget_ms=budget_ms)
    return members, family_latency(members, BASE, timing, target=2.0, tolerance=0.05)


def test_each_member_is_timed_against_phi0_until_the_budget_and_growth_is_taken_at_the_last(tmp_path):
    members, family = timed(tmp_path, budget_ms=200.0)
    ratios = {m.phi: m.latency_ratio for m in family.members}
    base_macs = analytic_counts(BASE).macs
    for member, result in zip(members, family.members, strict=True):
        truth = member.macs / base_macs
        if truth * BASE_MS <= 200.0:
            assert result.latency_ratio == pytest.approx(truth, rel=0.01) and result.latency_note is None
            assert result.latency_low <= result.latency_ratio <= result.latency_high
        else:  # over the budget: not timed, and neither is any larger member
            assert result.latency_ratio is None and "over the 200 ms budget" in result.latency_note
    largest = max(phi for phi, ratio in ratios.items() if ratio is not None)
    assert 1 <= largest < 7
    growth = family.growth
    assert growth.growth.phi == largest and growth.growth.cost == "latency" and growth.growth.reduced
    assert growth.growth.per_phi == pytest.approx(ratios[largest] ** (1 / largest))
    assert growth.on_growth == (abs(growth.growth.per_phi - 2.0) <= 0.1)
    assert family.device and family.growth_note is None


def test_a_budget_no_member_fits_leaves_the_growth_unknown_and_says_why(tmp_path):
    _, family = timed(tmp_path, budget_ms=25.0, phis=[0, 1, 2])
    assert family.members[0].latency_ratio == 1.0
    assert all(m.latency_ratio is None for m in family.members[1:])
    assert family.growth is None and "no member at an integer phi" in family.growth_note


def test_the_cli_refuses_latency_flags_without_latency_and_fast_with_it(capsys):
    assert main(["derive", "--cost-device", "cpu"]) == 2
    assert "add --cost latency" in capsys.readouterr().err
    assert main(["derive", "--cost", "latency", "--fast"]) == 2
    err = capsys.readouterr().err
    assert "--fast matches its point in closed form" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow  # real timing, about a minute on 2 cores
def test_derive_times_a_small_family_on_this_cpu(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SCALING_SEARCH_CACHE", str(tmp_path))
    code = main(["derive", "--cost", "latency", "--cost-device", "cpu", "--base", "efficientnet_demo",
                 "--base-resolution", "32", "--num-classes", "10", "--phis", "0-2", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    payload = json.loads(captured.out)
    assert payload["growth_cost"] == "latency" and payload["cost_device"]
    rows = payload["derived"]
    assert [r["phi"] for r in rows] == [0, 1, 2] and rows[0]["latency_ratio"] == 1.0
    for row in rows:
        assert row["latency_ratio"] is None or (row["latency_ratio"] > 0 and row["latency_ms"] > 0)
        assert (row["latency_ratio"] is None) == (row["latency_note"] is not None)
    assert payload["growth_per_phi"] is None or math.isfinite(payload["growth_per_phi"])


def test_the_growth_line_names_the_device_and_why_it_stops_short_of_phi_7():
    from scaling_search.cli.derive import growth_line
    from scaling_search.coefficients.family import FamilyGrowth
    from scaling_search.coefficients.growth import Growth

    line = growth_line(FamilyGrowth(Growth(1.98, 3, "latency"), 2.0, 0.05), "AMD EPYC")
    assert line.startswith("Growth per phi in latency on AMD EPYC: 1.980 (phi = 3 member")
    assert "Members past phi = 3 were not timed" in line and "cannot be built" not in line
    assert "cannot be built" in growth_line(FamilyGrowth(Growth(1.9, 5, "macs"), 2.0, 0.05))


def test_members_timed_but_never_pinned_down_are_said_to_be_so(tmp_path):
    import random

    noise = random.Random(0)

    def wild(layout, settings, blocks):  # the base is steady, every other member swings by 50 %
        steady = layout == BASE
        return [macs_time(layout, settings, 1)[0] * (1 if steady else math.exp(noise.gauss(0, 0.5)))
                for _ in range(blocks)]

    members = derive_family(1.2, 1.1, 1.15, [0, 1], make_counter("analytic"), base_resolution=224)
    timing = LatencyTiming(LatencySettings(), tmp_path, timer=wild)
    family = family_latency(members, BASE, timing, target=2.0, tolerance=0.05)
    assert family.members[1].latency_ratio is None and "known only to" in family.members[1].latency_note
    assert family.growth is None and "could be pinned down" in family.growth_note

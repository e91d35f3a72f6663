"""A grid held to activations instead of MACs: the constraint, the contender rule and the growth all use it."""

from __future__ import annotations

import json
import math

import pytest

from scaling_search.cli import main
from scaling_search.coefficients.family import family_growth_for
from scaling_search.coefficients.grid import GridSpec, candidates, cost_layout
from scaling_search.counting.analytic import analytic_counts
from scaling_search.errors import InputError
from scaling_search.study.definition import StudyDefinition

SPEC = GridSpec(step=0.1, base_resolution=224, num_classes=10, cost="activations")


@pytest.fixture(scope="module")
def found():
    return candidates(SPEC, "analytic")


def test_the_constraint_is_judged_on_activations(found):
    base = analytic_counts(SPEC.base_cost_layout())
    for c in found:
        assert c.cost_kind == "activations"
        assert c.activations_ratio == pytest.approx(c.activations / base.activations)
        assert c.macs_ratio == pytest.approx(c.macs / base.macs)
        assert c.measured_ratio == c.activations_ratio
        assert c.on_constraint == (abs(c.activations_ratio - 2.0) <= 0.05 * 2.0)
    # the two costs disagree: some points meet 2x in activations but not in MACs, so the cost was not ignored
    assert any(c.on_constraint and abs(c.macs_ratio - 2.0) > 0.1 for c in found if c.kind == "compound")


def test_growth_and_contention_are_judged_on_activations(found):
    (paper,) = [c for c in found if c.kind == "reference"]
    # the paper's point doubles MACs per phi (1.938) but activations only by 1.731: no contender under activations
    assert round(paper.growth_per_phi, 3) == 1.731
    assert not paper.on_growth and not paper.contender
    assert round(family_growth_for(1.2, 1.1, 1.15, cost="activations").growth.per_phi, 3) == 1.731
    assert round(family_growth_for(1.2, 1.1, 1.15).growth.per_phi, 3) == 1.938
    for c in found:
        assert c.contender == (c.on_growth and abs(c.proxy_ratio - 2.0) <= 0.05 * 2.0)


def test_single_dimension_baselines_match_activations():
    spec = GridSpec(step=0.1, base_resolution=224, num_classes=10, cost="activations", baselines=True)
    baselines = [c for c in candidates(spec, "analytic") if c.kind.endswith("-only")]
    assert len(baselines) == 3
    base = analytic_counts(spec.base_cost_layout()).activations
    for c in baselines:
        axis = ("depth-only", "width-only", "resolution-only").index(c.kind)
        for i in range(300):  # no value of its coefficient comes nearer 2x activations (depth moves in whole blocks)
            point = [1.0, 1.0, 1.0]
            point[axis] = 1 + i * 0.01
            ratio = analytic_counts(cost_layout(spec, *point)).activations / base
            assert abs(c.activations_ratio - 2.0) <= abs(ratio - 2.0) + 1e-9, (c.kind, point)


def test_the_nominal_rule_is_a_macs_rule_only():
    with pytest.raises(InputError, match=r"nominal constraint .* is a rule for MACs"):
        GridSpec(constraint="nominal", cost="activations")
    with pytest.raises(InputError, match="cost must be one of macs, activations, latency"):
        GridSpec(cost="flops")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="cost must be one of"):
        StudyDefinition(cost="seconds")


def test_candidates_cli_names_its_cost(capsys):
    assert main(["candidates", "--phi", "1", "--step", "0.1", "--counter", "analytic", "--cost", "activations",
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["cost_kind"] == "activations" and r["measured_ratio"] == r["activations_ratio"]
                        for r in rows)
    assert main(["candidates", "--cost", "joules"]) == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("cost", ["macs", "activations"])
def test_the_fast_baseline_keeps_fast_scalings_proportions_and_costs_what_the_others_cost(cost):
    spec = GridSpec(step=0.1, base_resolution=224, num_classes=10, cost=cost, baselines=True)
    (fast,) = [c for c in candidates(spec, "analytic") if c.kind == "fast"]
    alpha, beta, gamma = fast.coefficients
    # the rule's proportions: log beta / log alpha = e_w / (2 e_d) = 4, log gamma / log alpha = 1/2 (to the rounding)
    assert math.log(beta) / math.log(alpha) == pytest.approx(4.0, rel=1e-3)
    assert math.log(gamma) / math.log(alpha) == pytest.approx(0.5, rel=1e-3)
    assert fast.measured_ratio == pytest.approx(2.0, rel=0.05)
    nominal = GridSpec(step=0.1, constraint="nominal", baselines=True)
    (nominal_fast,) = [c for c in candidates(nominal, "analytic") if c.kind == "fast"]
    assert nominal_fast.nominal_ratio == pytest.approx(2.0)


def test_a_latency_study_is_not_scaled_up_in_closed_form():
    from scaling_search.coefficients.scaleup import scale_up_members

    with pytest.raises(InputError, match="cannot be scaled up yet"):
        scale_up_members(GridSpec(cost="latency"), (1.2, 1.1, 1.15), 2, analytic_counts)

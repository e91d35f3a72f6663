"""A latency study's winner beside the best trained network MACs admits: which network each cost picks."""

from __future__ import annotations

import pandas as pd

from scaling_search.coefficients.grid import GridSpec, measure
from scaling_search.counting.analytic import analytic_counts
from scaling_search.reporting.cost_comparison import side_by_side

GRID = GridSpec(step=0.1, base_resolution=32, num_classes=10, cost="latency", constraint="measured")
MACS = GridSpec(step=0.1, base_resolution=32, num_classes=10, cost="macs", constraint="measured")


def trained(*points: tuple[tuple[float, float, float], float]) -> pd.DataFrame:
    """A ranked candidate table (best first) of these (coefficients, score) as a latency study stores them."""
    rows = [{"candidate": f"c{i}", "kind": "compound", "alpha": a, "beta": b, "gamma": g, "latency_ratio": 2.0,
             "score": score, "test_acc": score - 0.01} for i, ((a, b, g), score) in enumerate(points)]
    return pd.DataFrame(rows).sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


def macs_contender(point) -> bool:
    return measure(MACS, point, "compound", analytic_counts).contender


def test_the_macs_pick_is_the_best_trained_network_macs_admits():
    admitted = [p for p in ((1.0, 1.4, 1.0), (1.9, 1.0, 1.0), (1.0, 1.0, 1.4), (1.3, 1.1, 1.1)) if macs_contender(p)]
    refused = (1.0, 1.0, 1.1)  # far below twice the MACs
    assert admitted and not macs_contender(refused)
    table = trained((refused, 0.9), (admitted[0], 0.8))
    beside = side_by_side(table, GRID, winner="c0")
    assert list(beside.table["picked_by"]) == ["latency", "MACs"]
    assert beside.table.iloc[0]["alpha"] == refused[0] and beside.table.iloc[1]["beta"] == admitted[0][1]
    assert beside.table.iloc[1]["macs_ratio"] == measure(MACS, admitted[0], "compound", analytic_counts).measured_ratio
    assert beside.macs_contenders == 1 and not beside.same
    assert "would pick another one than latency does" in beside.sentence and "not tested here" in beside.sentence


def test_when_both_costs_pick_the_same_network_it_says_so():
    point = next(p for p in ((1.0, 1.4, 1.0), (1.9, 1.0, 1.0), (1.0, 1.0, 1.4)) if macs_contender(p))
    beside = side_by_side(trained((point, 0.9), ((1.0, 1.0, 1.1), 0.8)), GRID, winner="c0")
    assert beside.same and len(beside.table) == 2
    assert beside.sentence.startswith("The latency winner is also the best of the 1 trained networks MACs admits")


def test_a_study_that_trained_nothing_macs_admits_says_a_macs_study_is_needed():
    beside = side_by_side(trained(((1.0, 1.0, 1.1), 0.9), ((1.1, 1.0, 1.0), 0.8)), GRID, winner="c0")
    assert list(beside.table["picked_by"]) == ["latency"] and beside.macs_contenders == 0
    assert beside.sentence.startswith("None of the 2 networks this study trained is a contender under MACs")

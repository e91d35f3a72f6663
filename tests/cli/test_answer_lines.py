"""The command line's sentences about an answer, and run's ranked table from the report's ranked rows."""

from __future__ import annotations

import math

import pandas as pd

from scaling_search.cli import answer_lines
from scaling_search.cli.run import ranked_table
from scaling_search.reporting.tables import ranked_rows

PLATEAU = {"alpha": [1.0, 1.25], "beta": [1.1, 1.1], "gamma": [1.1, 1.15]}


def test_best_lines_say_over_which_runs_and_the_plateau():
    lines = answer_lines.best_lines(alpha=1.1, beta=1.1, gamma=1.125, score=0.81234, n_seeds=2, decided_by="search",
                                    measured_ratio=2.014, cost_resolution=224, plateau=PLATEAU,
                                    representative="the midpoint", growth_per_phi=1.987, proxy_ratio=2.03,
                                    resolution=160)
    assert lines == [
        "best: alpha=1.1 beta=1.1 gamma=1.125 (val acc 0.8123 over 2 search seeds (no finalists: picked and judged "
        "on the same runs), cost 2.01x at 224 px, trained with 2.03x the base's compute at 160 px, growing 1.987x per "
        "phi; picked among contenders only)",
        "  stands for its plateau alpha 1.000–1.250, beta 1.100–1.100, gamma 1.100–1.150 (the midpoint)",
    ]
    assert "over 3 fresh finalist seeds," in answer_lines.best_lines(
        alpha=1.1, beta=1.1, gamma=1.1, score=0.8, n_seeds=3, decided_by="finalists", measured_ratio=2.0,
        cost_resolution=224, plateau=PLATEAU, representative="r", growth_per_phi=2.0, proxy_ratio=None,
        resolution=32)[0]
    assert answer_lines.comparison_line("paper", "w vs p: resolved.") == "  paper: w vs p: resolved."
    assert answer_lines.refinement_not_run("turned off") == "  refinement did not run: turned off"
    assert answer_lines.refinement_confirmation("w", "not resolved on fresh seeds", "w vs r: not resolved.") == [
        "  refinement's best w: not resolved on fresh seeds", "  confirmation: w vs r: not resolved."]
    assert answer_lines.refinement_confirmation("w", "nothing to confirm", None) == [
        "  refinement's best w: nothing to confirm"]


def test_a_scale_up_difference_and_its_verdict():
    assert answer_lines.difference_text(0.0123, [-0.01, 0.03], False) == "+1.23 pts [-1.00, +3.00] not resolved"
    assert answer_lines.difference_text(-0.2, None, True) == "-20.00 pts resolved"


def test_run_and_the_report_rank_from_the_same_rows():
    table = pd.DataFrame({
        "rank": [1, 2, 3], "alpha": [1.0, 1.2, 2.0], "beta": [1.1, 1.1, 1.0], "gamma": [1.3, 1.15, 1.0],
        "kind": ["compound", "reference", "depth-only"], "measured_ratio": [1.1, 1.3, 2.0],
        "proxy_ratio": [2.2, 2.6, 4.0],
        "resolution": [42, 37, 32], "score": [0.8, 0.7, math.nan], "score_std": [0.01, math.nan, math.nan],
        "n_seeds": [2, 1, 0], "n_failed": [0, 0, 1], "test_acc": [0.79, 0.69, math.nan],
        "on_constraint": [True, False, None], "macs": [2e7, 2.4e7, 3e7], "params": [5e6, 5e6, 6e6],
        "growth_per_phi": [2.0, 1.938, 2.0], "contender": [True, True, None], "upsample": [1.3, 1.15, 1.0],
        "activations": [2e5, 2e5, 3e5], "plateau_alpha": [(1.0, 1.0), (1.0, 1.25), (1.75, 2.0)],
        "plateau_beta": [(1.1, 1.1)] * 3, "plateau_gamma": [(1.3, 1.3), (1.1, 1.15), (1.0, 1.0)],
    })
    report = ranked_rows(table)
    assert list(report["val_acc"]) == ["0.8000 ± 0.0100", "0.7000", "–"]
    assert list(report["constraint"]) == ["", "off-constraint", "off-constraint"]
    assert report["plateau"][1] == "[1.000, 1.250] × [1.100, 1.100] × [1.100, 1.150]"
    assert list(report["macs_m"]) == [20.0, 24.0, 30.0]
    text = ranked_table(table).splitlines()
    assert "0.8000 ± 0.0100" in text[2] and "off-constraint" in text[3] and "–" in text[4]
    assert "1.000–1.250 | 1.100–1.100 | 1.100–1.150" in text[3]

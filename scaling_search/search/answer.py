"""The study's answer and what its data can say about it: best.json's content from the finished trials.

The answer is the top contender of the deciding stage (the finalists' fresh seeds when the study
has finalists, else the search's own runs). It stands for its *plateau*, every (α, β, γ) that
realises the same networks; the exported coefficients are the plateau's representative (the
midpoint of each interval), or, when the refinement stage ran, the best of the networks the
plateau splits into at 2φ. The winner is compared with the runner-up and with the paper's point
by a paired bootstrap over seeds and validation images (:mod:`scaling_search.stats.comparison`), and the
verdict says "resolved" only when the 95 % interval excludes zero.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
from optuna.trial import FrozenTrial

from scaling_search.coefficients.grid import GridSpec, nominal_ratio
from scaling_search.coefficients.plateaus import Plateau, plateau
from scaling_search.search.results import candidate_table, contenders, correctness, none_if_nan, seed_scores
from scaling_search.search.search_plan import grid_spec
from scaling_search.search.stages import decided_stage, finalist_seeds, wants_refinement
from scaling_search.stats.comparison import Comparison, compare_runs, compare_scores
from scaling_search.study.definition import StudyDefinition

REPRESENTATIVE_RULE = ("the midpoint of each interval of the plateau, rounded to 4 decimals (kept inside it); every "
                       "point of the plateau trains and costs the same networks, so the data cannot prefer its corner")


def compare(trials: list[FrozenTrial], stage: str, first: str, second: str) -> Comparison:
    """``first`` − ``second`` on their runs of ``stage``: per-image records where both have them, else seed scores."""
    runs = correctness(trials, stage)
    if runs.get(first) and runs.get(second):
        return compare_runs(runs[first], runs[second], first, second)
    scores = seed_scores(trials, stage)
    return compare_scores(scores.get(first, []), scores.get(second, []), first, second)


def comparisons(trials: list[FrozenTrial], stage: str, table: pd.DataFrame) -> list[tuple[str, Comparison]]:
    """The winner against the runner-up among the contenders and against the paper's point (unless it won).

    The paper's point is compared even when its cost misses the constraint (:func:`comparison_records` says so).
    """
    eligible = contenders(table)
    if eligible.empty:
        return []
    winner = eligible.iloc[0]["candidate"]
    found = []
    if len(eligible) > 1:
        found.append(("runner-up", compare(trials, stage, winner, eligible.iloc[1]["candidate"])))
    paper = table[table["kind"].eq("reference") & table["n_seeds"].gt(0)]
    if not paper.empty and paper.iloc[0]["candidate"] != winner:
        found.append(("paper", compare(trials, stage, winner, paper.iloc[0]["candidate"])))
    return found


def refinement(trials: list[FrozenTrial], definition: StudyDefinition, spec: GridSpec, parent: Plateau
               ) -> dict[str, Any]:
    """What the refinement stage came to: its winner and plateau at 2φ, or why it did not run or decide."""
    refine_phi = 2 * parent.phi
    table = candidate_table(trials, "refine")
    record: dict[str, Any] = {"phi": refine_phi, "parent_plateau": parent.bounds(), "trained": len(table)}
    if table.empty:
        if definition.refine is False:
            reason = "turned off (--no-refine)"
        elif not wants_refinement(definition, parent):
            reason = f"the winning class is no wider than a grid step ({definition.step:g}) on any axis"
        else:
            reason = f"no network inside the winning class meets the constraint at phi = {refine_phi:g}"
        return record | {"ran": False, "reason": reason}
    eligible = contenders(table)
    if eligible.empty:
        return record | {"ran": True, "reason": "no refinement trial completed on every seed; the class's "
                                                 "representative is kept"}
    top = eligible.iloc[0]
    point = (float(top["alpha"]), float(top["beta"]), float(top["gamma"]))
    within = replace(spec, phi=refine_phi, alpha_range=parent.alpha, beta_range=parent.beta, gamma_range=parent.gamma)
    record |= {"ran": True, "winner": {"candidate": top["candidate"], "alpha": point[0], "beta": point[1],
                                       "gamma": point[2], "score": float(top["score"]),
                                       "measured_ratio": none_if_nan(top["measured_ratio"])},
               "plateau": plateau(within, point).bounds()}
    if len(eligible) > 1:
        record["comparison"] = compare(trials, "refine", top["candidate"], eligible.iloc[1]["candidate"]).to_dict()
    return record


def study_answer(trials: list[FrozenTrial], definition: StudyDefinition, num_classes: int) -> dict[str, Any] | None:
    """best.json's content: the answer, its plateau, its intervals and how it was decided; None without a contender."""
    spec = grid_spec(definition, num_classes)
    stage = decided_stage(trials, definition)
    table = candidate_table(trials, stage)
    eligible = contenders(table)
    if eligible.empty:
        return None
    top = eligible.iloc[0]
    trained = (float(top["alpha"]), float(top["beta"]), float(top["gamma"]))
    parent = plateau(spec, trained)
    refined = refinement(trials, definition, spec, parent)
    if "winner" in refined:
        final = tuple(refined["winner"][name] for name in ("alpha", "beta", "gamma"))
        bounds = refined["plateau"]
    else:
        final, bounds = parent.representative(), parent.bounds()
    found = comparisons(trials, stage, table)
    runner_up = dict(found).get("runner-up")
    return {
        "alpha": final[0],
        "beta": final[1],
        "gamma": final[2],
        "phi": definition.phi,
        "plateau": bounds,
        "representative": REPRESENTATIVE_RULE if "winner" not in refined else
        f"the best of the class's networks at phi = {refined['phi']:g}, from the refinement",
        "trained": {"candidate": top["candidate"], "alpha": trained[0], "beta": trained[1], "gamma": trained[2]},
        "decided_by": "finalists" if stage == "finalist" else "search",
        "finalist_seeds": finalist_seeds(definition) if stage == "finalist" else [],
        "score": float(top["score"]),
        "score_std": none_if_nan(top["score_std"]),
        "n_seeds": int(top["n_seeds"]),
        "n_failed": int(top["n_failed"]),
        "test_acc": none_if_nan(top["test_acc"]),
        "ci95": list(runner_up.ci95) if runner_up is not None and runner_up.ci95 is not None else None,
        "verdict": verdict_word(runner_up),
        "comparisons": comparison_records(found, table),
        "refinement": refined,
        "measured_ratio": none_if_nan(top["measured_ratio"]),
        "nominal_ratio": nominal_ratio(*final),
        "proxy_ratio": none_if_nan(top["proxy_ratio"]),
        "macs": int(top["macs"]),
        "params": int(top["params"]),
        "cost_resolution": int(top["cost_resolution"]),
        "resolution": int(top["resolution"]),
        "candidate": top["candidate"],
        "kind": top["kind"],
        "metric": "validation accuracy (final epoch), mean over the deciding stage's seeds",
        "cost": "macs, params, cost_resolution and measured_ratio at the cost scale (the same for every point of "
                "the plateau); resolution and proxy_ratio are the trained proxy's",
    }


def comparison_records(found: list[tuple[str, Comparison]], table: pd.DataFrame) -> list[dict[str, Any]]:
    """best.json's comparisons: each with its sentence, and the other side's cost (the paper's may be off the
    constraint, which a reader must know before reading the difference)."""
    rows = table.set_index("candidate")
    records = []
    for name, comparison in found:
        other = rows.loc[comparison.second]
        records.append({"against": name, **comparison.to_dict(), "sentence": comparison.sentence(),
                        "other_measured_ratio": none_if_nan(other["measured_ratio"]),
                        "other_on_constraint": bool(other["on_constraint"] == True)})  # noqa: E712 (NumPy bool)
    return records


def answer_plateau(best: dict[str, Any]) -> Plateau:
    """best.json's plateau as a :class:`~scaling_search.coefficients.plateaus.Plateau`."""
    return Plateau(point=(best["alpha"], best["beta"], best["gamma"]), phi=best["phi"],
                   **{name: tuple(bounds) for name, bounds in best["plateau"].items()})


def with_plateaus(table: pd.DataFrame, spec: GridSpec) -> pd.DataFrame:
    """``table`` with each row's plateau at ``spec.phi``: ``plateau_alpha`` … as (lo, hi) pairs.

    A row stands for every (α, β, γ) in its plateau: a grid at that φ cannot tell them apart. A row
    outside ``spec``'s ranges (the paper's point or a baseline the grid does not cover) gets its
    plateau within the ranges stretched to hold it.
    """
    boxes = [plateau(covering(spec, point), point) for point in
             ((float(row.alpha), float(row.beta), float(row.gamma)) for row in table.itertuples())]
    return table.assign(plateau_alpha=[box.alpha for box in boxes], plateau_beta=[box.beta for box in boxes],
                        plateau_gamma=[box.gamma for box in boxes])


def covering(spec: GridSpec, point: tuple[float, float, float]) -> GridSpec:
    """``spec`` with each range stretched to hold ``point``'s coefficient on that axis."""
    ranges = {f"{name}_range": (min(low, value), max(high, value)) for name, value, (low, high) in
              zip(("alpha", "beta", "gamma"), point, (spec.alpha_range, spec.beta_range, spec.gamma_range),
                  strict=True)}
    return replace(spec, **ranges)


def stage_spec(definition: StudyDefinition, num_classes: int, stage: str, best: dict[str, Any] | None) -> GridSpec:
    """The grid a stage's rows are read on: the study's, or for the refinement 2φ inside the winning class."""
    spec = grid_spec(definition, num_classes)
    parent = (best or {}).get("refinement", {}).get("parent_plateau")
    if stage != "refine" or parent is None:
        return spec
    return replace(spec, phi=2 * spec.phi, alpha_range=tuple(parent["alpha"]), beta_range=tuple(parent["beta"]),
                   gamma_range=tuple(parent["gamma"]))


def verdict_word(runner_up: Comparison | None) -> str:
    """best.json's one-word verdict on winner − runner-up."""
    if runner_up is None:
        return "no runner-up"
    return "resolved" if runner_up.resolved else "not resolved at this budget"

"""The study's trials as tables: one row per trial, and one per candidate aggregated over seeds.

A study trains in stages (:data:`STAGES`): the search, its finalists re-trained on fresh seeds,
and the refinement of the winning class at twice the study's φ; each trial says which it belongs
to (``stage``; trials of studies made before stages existed are the search's). Tables are built
per stage, so that a candidate's seeds are only ever pooled with runs of the same kind.

A candidate's failed or early-stopped seeds are counted (``n_failed``), never silently dropped:
ranking puts every candidate whose seeds all completed before any candidate with a failed seed
(those by the mean of their completed seeds, shown with their failures), and only a candidate
with no failed seed can be the study's answer.

Pure functions of the Optuna trials, shared by the search's export and the reports.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from scaling_search.training.correctness import unpack_correctness

VAL_CORRECT = "val_correct"
"""The trial system attribute holding which validation images the final model got right, packed
(:func:`scaling_search.training.correctness.pack_correctness`); system, so that optuna-dashboard does not show it."""

STAGES = ("search", "finalist", "refine")
"""search: the grid (or TPE) at the study's φ; finalist: the top candidates again on fresh seeds, which the
verdict uses; refine: networks inside the winning class at twice the study's φ."""

TRIAL_COLUMNS = (
    "number", "state", "stage", "phi", "key", "candidate", "kind", "alpha", "beta", "gamma", "seed", "val_acc",
    "best_val_acc", "test_acc", "status", "reason", "epochs", "wall_s", "img_per_s", "peak_mem_mb", "macs",
    "measured_ratio", "nominal_ratio", "params", "activations", "cost_resolution", "on_constraint", "proxy_ratio",
    "resolution", "step_mode", "hardware", "node_id",
)
"""``macs`` … ``cost_resolution`` and ``measured_ratio`` are at the cost scale; ``proxy_ratio`` and ``resolution``
are the trained proxy's."""


def trial_rows(trials: list[FrozenTrial]) -> pd.DataFrame:
    """One row per trial, in trial-number order."""
    rows = []
    for trial in sorted(trials, key=lambda t: t.number):
        attrs = trial.user_attrs
        row: dict[str, Any] = {"number": trial.number, "state": trial.state.name}
        row.update({name: trial.params.get(name) for name in ("alpha", "beta", "gamma", "seed")})
        row.update({name: attrs.get(name) for name in TRIAL_COLUMNS if name not in row})
        row["stage"] = trial_stage(trial)
        row["val_acc"] = trial.value if trial.state == TrialState.COMPLETE else attrs.get("val_acc")
        rows.append(row)
    return pd.DataFrame(rows, columns=list(TRIAL_COLUMNS))


def trial_stage(trial: FrozenTrial) -> str:
    """The stage a trial belongs to (:data:`STAGES`); trials stored before stages existed are the search's."""
    return str(trial.user_attrs.get("stage", "search"))


def stage_trials(trials: list[FrozenTrial], stage: str) -> list[FrozenTrial]:
    """The trials of one stage."""
    return [t for t in trials if trial_stage(t) == stage]


CANDIDATE_COLUMNS = ["rank", "candidate", "kind", "alpha", "beta", "gamma", "score", "score_std", "n_seeds",
                     "n_failed", "test_acc", "test_acc_std", "measured_ratio", "nominal_ratio", "on_constraint", "macs",
                     "params", "activations", "cost_resolution", "proxy_ratio", "resolution", "wall_s", "phi"]


def candidate_table(trials: list[FrozenTrial], stage: str = "search") -> pd.DataFrame:
    """One row per candidate of ``stage`` that ran: mean ± std of the validation accuracy over its completed seeds.

    ``n_seeds`` counts completed seeds and ``n_failed`` failed or early-stopped ones (a TPE split
    that was infeasible was never a candidate and is not counted). Ranked by the rule in the
    module docstring: candidates without failures first, each group by ``score``, candidates
    with no completed seed last.
    """
    frame = trial_rows(stage_trials(trials, stage))
    ran = frame[frame["state"].isin(["COMPLETE", "FAIL", "PRUNED"]) & frame["candidate"].notna()
                & frame["status"].ne("infeasible")].copy()
    if ran.empty:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    ran["complete"] = ran["state"].eq("COMPLETE")
    ran["score_of_complete"] = ran["val_acc"].where(ran["complete"]).astype(float)
    ran["test_of_complete"] = ran["test_acc"].where(ran["complete"]).astype(float)
    grouped = ran.groupby("candidate", sort=False)
    table = grouped.agg(
        kind=("kind", "first"), alpha=("alpha", "first"), beta=("beta", "first"), gamma=("gamma", "first"),
        score=("score_of_complete", "mean"), score_std=("score_of_complete", "std"), n_seeds=("complete", "sum"),
        n_ran=("complete", "size"), test_acc=("test_of_complete", "mean"), test_acc_std=("test_of_complete", "std"),
        measured_ratio=("measured_ratio", "first"), nominal_ratio=("nominal_ratio", "first"),
        on_constraint=("on_constraint", "first"), macs=("macs", "first"), params=("params", "first"),
        activations=("activations", "first"), cost_resolution=("cost_resolution", "first"),
        proxy_ratio=("proxy_ratio", "first"), resolution=("resolution", "first"), wall_s=("wall_s", "mean"),
        phi=("phi", "first"),
    ).reset_index()
    table["n_seeds"] = table["n_seeds"].astype(int)
    table["n_failed"] = (table.pop("n_ran") - table["n_seeds"]).astype(int)
    table["_group"] = [0 if failed == 0 else 1 if seeds > 0 else 2
                       for failed, seeds in zip(table["n_failed"], table["n_seeds"], strict=True)]
    table = table.sort_values(["_group", "score", "candidate"], ascending=[True, False, True], kind="stable",
                              na_position="last").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table[CANDIDATE_COLUMNS]


def correctness(trials: list[FrozenTrial], stage: str) -> dict[str, dict[int, np.ndarray]]:
    """Per candidate of ``stage``, its COMPLETE seeds' per-image validation correctness (seed → bool array).

    Trials recorded before correctness was kept have none and are left out.
    """
    runs: dict[str, dict[int, np.ndarray]] = {}
    for trial in stage_trials(trials, stage):
        packed = trial.system_attrs.get(VAL_CORRECT)
        if trial.state == TrialState.COMPLETE and packed:
            runs.setdefault(trial.user_attrs["candidate"], {})[int(trial.params["seed"])] = unpack_correctness(packed)
    return runs


def seed_scores(trials: list[FrozenTrial], stage: str) -> dict[str, list[float]]:
    """Per candidate of ``stage``, its COMPLETE seeds' validation accuracies."""
    scores: dict[str, list[float]] = {}
    for trial in stage_trials(trials, stage):
        if trial.state == TrialState.COMPLETE and trial.value is not None:
            scores.setdefault(trial.user_attrs["candidate"], []).append(float(trial.value))
    return scores


def on_constraint(value: Any) -> bool:
    """A table cell of ``on_constraint`` as a bool: Python's or NumPy's True; False, None (older trials) or NaN not."""
    return bool(value == True)  # noqa: E712 (a NumPy bool is not ``True`` by identity)


def contenders(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a :func:`candidate_table` that may be the study's answer: compound candidates on the constraint
    whose every seed completed.

    The paper's point and the single-dimension baselines are trained to be compared with, never to
    win; a candidate whose cost misses the constraint is not an equal of the others; one with a
    failed seed would be judged on its survivors.
    """
    return table[table["kind"].eq("compound") & table["on_constraint"].eq(True) & table["n_failed"].eq(0)]


def failure_lines(trials: list[FrozenTrial]) -> list[str]:
    """'<key>: <status> (<reason>)' for every FAIL trial, for the summary."""
    return [f"{t.user_attrs.get('key', t.number)}: {t.user_attrs.get('status')} ({t.user_attrs.get('reason')})"
            for t in trials if t.state == TrialState.FAIL]


def none_if_nan(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value

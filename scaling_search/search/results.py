"""The study's trials as tables: one row per trial, and one per candidate aggregated over seeds.

Pure functions of the Optuna trials, shared by the search's export and the reports.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from optuna.trial import FrozenTrial, TrialState

TRIAL_COLUMNS = (
    "number", "state", "key", "candidate", "kind", "alpha", "beta", "gamma", "seed", "val_acc", "best_val_acc",
    "test_acc", "status", "reason", "epochs", "wall_s", "img_per_s", "peak_mem_mb", "macs", "measured_ratio",
    "nominal_ratio", "params", "activations", "cost_resolution", "on_constraint", "proxy_ratio", "resolution",
    "step_mode", "hardware", "node_id",
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
        row["val_acc"] = trial.value if trial.state == TrialState.COMPLETE else attrs.get("val_acc")
        rows.append(row)
    return pd.DataFrame(rows, columns=list(TRIAL_COLUMNS))


def candidate_table(trials: list[FrozenTrial]) -> pd.DataFrame:
    """One row per candidate with COMPLETE trials: mean ± std of the validation accuracy over seeds, ranked."""
    frame = trial_rows(trials)
    complete = frame[frame["state"] == "COMPLETE"]
    columns = ["rank", "candidate", "kind", "alpha", "beta", "gamma", "score", "score_std", "n_seeds", "test_acc",
               "test_acc_std", "measured_ratio", "nominal_ratio", "on_constraint", "macs", "params", "activations",
               "cost_resolution", "proxy_ratio", "resolution", "wall_s"]
    if complete.empty:
        return pd.DataFrame(columns=columns)
    grouped = complete.groupby("candidate", sort=False)
    table = grouped.agg(
        kind=("kind", "first"), alpha=("alpha", "first"), beta=("beta", "first"), gamma=("gamma", "first"),
        score=("val_acc", "mean"), score_std=("val_acc", "std"), n_seeds=("val_acc", "size"),
        test_acc=("test_acc", "mean"), test_acc_std=("test_acc", "std"),
        measured_ratio=("measured_ratio", "first"), nominal_ratio=("nominal_ratio", "first"),
        on_constraint=("on_constraint", "first"), macs=("macs", "first"), params=("params", "first"),
        activations=("activations", "first"), cost_resolution=("cost_resolution", "first"),
        proxy_ratio=("proxy_ratio", "first"), resolution=("resolution", "first"), wall_s=("wall_s", "mean"),
    ).reset_index()
    table = table.sort_values(["score", "candidate"], ascending=[False, True], kind="stable").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table[columns]


def on_constraint(value: Any) -> bool:
    """A table cell of ``on_constraint`` as a bool: Python's or NumPy's True; False, None (older trials) or NaN not."""
    return bool(value == True)  # noqa: E712 (a NumPy bool is not ``True`` by identity)


def contenders(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a :func:`candidate_table` that may be the study's answer: compound candidates on the constraint.

    The paper's point and the single-dimension baselines are trained to be compared with, never to
    win; a candidate whose cost misses the constraint is not an equal of the others.
    """
    return table[table["kind"].eq("compound") & table["on_constraint"].eq(True)]


def best_candidate(table: pd.DataFrame, phi: float) -> dict[str, Any] | None:
    """The top-ranked contender of a :func:`candidate_table` as ``best.json`` holds it; None when there is none."""
    eligible = contenders(table)
    if eligible.empty:
        return None
    top = eligible.iloc[0]
    return {
        "alpha": float(top["alpha"]),
        "beta": float(top["beta"]),
        "gamma": float(top["gamma"]),
        "phi": phi,
        "score": float(top["score"]),
        "score_std": none_if_nan(top["score_std"]),
        "n_seeds": int(top["n_seeds"]),
        "test_acc": none_if_nan(top["test_acc"]),
        "measured_ratio": none_if_nan(top["measured_ratio"]),
        "nominal_ratio": none_if_nan(top["nominal_ratio"]),
        "proxy_ratio": none_if_nan(top["proxy_ratio"]),
        "macs": int(top["macs"]),
        "params": int(top["params"]),
        "cost_resolution": int(top["cost_resolution"]),
        "resolution": int(top["resolution"]),
        "candidate": top["candidate"],
        "kind": top["kind"],
        "metric": "validation accuracy (final epoch), mean over seeds",
        "cost": "macs, params, cost_resolution and measured_ratio at the cost scale; resolution and proxy_ratio "
                "are the trained proxy's",
    }


def failure_lines(trials: list[FrozenTrial]) -> list[str]:
    """'<key>: <status> (<reason>)' for every FAIL trial, for the summary."""
    return [f"{t.user_attrs.get('key', t.number)}: {t.user_attrs.get('status')} ({t.user_attrs.get('reason')})"
            for t in trials if t.state == TrialState.FAIL]


def none_if_nan(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value

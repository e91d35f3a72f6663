"""The study's trials as tables: one row per trial, and one per candidate aggregated over seeds.

A study trains in stages (:class:`~scaling_search.study.schema.Stage`): the search, its finalists
re-trained on fresh seeds, and the refinement of the winning class at twice the study's φ; each
trial says which it belongs to (``stage``). A study's runs are grouped per candidate and stage in
one place, :func:`stage_runs`, so that a candidate's seeds are only ever pooled with runs of the
same kind; the tables, the verdict's comparisons and the validation's checks all read that grouping.

A candidate's failed or early-stopped seeds are counted (``n_failed``), never silently dropped:
ranking puts every candidate whose seeds all completed before any candidate with a failed seed
(those by the mean of their completed seeds, shown with their failures), and only a candidate
with no failed seed can be the study's answer.

Pure functions of the Optuna trials, shared by the search's export, the reports and the validation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from scaling_search.stats.comparison import (
    DEFAULT_MIN_EFFECT,
    Comparison,
    accuracy_interval,
    compare_runs,
    compare_scores,
)
from scaling_search.study.schema import Stage
from scaling_search.training.correctness import unpack_correctness

VAL_CORRECT = "val_correct"
"""The trial system attribute holding which validation images the final model got right, packed
(:func:`scaling_search.training.correctness.pack_correctness`); system, so that optuna-dashboard does not show it."""
TEST_CORRECT = "test_correct"
"""The same for the test split: the images that judge the winner, which the validation images picked."""
CORRECT_ATTRS = {"validation": VAL_CORRECT, "test": TEST_CORRECT}
"""Each split's per-image record, by the split's name."""

TRIAL_COLUMNS = (
    "number", "state", "stage", "phi", "key", "candidate", "kind", "alpha", "beta", "gamma", "seed", "val_acc",
    "best_val_acc", "test_acc", "status", "reason", "epochs", "wall_s", "img_per_s", "peak_mem_mb", "macs",
    "measured_ratio", "nominal_ratio", "params", "activations", "cost_resolution", "on_constraint", "proxy_ratio",
    "resolution", "growth_per_phi", "contender", "upsample", "step_mode", "hardware", "node_id",
)
"""``macs`` … ``cost_resolution`` and ``measured_ratio`` are at the cost scale; ``proxy_ratio`` and ``resolution``
are the trained proxy's; ``growth_per_phi`` is the family's (at φ = 7); ``upsample`` is the trained resolution over the
data's native one."""

FINISHED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)
"""The states of a trial that ran: completed, failed, or stopped early."""


def trial_rows(trials: list[FrozenTrial]) -> pd.DataFrame:
    """One row per trial, in trial-number order."""
    rows = []
    for trial in sorted(trials, key=lambda t: t.number):
        attrs = trial.user_attrs
        row: dict[str, object] = {"number": trial.number, "state": trial.state.name}
        row.update({name: trial.params.get(name) for name in ("alpha", "beta", "gamma", "seed")})
        row.update({name: attrs.get(name) for name in TRIAL_COLUMNS if name not in row})
        row["stage"] = trial_stage(trial)
        row["val_acc"] = trial.value if trial.state == TrialState.COMPLETE else attrs.get("val_acc")
        rows.append(row)
    return pd.DataFrame(rows, columns=list(TRIAL_COLUMNS))


def trial_stage(trial: FrozenTrial) -> str:
    """The stage a trial belongs to: its ``stage``; a TPE split told infeasible never had a candidate's attributes,
    and was sampled by the search."""
    return str(trial.user_attrs.get("stage", Stage.SEARCH))


def stage_trials(trials: list[FrozenTrial], stage: str) -> list[FrozenTrial]:
    """The trials of one stage."""
    return [t for t in trials if trial_stage(t) == stage]


Interval = tuple[float, float]


def interval_json(interval: Interval | None) -> list[float] | None:
    return None if interval is None else [float(interval[0]), float(interval[1])]


def interval_of(value: Sequence[float] | None) -> Interval | None:
    return None if value is None else (float(value[0]), float(value[1]))


@dataclass(frozen=True)
class Accuracy:
    """A network's mean accuracy over its seeds, its 95 % interval over seeds and images, the seeds it rests on."""

    score: float | None
    ci95: Interval | None
    n_seeds: int
    n_failed: int

    def to_json(self, prefix: str = "") -> dict[str, object]:
        """The four values under their keys, each key after ``prefix`` (a fidelity row's are ``long_…``)."""
        return {f"{prefix}score": self.score, f"{prefix}ci95": interval_json(self.ci95),
                f"{prefix}n_seeds": self.n_seeds, f"{prefix}n_failed": self.n_failed}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], prefix: str = "") -> Accuracy:
        return cls(data[f"{prefix}score"], interval_of(data[f"{prefix}ci95"]), data[f"{prefix}n_seeds"],
                   data[f"{prefix}n_failed"])



@dataclass
class Runs:
    """One candidate's runs in a stage: scores and per-image correctness by seed of the completed ones, failures
    counted, and every finished trial (``ran``) for what else they recorded."""

    kind: str
    coefficients: tuple[float, float, float]
    attrs: Mapping[str, Any]
    """The user attrs of the candidate's first trial (what was planned for it)."""
    scores: dict[int, float] = field(default_factory=dict)
    correct: dict[int, np.ndarray] = field(default_factory=dict)
    """Per-image correctness on the validation split, by seed."""
    test_correct: dict[int, np.ndarray] = field(default_factory=dict)
    """Per-image correctness on the test split, by seed."""
    test_scores: dict[int, float] = field(default_factory=dict)
    """Test accuracy by seed, of the completed runs that recorded one."""
    failed: int = 0
    ran: list[FrozenTrial] = field(default_factory=list)

    def summary(self) -> Accuracy:
        """Mean accuracy, its 95 % interval over seeds and images, the seeds it rests on, the failures."""
        score = float(np.mean(list(self.scores.values()))) if self.scores else None
        interval = None
        if self.correct and len(self.correct) == len(self.scores):
            interval = accuracy_interval(self.correct, self.attrs["candidate"])
        return Accuracy(score, interval, len(self.scores), self.failed)


def stage_runs(trials: list[FrozenTrial], stage: str, phi: float | None = None) -> dict[str, Runs]:
    """The runs of ``stage`` (at ``phi`` when given) by candidate, in trial order: the one grouping of a study's runs.

    A trial without a candidate (a TPE split told infeasible, or one not yet given its split) is
    no candidate's run. A completed run without per-image records has a score and no ``correct``.
    """
    runs: dict[str, Runs] = {}
    for trial in sorted(trials, key=lambda t: t.number):
        attrs = trial.user_attrs
        if ("candidate" not in attrs or attrs.get("status") == "infeasible" or trial_stage(trial) != stage
                or (phi is not None and float(attrs["phi"]) != phi)):
            continue
        coefficients = (float(trial.params["alpha"]), float(trial.params["beta"]), float(trial.params["gamma"]))
        entry = runs.setdefault(attrs["candidate"], Runs(attrs["kind"], coefficients, dict(attrs)))
        seed = int(trial.params["seed"])
        if trial.state in FINISHED:
            entry.ran.append(trial)
        if trial.state == TrialState.COMPLETE and trial.value is not None:
            entry.scores[seed] = float(trial.value)
            packed = trial.system_attrs.get(VAL_CORRECT)
            if packed:
                entry.correct[seed] = unpack_correctness(packed)
            if trial.user_attrs.get("test_acc") is not None:
                entry.test_scores[seed] = float(trial.user_attrs["test_acc"])
            packed_test = trial.system_attrs.get(TEST_CORRECT)
            if packed_test:
                entry.test_correct[seed] = unpack_correctness(packed_test)
        elif trial.state in (TrialState.FAIL, TrialState.PRUNED):
            entry.failed += 1
    return runs


def compare(first: Runs, second: Runs, first_name: str, second_name: str, *, split: str = "validation",
            min_effect: float = DEFAULT_MIN_EFFECT) -> Comparison:
    """``first`` − ``second`` on ``split``'s images: over seeds and images when both kept per-image records there.

    Without them (a run that failed to record them), over that split's per-seed accuracies only.
    """
    records = {"validation": (first.correct, second.correct, first.scores, second.scores),
               "test": (first.test_correct, second.test_correct, first.test_scores, second.test_scores)}
    ours, theirs, our_scores, their_scores = records[split]
    if ours and theirs:
        return compare_runs(ours, theirs, first_name, second_name, min_effect=min_effect, split=split)
    return compare_scores(list(our_scores.values()), list(their_scores.values()), first_name, second_name,
                          min_effect=min_effect, split=split)


def seed_scores(trials: list[FrozenTrial], stage: str) -> dict[str, list[float]]:
    """Per candidate of ``stage`` with a completed seed, its completed seeds' validation accuracies."""
    return {name: list(entry.scores.values()) for name, entry in stage_runs(trials, stage).items() if entry.scores}


CANDIDATE_COLUMNS = ["rank", "candidate", "kind", "alpha", "beta", "gamma", "score", "score_std", "n_seeds",
                     "n_failed", "test_acc", "test_acc_std", "measured_ratio", "nominal_ratio", "on_constraint", "macs",
                     "params", "activations", "cost_resolution", "proxy_ratio", "resolution", "growth_per_phi",
                     "contender", "upsample", "wall_s", "phi", "latency_ratio", "latency_ms", "latency_iqr_ms",
                     "cost_device"]


def candidate_table(trials: list[FrozenTrial], stage: str = Stage.SEARCH) -> pd.DataFrame:
    """One row per candidate of ``stage`` that ran: mean ± std of the validation accuracy over its completed seeds.

    ``n_seeds`` counts completed seeds and ``n_failed`` failed or early-stopped ones (a TPE split
    that was infeasible was never a candidate and is not counted). Ranked by the rule in the
    module docstring: candidates without failures first, each group by ``score``, candidates
    with no completed seed last.
    """
    rows = [candidate_row(name, entry) for name, entry in stage_runs(trials, stage).items() if entry.ran]
    if not rows:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    table = pd.DataFrame(rows)
    table["_group"] = [0 if failed == 0 else 1 if seeds > 0 else 2
                       for failed, seeds in zip(table["n_failed"], table["n_seeds"], strict=True)]
    table = table.sort_values(["_group", "score", "candidate"], ascending=[True, False, True], kind="stable",
                              na_position="last").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table[CANDIDATE_COLUMNS]


FIRST_OF_RUNS = ("measured_ratio", "nominal_ratio", "on_constraint", "macs", "params", "activations", "cost_resolution",
                 "proxy_ratio", "resolution", "growth_per_phi", "contender", "upsample", "phi", "latency_ratio",
                 "latency_ms", "latency_iqr_ms", "cost_device")
"""The columns of :func:`candidate_table` that are the candidate's, the same on each of its runs."""


def candidate_row(name: str, entry: Runs) -> dict[str, object]:
    """A :func:`candidate_table` row (without its rank) from a candidate's runs."""
    complete = [t for t in entry.ran if t.state == TrialState.COMPLETE]
    score, score_std = mean_std([float(t.value) for t in complete if t.value is not None])
    test_acc, test_acc_std = mean_std([float(t.user_attrs["test_acc"]) for t in complete
                                       if t.user_attrs.get("test_acc") is not None])
    alpha, beta, gamma = entry.coefficients
    row: dict[str, object] = {"candidate": name, "kind": entry.kind, "alpha": alpha, "beta": beta, "gamma": gamma,
                              "score": score, "score_std": score_std, "n_seeds": len(complete),
                              "n_failed": len(entry.ran) - len(complete), "test_acc": test_acc,
                              "test_acc_std": test_acc_std}
    row.update({column: next((t.user_attrs[column] for t in entry.ran if t.user_attrs.get(column) is not None), None)
                for column in FIRST_OF_RUNS})
    row["wall_s"] = mean_std([float(t.user_attrs["wall_s"]) for t in entry.ran
                              if t.user_attrs.get("wall_s") is not None])[0]
    return row


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation; NaN where there are too few values for either."""
    mean = float(np.mean(values)) if values else math.nan
    return mean, float(np.std(values, ddof=1)) if len(values) > 1 else math.nan


def on_constraint(value: Any) -> bool:
    """A table cell of a flag (``on_constraint``, ``contender``) as a bool: Python's or NumPy's True; False, None or
    NaN not."""
    return bool(value == True)  # noqa: E712 (a NumPy bool is not ``True`` by identity)


def contenders(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a :func:`candidate_table` that may be the study's answer: compound candidates that contend
    (:class:`~scaling_search.coefficients.grid.Candidate`: their family grows as promised and they train with the
    target compute) and whose every seed completed.

    The paper's point and the single-dimension baselines are trained to be compared with, never to
    win; a candidate that trains with more or less compute than the target, or whose family does not
    grow as promised, is not an equal of the others; one with a failed seed would be judged on its survivors.
    """
    return table[table["kind"].eq("compound") & table["contender"].eq(True) & table["n_failed"].eq(0)]


def failure_lines(trials: list[FrozenTrial]) -> list[str]:
    """'<key>: <status> (<reason>)' for every FAIL trial, for the summary."""
    return [f"{t.user_attrs.get('key', t.number)}: {t.user_attrs.get('status')} ({t.user_attrs.get('reason')})"
            for t in trials if t.state == TrialState.FAIL]


def none_if_nan(value: Any) -> float | None:
    """A table cell as a float for JSON: None for a missing value (None or NaN)."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value

"""A Ray Tune searcher whose source of truth is the Optuna study.

Tune asks it for the next trial; it takes the next WAITING trial of the study (the grid's
plan, or the reference point) or samples one with TPE, and records every result in the
study itself: intermediate values per epoch, then COMPLETE, FAIL (with the reason) or
PRUNED (stopped early by ASHA). Only this driver-side object writes the study.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, TypedDict, cast

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import TrialState
from ray.tune import Callback
from ray.tune.search import Searcher

from scaling_search.compat.optuna import (
    get_trial,
    report_value,
    set_system_attr,
    set_user_attr,
    storage_id,
    trial_number,
)
from scaling_search.execution.trainable import PROXY_RESULT, TrialConfig
from scaling_search.search.console import Progress
from scaling_search.search.results import TEST_CORRECT, VAL_CORRECT
from scaling_search.study.storage import OBJECTIVE


class TrialOutcome(TypedDict, total=False):
    """What became of a trial: the worker's whole ProxyResult (:mod:`scaling_search.training.proxy`, as JSON, with
    where it ran), or what the driver saw of a worker that died or a trial the scheduler stopped."""

    status: str  # always set
    reason: str | None
    val_acc: float | None
    best_val_acc: float | None
    test_acc: float | None
    epochs: int | None
    wall_s: float
    img_per_s: float | None
    peak_mem_mb: float | None
    step_mode: str | None
    device: str
    hardware: str
    node_id: str | None
    train_loss_curve: list[float]
    val_curve: list[float]
    val_correct: str | None
    test_correct: str | None


RESULT_ATTRS = ("status", "reason", "val_acc", "best_val_acc", "test_acc", "epochs", "wall_s", "img_per_s",
                "peak_mem_mb", "step_mode", "device", "hardware", "node_id", "train_loss_curve", "val_curve")
"""The outcome's fields a trial keeps as user attributes."""


class StudySearcher(Searcher):
    """Hands out the study's trials to Tune and records their outcome in the study."""

    def __init__(
        self,
        study: optuna.Study,
        space: dict[str, BaseDistribution],
        suggest_new: Callable[[optuna.Study], optuna.Trial | None] | None,
        config_for: Callable[[optuna.Trial], TrialConfig],
        on_change: Callable[[Progress], None] = lambda progress: None,
    ) -> None:
        super().__init__(metric=OBJECTIVE, mode="max")
        self.study = study
        self.space = space
        self.suggest_new = suggest_new
        self.config_for = config_for
        self.on_change = on_change
        self.live: dict[str, tuple[int, float]] = {}  # Tune trial id → (Optuna trial id, start time)
        self.progress = Progress()
        self.crashes: dict[str, tuple[int, str]] = {}  # Tune trial id → (retries, last error line)

    # Ray annotates ``suggest`` as returning ``Optional[Dict]``, but its documented contract also takes
    # ``Searcher.FINISHED`` (a str), and a config TypedDict is a dict at run time.
    def suggest(self, trial_id: str) -> TrialConfig | str | None:  # type: ignore[override]
        """The next trial's config, or ``Searcher.FINISHED`` when the study has nothing more to hand out."""
        waiting = self.study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
        trial: optuna.Trial | None = None
        if waiting:
            trial = self.study.ask(fixed_distributions=self.space)
        elif self.suggest_new is not None:
            trial = self.suggest_new(self.study)
        if trial is None:
            return Searcher.FINISHED
        self.live[trial_id] = (storage_id(trial), time.monotonic())
        self.progress.running = len(self.live)
        self.on_change(self.progress)
        return self.config_for(trial)

    def on_trial_result(self, trial_id: str, result: Mapping[str, Any]) -> None:
        if trial_id not in self.live or "val_acc" not in result or PROXY_RESULT in result:
            return
        value = result["val_acc"]
        if isinstance(value, int | float) and math.isfinite(value):
            report_value(self.study, self.live[trial_id][0], int(result["epoch"]), value)

    def on_trial_complete(self, trial_id: str, result: Mapping[str, Any] | None = None, error: bool = False
                          ) -> None:
        if trial_id not in self.live:
            return
        optuna_id, started = self.live.pop(trial_id)
        number = trial_number(self.study, optuna_id)
        outcome = _outcome(result, error, self.crashes.pop(trial_id, None))
        recorded: Mapping[str, object] = outcome
        for key in RESULT_ATTRS:
            if key in recorded:
                set_user_attr(self.study, optuna_id, key, recorded[key])
        if outcome.get("val_correct"):
            set_system_attr(self.study, optuna_id, VAL_CORRECT, outcome["val_correct"])
        if outcome.get("test_correct"):
            set_system_attr(self.study, optuna_id, TEST_CORRECT, outcome["test_correct"])
        status = outcome["status"]
        if status == "ok":
            self.study.tell(number, outcome["val_acc"])
        elif status == "early-stopped":
            self.study.tell(number, state=TrialState.PRUNED)
        else:
            self.study.tell(number, state=TrialState.FAIL)
        self._count(optuna_id, status, outcome, time.monotonic() - started)

    def _count(self, optuna_id: int, status: str, outcome: TrialOutcome, duration: float) -> None:
        progress = self.progress
        progress.running = len(self.live)
        progress.durations.append(duration)
        trial = get_trial(self.study, optuna_id)
        name = trial.user_attrs.get("key", f"trial {trial.number}")
        if status in ("ok", "early-stopped"):
            progress.done += 1
            value = outcome.get("val_acc")
            if status == "ok" and value is not None and (progress.best is None or value > progress.best[0]):
                progress.best = (value, name)
        else:
            progress.failed += 1
            progress.failures.append(f"{name}: {status} ({outcome.get('reason')})")
        self.on_change(progress)


class RetryRecorder(Callback):
    """Remembers why a trial's worker died, so the FAIL that follows the last retry says why."""

    def __init__(self, searcher: StudySearcher) -> None:
        self.searcher = searcher

    def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        error = trial.get_error()
        lines = str(error).strip().splitlines() if error else []
        self.searcher.crashes[trial.trial_id] = (self.searcher.crashes.get(trial.trial_id, (0, ""))[0] + 1,
                                                 lines[-1] if lines else "the worker died")


def _outcome(result: Mapping[str, Any] | None, error: bool, crash: tuple[int, str] | None) -> TrialOutcome:
    """What happened to a trial, from Tune's last result."""
    if error or result is None:
        retries, last_error = crash or (0, "")
        detail = f": {last_error}" if last_error else ""
        return {"status": "failed", "reason": f"the worker process died ({retries} retries){detail}"}
    if PROXY_RESULT in result:
        outcome = cast(TrialOutcome, json.loads(result[PROXY_RESULT]))
        if outcome.get("status") == "ok" and outcome.get("val_acc") is None:
            outcome["status"] = "failed"
            outcome["reason"] = "finished without a validation accuracy"
        return outcome
    # Stopped by the scheduler after an epoch report: the last measured accuracy stands.
    return {"status": "early-stopped", "reason": "stopped early by ASHA", "val_acc": result.get("val_acc"),
            "epochs": result.get("epoch")}

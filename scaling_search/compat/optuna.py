"""Optuna's private and experimental APIs this package relies on, each behind one small function.

The search's driver records a trial by its storage id while Ray Tune runs it (the Optuna
``Trial`` object stays in the driver, the result arrives later by id), puts the RUNNING trials of
a dead driver back in the queue, and names the study's objective. Optuna offers no public call
for these; ``tests/compat/test_compat_optuna.py`` checks each one against the installed Optuna, so an
upstream change fails there with a clear message rather than deep inside a search.
"""

from __future__ import annotations

import warnings
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState


def storage_id(trial: optuna.Trial | FrozenTrial) -> int:
    """The storage's id of ``trial`` (unique across studies; the trial *number* is unique within one)."""
    return trial._trial_id


def trial_number(study: optuna.Study, trial_id: int) -> int:
    """The number of the trial stored under ``trial_id``."""
    return study._storage.get_trial_number_from_id(trial_id)


def get_trial(study: optuna.Study, trial_id: int) -> FrozenTrial:
    """The trial stored under ``trial_id``, as it is now."""
    return study._storage.get_trial(trial_id)


def report_value(study: optuna.Study, trial_id: int, step: int, value: float) -> None:
    """Record ``value`` at ``step`` for a RUNNING trial (what ``Trial.report`` does, by id)."""
    study._storage.set_trial_intermediate_value(trial_id, step, value)


def set_user_attr(study: optuna.Study, trial_id: int, key: str, value: Any) -> None:
    """Set a user attribute of a RUNNING trial (what ``Trial.set_user_attr`` does, by id)."""
    study._storage.set_trial_user_attr(trial_id, key, value)


def set_system_attr(study: optuna.Study, trial_id: int, key: str, value: Any) -> None:
    """Set a system attribute of a RUNNING trial: kept in the study like a user attribute, but not shown by
    optuna-dashboard (for bulky records, such as which validation images a trial got right)."""
    study._storage.set_trial_system_attr(trial_id, key, value)


def requeue(study: optuna.Study, trial_id: int) -> None:
    """Put a RUNNING trial back to WAITING; it keeps its number, parameters and attributes.

    The next ``study.ask()`` hands it out again, so a re-run lands in the same trial.
    """
    study._storage.set_trial_state_values(trial_id, TrialState.WAITING)


def set_metric_name(study: optuna.Study, name: str) -> None:
    """Name the study's single objective (optuna-dashboard shows it instead of "Objective 0")."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names([name])

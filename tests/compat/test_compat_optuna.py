"""Each Optuna private or experimental API behind ``scaling_search.compat.optuna``, on a real study.

A failure here means the installed Optuna changed something the search's driver relies on:
update ``scaling_search/compat/optuna.py`` (and only it) for the new behaviour.
"""

from __future__ import annotations

import warnings

import optuna
import pytest
from optuna.trial import TrialState

from scaling_search.compat import optuna as compat

UPSTREAM = f"Optuna {optuna.__version__} changed behaviour scaling_search.compat.optuna relies on"


@pytest.fixture(params=["sqlite", "memory"])
def study(request, tmp_path):
    storage = f"sqlite:///{tmp_path / 'compat.db'}" if request.param == "sqlite" else None
    return optuna.create_study(study_name="compat", storage=storage, direction="maximize")


def running_trial(study: optuna.Study) -> tuple[optuna.Trial, int]:
    trial = study.ask()
    trial.suggest_float("alpha", 1.0, 2.0)
    return trial, compat.storage_id(trial)


def test_storage_id_and_trial_number(study):
    _, first_id = running_trial(study)
    second, second_id = running_trial(study)
    assert isinstance(first_id, int) and first_id != second_id, f"{UPSTREAM}: Trial has no distinct storage id"
    assert compat.trial_number(study, second_id) == second.number == 1, f"{UPSTREAM}: trial number by id"
    frozen = study.get_trials(deepcopy=False)[1]
    assert compat.storage_id(frozen) == second_id, f"{UPSTREAM}: FrozenTrial and Trial ids differ"


def test_get_trial_report_value_and_user_attr_by_id(study):
    trial, trial_id = running_trial(study)
    compat.report_value(study, trial_id, 1, 0.25)
    compat.report_value(study, trial_id, 2, 0.5)
    compat.set_user_attr(study, trial_id, "status", "ok")
    compat.set_system_attr(study, trial_id, "val_correct", "3:oA==")
    stored = compat.get_trial(study, trial_id)
    assert stored.number == trial.number and stored.state == TrialState.RUNNING, f"{UPSTREAM}: get_trial by id"
    assert stored.intermediate_values == {1: 0.25, 2: 0.5}, f"{UPSTREAM}: intermediate values by id"
    assert stored.user_attrs == {"status": "ok"}, f"{UPSTREAM}: user attributes by id"
    assert stored.system_attrs.get("val_correct") == "3:oA==", f"{UPSTREAM}: system attributes by id"
    study.tell(trial.number, 0.5)  # a trial recorded by id is still told by number
    assert study.get_trials()[0].state == TrialState.COMPLETE


def test_requeue_puts_a_running_trial_back_with_its_number_and_params(study):
    study.enqueue_trial({"alpha": 1.5}, user_attrs={"key": "k"})
    trial = study.ask()
    trial.suggest_float("alpha", 1.0, 2.0)
    assert trial.number == 0 and trial.params == {"alpha": 1.5}
    compat.requeue(study, compat.storage_id(trial))
    waiting = study.get_trials(states=(TrialState.WAITING,))
    assert [t.number for t in waiting] == [0], f"{UPSTREAM}: a requeued RUNNING trial is not WAITING"
    again = study.ask()
    assert again.number == 0, f"{UPSTREAM}: ask() does not hand out the requeued trial"
    assert again.suggest_float("alpha", 1.0, 2.0) == 1.5 and again.user_attrs == {"key": "k"}, \
        f"{UPSTREAM}: the requeued trial lost its parameters or attributes"
    assert len(study.get_trials()) == 1


def test_set_metric_name_is_quiet_and_stored(study):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the experimental-API warning is silenced
        compat.set_metric_name(study, "val_acc")
    assert study.metric_names == ["val_acc"], f"{UPSTREAM}: metric names are not stored"

"""The study's bookkeeping without Ray: the plan as WAITING trials, requeue, counts (TPE suggestions: test_tpe.py).

Optuna studies on a temporary SQLite file, candidates measured with the closed-form counter: seconds in all.
"""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from scaling_search.counting.analytic import analytic_counts
from scaling_search.search.enqueue import NATIVE_RESOLUTION, candidate_attrs, distributions, enqueue_plan
from scaling_search.search.search_plan import plan_grid
from scaling_search.study.definition import StudyDefinition
from scaling_search.study.sizing import resolve_for_device
from scaling_search.study.storage import OBJECTIVE, counts, create_study, open_storage, quiet_optuna, requeue_orphans


@pytest.fixture
def planned(tmp_path):
    """A resolved grid study's definition, its plan and a new study in a temporary SQLite file."""
    definition = resolve_for_device(StudyDefinition(study="book", studies_dir=str(tmp_path), seeds=2, step=0.1,
                                                    constraint="nominal", base_resolution=16), gpus=0)
    plan = plan_grid(definition, 4, analytic_counts)
    with quiet_optuna():
        study = create_study(open_storage(definition.storage_url()), definition)
    study.set_user_attr(NATIVE_RESOLUTION, 16)  # as run_study stores its dataset's
    return definition, plan, study


def test_a_new_study_names_its_objective_and_keeps_its_definition(planned):
    definition, _, study = planned
    assert study.metric_names == [OBJECTIVE] == ["val_acc"]
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert study.user_attrs["definition"] == definition.to_dict()


def test_the_plan_is_enqueued_once_as_waiting_trials_with_their_attributes(planned):
    _, plan, study = planned
    assert len(plan) == 2 * 4  # 3 spread candidates and the paper's point, 2 seeds each
    enqueue_plan(study, plan)
    enqueue_plan(study, plan)  # again, as a resumed driver would: nothing is added twice
    trials = study.get_trials()
    assert len(trials) == len(plan) and all(t.state == TrialState.WAITING for t in trials)
    for trial, planned_trial in zip(trials, plan, strict=True):
        assert trial.user_attrs == candidate_attrs(planned_trial, 16)
        assert trial.user_attrs["upsample"] == planned_trial.candidate.resolution / 16
        alpha, beta, gamma = planned_trial.candidate.coefficients
        assert trial.system_attrs["fixed_params"] == {"alpha": alpha, "beta": beta, "gamma": gamma,
                                                      "seed": planned_trial.seed}
    assert counts(trials) == {"running": 0, "waiting": 8, "complete": 0, "pruned": 0, "fail": 0}


def test_requeue_orphans_puts_running_trials_back_keeping_their_numbers(planned):
    definition, plan, study = planned
    enqueue_plan(study, plan)
    space = distributions(definition, plan)
    with quiet_optuna():
        done, orphan, failed = (study.ask(fixed_distributions=space) for _ in range(3))
        study.tell(done, 0.5)
        study.tell(failed, state=TrialState.FAIL)
    assert counts(study.get_trials()) == {"running": 1, "waiting": 5, "complete": 1, "pruned": 0, "fail": 1}
    key = study.get_trials()[orphan.number].user_attrs["key"]
    assert requeue_orphans(study) == 1
    after = study.get_trials()
    assert counts(after) == {"running": 0, "waiting": 6, "complete": 1, "pruned": 0, "fail": 1}
    assert after[orphan.number].state == TrialState.WAITING and after[orphan.number].user_attrs["key"] == key
    assert requeue_orphans(study) == 0
    again = study.ask(fixed_distributions=space)  # the orphan is handed out first, into the same trial
    assert again.number == orphan.number and len(study.get_trials()) == len(plan)


def test_quiet_optuna_restores_the_previous_level():
    before = optuna.logging.get_verbosity()
    try:
        optuna.logging.set_verbosity(optuna.logging.DEBUG)
        with quiet_optuna():
            assert optuna.logging.get_verbosity() == optuna.logging.WARNING
        assert optuna.logging.get_verbosity() == optuna.logging.DEBUG
        with pytest.raises(RuntimeError), quiet_optuna():
            raise RuntimeError("a failing block restores it too")
        assert optuna.logging.get_verbosity() == optuna.logging.DEBUG
    finally:
        optuna.logging.set_verbosity(before)

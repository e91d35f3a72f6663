"""The study session both drivers work in: a search and its validation driven through it, and its one-line refusals."""

from __future__ import annotations

import contextlib

import optuna
import pytest

from scaling_search.errors import InputError
from scaling_search.execution import session as session_module
from scaling_search.execution.session import StudySession, study_classes, study_definition, study_session
from scaling_search.reporting.study_load import load_report_study
from scaling_search.search import search_driver
from scaling_search.search.search_driver import run_study
from scaling_search.study.claims import driver_lock
from scaling_search.study.definition import ResolvedDefinition
from scaling_search.study.storage import open_storage
from scaling_search.validation import validation_driver
from scaling_search.validation.options import ValidationOptions, validation_study_name
from scaling_search.validation.validation_driver import validate_study
from tests.search_helpers import fake_trainable, tiny_definition


def recorded_sessions(monkeypatch) -> list[dict]:
    """Record, for each session a driver opens, the study it holds, whether its lock was held and what it did."""
    sessions: list[dict] = []
    opened = session_module.study_session

    @contextlib.contextmanager
    def recording(url, name, **options):
        with opened(url, name, **options) as session:
            record = {"name": name, "calls": []}
            sessions.append(record)
            try:
                with driver_lock(url, name):
                    record["locked"] = False
            except InputError:
                record["locked"] = True
            yield session

    for method in ("find", "made_study", "connect", "load_data", "requeue_orphans"):
        original = getattr(StudySession, method)

        def spy(self, *args, _original=original, _method=method):
            result = _original(self, *args)
            sessions[-1]["calls"].append((_method, result))
            return result

        monkeypatch.setattr(StudySession, method, spy)
    monkeypatch.setattr(search_driver, "study_session", recording)
    monkeypatch.setattr(validation_driver, "study_session", recording)
    return sessions


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_search_and_its_validation_run_in_a_study_session(tmp_path, callers_ray, monkeypatch):
    sessions = recorded_sessions(monkeypatch)
    definition = tiny_definition(tmp_path, study="both")
    lines: list[str] = []
    outcome = run_study(definition, trainable=fake_trainable(), log=lines.append)
    assert outcome.trained and outcome.counts["complete"] == 4

    search = sessions[0]
    assert search["name"] == "both" and search["locked"]
    names = [name for name, _ in search["calls"]]
    assert names == ["find", "connect", "load_data"]  # a new study: not found, so created after the data loaded
    assert search["calls"][0][1] is None and isinstance(search["calls"][1][1], ResolvedDefinition)
    assert search["calls"][2][1].num_classes == 4 and "loading " + definition.dataset + " …" in lines

    checked = validate_study("both", ValidationOptions(top=2, seeds=1, phis=(2.0,)), studies_dir=definition.studies_dir,
                             trainable=fake_trainable(), log=lines.append)
    assert checked.trained and checked.counts["complete"] > 0
    validation = sessions[1]
    assert validation["name"] == validation_study_name("both") and validation["locked"]
    names = [name for name, _ in validation["calls"]]
    assert names[:2] == ["made_study", "find"] and names[2:] == ["connect", "load_data", "requeue_orphans"]
    study, made = validation["calls"][0][1]
    assert study.study_name == "both" and made == study_definition(study) and study_classes(study) == 4

    again = run_study(definition, trainable=fake_trainable())  # finished: found, nothing loaded or trained
    assert not again.trained and [name for name, _ in sessions[2]["calls"]] == ["find"]


def test_a_study_not_made_by_run_is_refused_in_one_line_by_every_reader(tmp_path):
    definition = tiny_definition(tmp_path, study="foreign")
    url = definition.storage_url()
    optuna.create_study(study_name="foreign", storage=open_storage(url))  # no saved definition
    refusals = []
    for attempt in (lambda: run_study(definition),
                    lambda: validate_study("foreign", studies_dir=definition.studies_dir),
                    lambda: load_report_study(url, "foreign")):
        with pytest.raises(InputError) as refused:
            attempt()
        refusals.append(str(refused.value))
    assert len(set(refusals)) == 1
    assert "not made by scaling-search run" in refusals[0] and len(refusals[0].splitlines()) == 1


def test_the_session_refuses_a_second_driver_and_a_resume_of_nothing(tmp_path):
    url = tiny_definition(tmp_path).storage_url()
    open_storage(url)  # an empty database: a session without a definition to create opens only what exists
    with study_session(url, "s", resume=True, creating=None) as session:
        assert session.find("s") is None
        with pytest.raises(InputError, match="is being run by another scaling-search process"), \
                study_session(url, "s"):
            pass
        with pytest.raises(InputError, match=r"^'db' has no study 's' to resume; start it without --resume$"):
            session.check_resume("study 's'", "'db'", found=False)
        session.check_resume("study 's'", "'db'", found=True, left="3 unfinished trials")  # --resume goes on
    with study_session(url, "s") as fresh:
        with pytest.raises(InputError, match=r"^study 's' in 'db' has 3 unfinished trials; continue it with --resume$"):
            fresh.check_resume("study 's'", "'db'", found=True, left="3 unfinished trials")
        fresh.check_resume("study 's'", "'db'", found=False)  # a new one starts

"""The driver's plumbing without training: imports, Ray's one start and stop, Tune's environment, study locations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scaling_search.errors import InputError
from scaling_search.study.location import sqlite_path, study_storage_url
from tests.search_helpers import cli_env


def test_importing_the_driver_does_not_import_ray(tmp_path):
    probe = ("import sys; import scaling_search.search.search_driver, scaling_search.cli.run, "
             "scaling_search.reporting.api; "
             "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                         env=cli_env(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


class FakeRay:
    def __init__(self):
        self.shutdowns = 0

    def shutdown(self):
        self.shutdowns += 1


def test_a_session_connects_on_first_use_and_shuts_down_once(monkeypatch):
    from scaling_search.execution import cluster

    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)

    fake = FakeRay()
    started = []

    def start_ray(address, temp_dir):
        started.append((address, temp_dir))
        os.environ["RAY_AUTH_MODE"] = "token"  # what ray.init leaves behind
        return fake

    monkeypatch.setattr("ray.is_initialized", lambda: False)
    monkeypatch.setattr(cluster, "start_ray", start_ray)
    with cluster.ray_session(None, "/tmp/ssray-x") as session:
        assert started == []  # nothing started until it is needed
        assert session.connect() is fake and session.connect() is fake
    assert started == [(None, "/tmp/ssray-x")] and fake.shutdowns == 1
    assert "RAY_AUTH_MODE" not in os.environ  # the environment is as it was before Ray started
    with cluster.ray_session("10.0.0.1:6379"):
        pass  # never connected: nothing to stop
    assert len(started) == 1 and fake.shutdowns == 1
    with pytest.raises(RuntimeError), cluster.ray_session("10.0.0.1:6379") as session:
        session.connect()
        raise RuntimeError("a failed run still shuts down the Ray it started")
    assert started[-1] == ("10.0.0.1:6379", None) and fake.shutdowns == 2


def test_a_session_uses_the_callers_ray_and_leaves_it_running(monkeypatch):
    import ray

    from scaling_search.execution import cluster

    monkeypatch.setattr("ray.is_initialized", lambda: True)
    monkeypatch.setattr("ray.shutdown", lambda: pytest.fail("the caller's Ray was shut down"))
    monkeypatch.setattr(cluster, "start_ray", lambda *args: pytest.fail("a second Ray was started"))
    with cluster.ray_session(None) as session:
        assert session.connect() is ray


def test_tune_environment_is_set_for_the_block_only(monkeypatch):
    from scaling_search.search.tuning import TUNE_ENVIRONMENT, temporary_environment

    monkeypatch.delenv("TUNE_DISABLE_STRICT_METRIC_CHECKING", raising=False)
    monkeypatch.setenv("RAY_AIR_NEW_OUTPUT", "1")  # the user's own setting wins, and stays
    before = dict(os.environ)
    with temporary_environment(TUNE_ENVIRONMENT):
        assert os.environ["TUNE_DISABLE_STRICT_METRIC_CHECKING"] == "1"
        assert os.environ["RAY_AIR_NEW_OUTPUT"] == "1"
    assert dict(os.environ) == before
    with pytest.raises(KeyboardInterrupt), temporary_environment(TUNE_ENVIRONMENT):
        raise KeyboardInterrupt
    assert dict(os.environ) == before


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///studies/a.db", Path("studies/a.db")),
        ("sqlite:////srv/studies/a.db", Path("/srv/studies/a.db")),
        ("sqlite:///studies/a.db?timeout=30", Path("studies/a.db")),
        ("sqlite+pysqlite:///a.db", Path("a.db")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("postgresql://me:secret@db/optuna", None),
        ("mysql+pymysql://db/optuna", None),
        ("not a url", None),
    ],
)
def test_sqlite_path(url, path):
    assert sqlite_path(url) == path


def test_study_storage_url(tmp_path):
    assert study_storage_url("s", studies_dir=tmp_path) == f"sqlite:///{tmp_path / 's.db'}"
    assert study_storage_url("s", storage="postgresql://db/optuna", must_exist=True) == "postgresql://db/optuna"
    with pytest.raises(InputError, match=r"no study 's': no study file .*s\.db"):
        study_storage_url("s", studies_dir=tmp_path, must_exist=True)
    with pytest.raises(InputError, match="study name"):
        study_storage_url("../s", studies_dir=tmp_path)


def test_a_database_whose_tables_another_process_is_creating_opens_after_it(tmp_path, monkeypatch):
    """What a driver meets when a reader (a dashboard) opens its new study file at the same moment."""
    import optuna
    from sqlalchemy.exc import OperationalError

    from scaling_search.study.storage import open_storage

    real = optuna.storages.RDBStorage
    calls = []

    def racing(url, **kwargs):
        calls.append(url)
        if len(calls) == 1:
            real(url, **kwargs)  # the other process's tables, made just now
            raise OperationalError("CREATE TABLE studies", {}, Exception("table studies already exists"))
        return real(url, **kwargs)

    monkeypatch.setattr(optuna.storages, "RDBStorage", racing)
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert open_storage(url) is not None and len(calls) == 2

"""A real PostgreSQL server as shared storage: studies run against it, share it, and are read back.

`.ci/run` starts a throw-away server on 127.0.0.1 and exports SCALING_SEARCH_TEST_POSTGRES.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
import uuid

import optuna
import pytest

from scaling_search.cli import main
from scaling_search.search.search_driver import run_study
from tests.search_helpers import cli, cli_env, fake_trainable, free_port, stop_group, tiny_definition, wait_for

URL = os.environ.get("SCALING_SEARCH_TEST_POSTGRES")
if not URL and os.environ.get("CI"):
    raise RuntimeError("CI must provide SCALING_SEARCH_TEST_POSTGRES (see .ci/postgres.sh)")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600),
              pytest.mark.skipif(not URL, reason="no PostgreSQL: run `eval \"$(bash .ci/postgres.sh start)\"` first")]


def test_two_studies_share_postgres_and_are_read_back(tmp_path, callers_ray, capsys):
    """Both studies run on one Ray of the test's, and their trials do not train (fake_trainable): what is tested
    is where the studies are kept and that they are read back from there."""
    prefix = uuid.uuid4().hex[:8]
    names = [f"pg-{prefix}-a", f"pg-{prefix}-b"]
    for name in names:
        definition = tiny_definition(tmp_path, study=name, storage=URL, max_candidates=1)
        outcome = run_study(definition, trainable=fake_trainable())
        assert outcome.counts["complete"] == 2
    assert not list((tmp_path / "studies").glob("*.db"))  # nothing went to SQLite
    summaries = {s.study_name: s for s in optuna.get_all_study_summaries(URL)}
    assert set(names) <= set(summaries)
    for name in names:
        assert summaries[name].n_trials == 2

    assert main(["report", names[0], "--storage", URL, "--out", str(tmp_path / "report")]) == 0
    assert "## The α/β/γ table" in (tmp_path / "report" / "index.md").read_text()

    port = free_port()
    server = subprocess.Popen(cli("dashboard", "--storage", URL, "--port", str(port)), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=cli_env(tmp_path), start_new_session=True)
    try:
        def lists_both():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=3) as response:
                    listed = {s["study_name"] for s in json.loads(response.read())["study_summaries"]}
                    return set(names) <= listed
            except (OSError, ValueError, KeyError):
                return False

        assert wait_for(lists_both, timeout=60)
    finally:
        stop_group(server)


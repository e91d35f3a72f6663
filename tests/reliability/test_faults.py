"""Faults a long search meets: dying workers, a killed driver, a lost node, a full disk, a corrupt database."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from optuna.trial import TrialState

from scaling_search.cli import main
from scaling_search.search.search_driver import run_study
from tests.search_helpers import (
    cli_env,
    driver_argv,
    fake_trainable,
    load,
    read_attempts,
    resume_argv,
    run_argv,
    short_temp_dir,
    stop_group,
    tiny_definition,
    two_node_cluster,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def test_worker_killed_is_retried_then_failed(tmp_path, ray_dir):
    """Trial 1's worker dies every time (FAIL after the retry); trial 2's dies once (retried, then COMPLETE).

    What a worker does when it lives is not the point here, so it does not train (fake_trainable).
    """
    marker = tmp_path / "died-once"
    lives = fake_trainable()

    def dying(config, data, settings):
        if config["number"] == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        if config["number"] == 2 and not marker.exists():
            marker.write_text("x")
            os.kill(os.getpid(), signal.SIGKILL)
        lives(config, data, settings)

    definition = tiny_definition(tmp_path, study="dying", max_failures=1)
    outcome = run_study(definition, ray_temp_dir=ray_dir, trainable=dying)
    trials = {t.number: t for t in load(definition).get_trials()}
    assert trials[1].state == TrialState.FAIL
    assert "worker process died (1 retries)" in trials[1].user_attrs["reason"]
    assert trials[2].state == TrialState.COMPLETE and marker.exists()
    assert sum(t.state == TrialState.COMPLETE for t in trials.values()) == len(trials) - 1
    assert outcome.counts["fail"] == 1 and outcome.counts["running"] == outcome.counts["waiting"] == 0


def test_driver_killed_at_any_moment_resumes_exactly(tmp_path, ray_dir):
    """One study's driver is SIGKILLed at each moment in turn (before its first trial ends, mid-way, during the
    export), and resumed each time: no finished trial is lost, re-run or duplicated, and the files come out whole.

    The moments follow one another in one study, so its 8 trials are trained about once in all rather than
    once per moment; a fresh driver killed mid-way is tests/search/test_search.py::test_resume_after_sigkill.
    """
    definition = tiny_definition(tmp_path, study="killed", seeds=2, max_concurrent=1)
    env = cli_env(tmp_path)

    def completed() -> int:
        try:
            return len(load(definition).get_trials(states=(TrialState.COMPLETE,)))
        except Exception:
            return -1

    def running() -> bool:
        try:
            return bool(load(definition).get_trials(states=(TrialState.RUNNING,)))
        except Exception:
            return False

    done_before: dict[int, float] = {}
    moments = [
        ("before-first-trial-ends", run_argv(definition, "--ray-temp-dir", ray_dir), running, 240, 0.5),
        ("mid-way", resume_argv(definition, "--max-concurrent", "1", "--ray-temp-dir", ray_dir),
         lambda: completed() >= 4, 400, 0.5),
        ("during-export", resume_argv(definition, "--ray-temp-dir", ray_dir), lambda: completed() == 8, 600, 0.05),
    ]
    for moment, argv, reached, timeout, interval in moments:
        driver = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                  start_new_session=True)
        try:
            wait_for(lambda reached=reached, driver=driver: reached() or driver.poll() is not None,
                     timeout=timeout, interval=interval)  # a driver that exits early fails at once, not at timeout
            assert reached(), f"{moment} was never reached (the driver's exit code: {driver.poll()})"
            if moment == "before-first-trial-ends":
                assert completed() == 0
            driver.send_signal(signal.SIGKILL)
            driver.wait(30)
        finally:
            stop_group(driver)
        trials = load(definition).get_trials()
        assert len(trials) == 8 and len({t.user_attrs["key"] for t in trials}) == 8, moment
        assert all(trials[n].state == TrialState.COMPLETE and trials[n].value == v
                   for n, v in done_before.items()), moment
        done_before = {t.number: t.value for t in trials if t.state == TrialState.COMPLETE}
    proc = subprocess.run(resume_argv(definition, "--ray-temp-dir", ray_dir), capture_output=True, text=True,
                          timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    trials = load(definition).get_trials()
    assert len(trials) == 8 and all(t.state == TrialState.COMPLETE for t in trials)
    assert len({t.user_attrs["key"] for t in trials}) == 8
    assert all(trials[n].value == v for n, v in done_before.items())
    folder = Path(definition.studies_dir) / definition.study
    assert (folder / "best.json").exists() and len((folder / "results.csv").read_text().splitlines()) == 9
    assert not list(folder.glob(".export-*"))


def test_lost_node_trials_are_rescheduled(tmp_path, ray_dir):
    """The second node of a two-node cluster is stopped while a trial runs on it: that trial runs again on the head,
    and every trial completes there.

    The trials do not train (fake_trainable): each holds its slot until the node has been stopped, so the node
    is lost while both nodes' trials run, whatever the host's speed.
    """
    attempts, released = tmp_path / "attempts.jsonl", tmp_path / "node-stopped"
    with two_node_cluster(tmp_path, ray_dir) as (address, env, worker):
        definition = tiny_definition(tmp_path, study="lost", address=address, max_failures=2, max_concurrent=2)
        trainable = f"fake_trainable(attempts=Path({str(attempts)!r}), hold_until=Path({str(released)!r}).exists)"
        said = tmp_path / "driver.log"  # a file, not a pipe: nothing reads a pipe while the test waits
        with open(said, "w") as out:
            driver = subprocess.Popen(driver_argv(definition, trainable), stdout=out, stderr=subprocess.STDOUT,
                                      env=env, start_new_session=True)

        def nodes_training() -> set[str]:
            return {a["node"] for a in read_attempts(attempts) if a["event"] == "start"}

        try:
            if not wait_for(lambda: len(nodes_training()) >= 2, timeout=420):  # Ray starts slowly on a busy host
                stop_group(driver)
                pytest.fail(f"trials never ran on both nodes; the driver said: {said.read_text()[-2000:]}")
            before_stop = read_attempts(attempts)
            stop_group(worker, grace=20)
            released.touch()
            driver.wait(600)
        finally:
            stop_group(driver)
    assert driver.returncode == 0, said.read_text()[-2000:]
    trials = load(definition).get_trials()
    assert len(trials) == 4 and all(t.state == TrialState.COMPLETE for t in trials), \
        [(t.number, t.state, t.user_attrs.get("reason")) for t in trials]
    started_after = [a for a in read_attempts(attempts)[len(before_stop):] if a["event"] == "start"]
    head = {a["node"] for a in started_after}
    assert len(head) == 1, started_after  # after the stop, only the head trains
    lost = {a["number"] for a in before_stop if a["event"] == "start" and a["node"] not in head}
    assert lost, before_stop  # a trial was on the stopped node …
    assert lost <= {a["number"] for a in started_after}  # … and ran again on the head
    assert {t.user_attrs["node_id"] for t in trials} == head


@pytest.fixture(scope="module")
def finished_study(tmp_path_factory, cache_dir):
    """The studies folder of one small finished study, made once by run_study; tests change copies of it.

    Its trials do not train (fake_trainable): these tests are about the files and database a run leaves.
    """
    root = tmp_path_factory.mktemp("finished")
    definition = tiny_definition(root, study="done", max_candidates=1)
    with pytest.MonkeyPatch.context() as patch, short_temp_dir() as ray_dir:
        patch.setenv("SCALING_SEARCH_CACHE", cache_dir)
        outcome = run_study(definition, ray_temp_dir=ray_dir, trainable=fake_trainable())
    assert outcome.counts["complete"] == 2 and outcome.best is not None
    return Path(definition.studies_dir)


def copy_of(finished_study: Path, tmp_path: Path) -> str:
    """A copy of the finished study's folder for one test; its studies_dir."""
    return str(shutil.copytree(finished_study, tmp_path / "studies"))


def test_export_to_unwritable_folder_is_clear_and_leaves_no_partial_files(tmp_path, finished_study, capsys,
                                                                           monkeypatch):
    studies_dir = copy_of(finished_study, tmp_path)
    folder = Path(studies_dir) / "done"
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}

    real_replace = os.replace
    calls = {"n": 0}

    def disk_full(source, target):
        calls["n"] += 1
        if calls["n"] == 2:  # after the first file has moved: the worst moment
            raise OSError(28, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr("scaling_search.support.publish.os.replace", disk_full)
    capsys.readouterr()
    code = main(["run", "--resume", "--study", "done", "--studies-dir", studies_dir])
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if "error:" in line]
    assert code == 2 and errors == err[-1:] and "No space left" in err[-1] and "export" in err[-1]
    assert "Traceback" not in "\n".join(err)
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert set(after) == set(before)
    assert not list(folder.glob(".export-*"))


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_database_names_the_file(tmp_path, finished_study, capsys, damage):
    studies_dir = copy_of(finished_study, tmp_path)
    path = Path(studies_dir) / "done.db"
    data = path.read_bytes()
    path.write_bytes(b"\x00garbage" * 100 if damage == "garbage" else data[: len(data) // 3])
    capsys.readouterr()
    for argv in (["run", "--resume", "--study", "done", "--studies-dir", studies_dir],
                 ["report", "done", "--studies-dir", studies_dir, "--out", str(tmp_path / "r")]):
        code = main(argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and str(path) in err[0], err
    assert not (tmp_path / "r").exists()

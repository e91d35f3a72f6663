"""Faults a long search meets: dying workers, a killed driver, a lost node, a full disk, a corrupt database."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from optuna.trial import TrialState

from scaling_search.cli import main
from scaling_search.search.runner import run_study
from tests.search_helpers import cli, cli_env, load, stop_group, tiny_definition, two_node_cluster, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def test_worker_killed_is_retried_then_failed(tmp_path, ray_dir):
    """Trial 1's worker dies every time (FAIL after the retry); trial 2's dies once (retried, then COMPLETE)."""
    marker = tmp_path / "died-once"

    def dying(config, data, settings):
        from scaling_search.search.trainable import run_trial

        if config["number"] == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        if config["number"] == 2 and not marker.exists():
            marker.write_text("x")
            os.kill(os.getpid(), signal.SIGKILL)
        run_trial(config, data, settings)

    definition = tiny_definition(tmp_path, study="dying", max_failures=1)
    outcome = run_study(definition, ray_temp_dir=ray_dir, trainable=dying)
    trials = {t.number: t for t in load(definition).get_trials()}
    assert trials[1].state == TrialState.FAIL
    assert "worker process died (1 retries)" in trials[1].user_attrs["reason"]
    assert trials[2].state == TrialState.COMPLETE and marker.exists()
    assert sum(t.state == TrialState.COMPLETE for t in trials.values()) == len(trials) - 1
    assert outcome.counts["fail"] == 1 and outcome.counts["running"] == outcome.counts["waiting"] == 0


def driver_argv(definition, ray_dir: str) -> list[str]:
    return cli("run", "--study", definition.study, "--studies-dir", definition.studies_dir, "--dataset",
               definition.dataset, "--base-resolution", "16", "--epochs", "1", "--batch-size", "32",
               "--max-candidates", "3", "--step", "0.1", "--constraint", "nominal", "--seeds", "2", "--device", "cpu",
               "--max-concurrent", "1", "--ray-temp-dir", ray_dir)


@pytest.mark.parametrize("moment", ["before-first-trial-ends", "mid-way", "during-export"])
def test_driver_killed_at_any_moment_resumes_exactly(tmp_path, ray_dir, moment):
    definition = tiny_definition(tmp_path, study=f"kill-{moment}", seeds=2, max_concurrent=1)
    driver = subprocess.Popen(driver_argv(definition, ray_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=cli_env(tmp_path), start_new_session=True)

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

    try:
        if moment == "before-first-trial-ends":
            assert wait_for(running, timeout=240)
            assert completed() == 0
        elif moment == "mid-way":
            assert wait_for(lambda: completed() >= 4, timeout=400)
        else:
            assert wait_for(lambda: completed() == 8, timeout=600, interval=0.05)
        driver.send_signal(signal.SIGKILL)
        driver.wait(30)
    finally:
        stop_group(driver)
    done_before = {t.number: t.value for t in load(definition).get_trials(states=(TrialState.COMPLETE,))}
    proc = subprocess.run(cli("run", "--resume", "--study", definition.study, "--studies-dir",
                              definition.studies_dir, "--ray-temp-dir", ray_dir),
                          capture_output=True, text=True, timeout=600, env=cli_env(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    trials = load(definition).get_trials()
    assert len(trials) == 8 and all(t.state == TrialState.COMPLETE for t in trials)
    assert len({t.user_attrs["key"] for t in trials}) == 8
    assert all(trials[n].value == v for n, v in done_before.items())
    folder = Path(definition.studies_dir) / definition.study
    assert (folder / "best.json").exists() and len((folder / "results.csv").read_text().splitlines()) == 9
    assert not list(folder.glob(".export-*"))


def test_lost_node_trials_are_rescheduled(tmp_path, ray_dir):
    """The second node of a two-node cluster is stopped while it trains: its trials finish on the head."""
    definition = tiny_definition(tmp_path, study="lost", dataset="synthetic:classes=4,train=1200,test=60")
    with two_node_cluster(tmp_path, ray_dir) as (address, env, worker):
        driver = subprocess.Popen(
            cli("run", "--address", address, "--study", "lost", "--studies-dir", definition.studies_dir, "--dataset",
                definition.dataset, "--base-resolution", "16", "--epochs", "3", "--batch-size", "32",
                "--max-candidates", "3", "--step", "0.1", "--constraint", "nominal", "--device", "cpu",
                "--max-failures", "2", "--max-concurrent", "2"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
        try:
            if not wait_for(lambda: _running_count(definition) >= 2, timeout=420):  # Ray starts slowly on a busy host
                stop_group(driver)
                pytest.fail(f"trials never ran on both nodes; the driver said: {driver.communicate()[1][-2000:]}")
            time.sleep(4)  # both workers past start-up and training
            stop_group(worker, grace=20)
            _, err = driver.communicate(timeout=600)
        finally:
            stop_group(driver)
    assert driver.returncode == 0, err[-2000:]
    trials = load(definition).get_trials()
    assert len(trials) == 4 and all(t.state == TrialState.COMPLETE for t in trials), \
        [(t.number, t.state, t.user_attrs.get("reason")) for t in trials]


def _running_count(definition) -> int:
    try:
        return len(load(definition).get_trials(states=(TrialState.RUNNING,)))
    except Exception:
        return 0


def test_export_to_unwritable_folder_is_clear_and_leaves_no_partial_files(tmp_path, ray_dir, capsys, monkeypatch):
    definition = tiny_definition(tmp_path, study="export", max_candidates=1)
    run_study(definition, ray_temp_dir=ray_dir)
    folder = Path(definition.studies_dir) / "export"
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}

    real_replace = os.replace
    calls = {"n": 0}

    def disk_full(source, target):
        calls["n"] += 1
        if calls["n"] == 2:  # after the first file has moved: the worst moment
            raise OSError(28, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr("scaling_search.publish.os.replace", disk_full)
    capsys.readouterr()
    code = main(["run", "--resume", "--study", "export", "--studies-dir", definition.studies_dir])
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if "error:" in line]
    assert code == 2 and errors == err[-1:] and "No space left" in err[-1] and "export" in err[-1]
    assert "Traceback" not in "\n".join(err)
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert set(after) == set(before)
    assert not list(folder.glob(".export-*"))


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_database_names_the_file(tmp_path, ray_dir, capsys, damage):
    definition = tiny_definition(tmp_path, study="db", max_candidates=1)
    run_study(definition, ray_temp_dir=ray_dir)
    path = Path(definition.studies_dir) / "db.db"
    data = path.read_bytes()
    path.write_bytes(b"\x00garbage" * 100 if damage == "garbage" else data[: len(data) // 3])
    capsys.readouterr()
    for argv in (["run", "--resume", "--study", "db", "--studies-dir", definition.studies_dir],
                 ["report", "db", "--studies-dir", definition.studies_dir, "--out", str(tmp_path / "r")]):
        code = main(argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and str(path) in err[0], err
    assert not (tmp_path / "r").exists()

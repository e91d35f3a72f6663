"""Shared pieces of the search tests: a tiny study definition and Ray cleanup."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import optuna

from scaling_search.search.definition import StudyDefinition

TINY_DATASET = "synthetic:classes=4,train=240,test=60"


def tiny_definition(tmp_path: Path, **overrides) -> StudyDefinition:
    """3 candidates + the reference, 1 epoch on a tiny synthetic task at 16 px: seconds per trial on a CPU."""
    values = dict(
        study="tiny",
        studies_dir=str(tmp_path / "studies"),
        dataset=TINY_DATASET,
        base_resolution=16,
        epochs=1,
        batch_size=32,
        max_candidates=3,
        step=0.1,
        constraint="nominal",  # at 16 px the measured grid is too coarse to hold 3 candidates
        device="cpu",
        cpus_per_trial=1,
    )
    values.update(overrides)
    return StudyDefinition(**values)


def load(definition: StudyDefinition) -> optuna.Study:
    return optuna.load_study(study_name=definition.study, storage=definition.storage_url())


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONUNBUFFERED="1", RAY_USAGE_STATS_ENABLED="0", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1]) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def cli(*argv: str) -> list[str]:
    return [sys.executable, "-m", "scaling_search", *argv]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_group(process: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a process started with start_new_session=True, and everything it started, by its group id."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(grace)


def wait_for(predicate, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False

"""Shared pieces of the search tests: a tiny study definition and Ray cleanup."""

from __future__ import annotations

import contextlib
import os
import secrets
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
    """The study as a reader sees it; never creates tables, so polling cannot race the driver creating them."""
    storage = optuna.storages.RDBStorage(definition.storage_url(), skip_table_creation=True)
    return optuna.load_study(study_name=definition.study, storage=storage)


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


@contextlib.contextmanager
def two_node_cluster(tmp_path: Path, ray_dir: str):
    """A head and a second Ray node (1 CPU each) on 127.0.0.1, stopped by their process groups on exit.

    Yields (address, env, worker process). `ray start` clusters use token authentication, so every
    process of this cluster shares a private token through env.
    """
    env = cli_env(tmp_path)
    token = tmp_path / "ray-token"
    token.write_text(secrets.token_hex(32))
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token))
    port = free_port()
    address = f"127.0.0.1:{port}"
    ray = [sys.executable, "-m", "ray.scripts.scripts", "start", "--block", "--num-cpus", "1",
           "--disable-usage-stats"]
    nodes = [subprocess.Popen([*ray, "--head", "--port", str(port), "--temp-dir", ray_dir,
                               "--include-dashboard=false"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        assert wait_for(lambda: alive_nodes(address, env) >= 1, timeout=90), "head node did not start"
        nodes.append(subprocess.Popen([*ray, "--address", address], env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True))
        assert wait_for(lambda: alive_nodes(address, env) >= 2, timeout=90), "second node did not join"
        yield address, env, nodes[1]
    finally:
        for node in reversed(nodes):
            stop_group(node, grace=20)


def alive_nodes(address: str, env: dict[str, str]) -> int:
    probe = (f"import ray; ray.init(address={address!r}, log_to_driver=False, logging_level='ERROR'); "
             "print(sum(n['Alive'] for n in ray.nodes()))")
    try:
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, env=env)
    except subprocess.TimeoutExpired:
        return 0
    lines = out.stdout.strip().splitlines()
    return int(lines[-1]) if out.returncode == 0 and lines and lines[-1].isdigit() else 0

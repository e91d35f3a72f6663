"""Shared pieces of the search tests: a tiny study definition, ways to run it, a stand-in for training, Ray cleanup.

Every search test builds its study from :func:`tiny_definition`, and a test that runs the command
line passes that definition on as a study file (:func:`run_argv`), so a change to the tiny study
is made in one place.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import optuna

from scaling_search.study.definition import StudyDefinition

TINY_DATASET = "synthetic:classes=4,train=240,test=60"


def tiny_definition(tmp_path: Path, **overrides) -> StudyDefinition:
    """3 candidates + the reference, 1 epoch on a tiny synthetic task at 16 px: seconds per trial on a CPU.

    The search only: no finalists and no refinement (tests of those stages turn them on).
    """
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
        finalists=0,
        refine=False,
    )
    values.update(overrides)
    return StudyDefinition(**values)


def study_file(definition: StudyDefinition) -> Path:
    """The definition as a study file (TOML) beside its studies folder: every option of it, for the command line."""
    path = Path(definition.studies_dir).parent / f"{definition.study}.toml"
    path.write_text(definition.to_toml())
    return path


def run_argv(definition: StudyDefinition, *extra: str) -> list[str]:
    """``scaling-search run`` of exactly ``definition`` (through its study file), then ``extra`` flags."""
    return cli("run", str(study_file(definition)), *extra)


def resume_argv(definition: StudyDefinition, *extra: str) -> list[str]:
    """``scaling-search run --resume`` of the study ``definition`` names, then ``extra`` flags."""
    return cli("run", "--resume", "--study", definition.study, "--studies-dir", definition.studies_dir, *extra)


def driver_argv(definition: StudyDefinition, trainable: str) -> list[str]:
    """A driver process that runs ``run_study(definition, trainable=...)`` to the end and exits 0.

    ``trainable`` is a Python expression over ``fake_trainable`` and ``Path`` (e.g. ``"fake_trainable()"``):
    the command line cannot take a stand-in for training. Run it with :func:`cli_env`.
    """
    code = ("import sys; from pathlib import Path; "
            "from scaling_search.study.study_file import from_mapping, load_definition; "
            "from scaling_search.search.search_driver import run_study; "
            "from tests.search_helpers import fake_trainable; "
            f"definition = from_mapping(load_definition(Path({str(study_file(definition))!r}))); "
            f"outcome = run_study(definition, log=lambda line: print(line, file=sys.stderr), trainable={trainable}); "
            "sys.exit(0 if outcome.counts['complete'] else 1)")
    return [sys.executable, "-c", code]


def fake_trainable(epochs: int = 1, attempts: Path | None = None,
                   hold_until: Callable[[], bool] | None = None, hold_s: float = 300.0) -> Callable[..., None]:
    """A stand-in for training, for tests of the search machinery (not of training): a trial takes no time.

    It reports what :func:`~scaling_search.execution.trainable.run_trial` reports (the validation
    accuracy after each of ``epochs`` epochs, then the whole ProxyResult with the node it ran on);
    its accuracy is ``round(0.5 + number / 1000, 4)``, so every trial has its own. With ``attempts``,
    each attempt (a retry too) appends a JSON line ``{"event": "start", "number", "node", "time"}``
    to that file when it starts and an ``"end"`` line after its last report (:func:`read_attempts`).
    With ``hold_until``, an attempt keeps its slot until ``hold_until()`` is true (polled, at most
    ``hold_s`` seconds) before it reports. Closures pickle by value, so Ray workers need not import tests.
    """

    def fake(config, data, settings):
        import json as json_
        import os as os_
        import time as time_

        import ray
        from ray import tune

        from scaling_search.execution.trainable import PROXY_RESULT
        from scaling_search.training.proxy import ProxyResult

        number, node, start = config["number"], ray.get_runtime_context().get_node_id(), time_.time()

        def note(event: str) -> None:
            if attempts is not None:
                with open(attempts, "a") as log:
                    log.write(json_.dumps({"event": event, "number": number, "node": node, "time": time_.time()})
                              + "\n")

        note("start")
        while hold_until is not None and not hold_until() and time_.time() < start + hold_s:
            time_.sleep(0.2)
        value = round(0.5 + number / 1000, 4)
        for epoch in range(1, epochs + 1):
            tune.report({"epoch": epoch, "val_acc": value, "train_loss": 1.0})
        result = ProxyResult(status="ok", reason=None, val_acc=value, best_val_acc=value, test_acc=value,
                             val_curve=(value,) * epochs, train_loss_curve=(1.0,) * epochs, epochs=epochs,
                             wall_s=time_.time() - start, img_per_s=None, peak_mem_mb=None, params=None,
                             step_mode=None, graph_error=None, device="cpu").to_dict()
        result.update(node_id=node, pid=os_.getpid(), hardware="no training (a test's stand-in)")
        note("end")
        tune.report({"epoch": epochs, PROXY_RESULT: json_.dumps(result)})

    return fake


def read_attempts(path: Path) -> list[dict]:
    """The lines :func:`fake_trainable` appended to ``attempts`` (none when the file is not there yet)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.endswith("}")]


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


@contextlib.contextmanager
def short_temp_dir():
    """A short private Ray temp dir (Ray's socket paths must stay under 108 bytes), removed afterwards."""
    path = tempfile.mkdtemp(prefix="ssray", dir="/tmp")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


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


def contender_attrs(contender: bool, resolution: int = 32, native_resolution: int = 32) -> dict[str, object]:
    """The trial attributes a planned candidate carries since schema version 2, for a stored trial made by hand.

    A contender grows 2.0x per phi and trains with the target compute; a non-contender misses growth
    (1.5x per phi), as a point on the constraint at phi = 1 by rounding alone would.
    """
    return {"growth_per_phi": 2.0 if contender else 1.5, "growth_phi": 7, "on_growth": contender,
            "proxy_on_target": True, "contender": contender, "upsample": resolution / native_resolution}

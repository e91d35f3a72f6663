"""``scaling-search run``: plan, open the study, run the trials on Ray Tune, export.

The Optuna study is the search's state. Ray Tune only executes: each resume starts a fresh
Tune experiment over whatever the study still has WAITING, so a driver killed at any point
loses no finished trial and duplicates none.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import platform
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import optuna

from scaling_search.cache import LockHeld, exclusive_lock, write_atomic
from scaling_search.counting.counter import Counter, make_counter
from scaling_search.data import ImageData, check_dataset, load_dataset
from scaling_search.errors import InputError
from scaling_search.grid import fixed_candidates
from scaling_search.progress import count_lines
from scaling_search.recipe import Budget, get_recipe
from scaling_search.search.definition import StudyDefinition, changed_options
from scaling_search.search.export import export_study
from scaling_search.search.plan import PlannedTrial, grid_spec, plan_grid
from scaling_search.search.searcher import Progress, RetryRecorder, StudySearcher
from scaling_search.search.storage import (
    StorageError,
    counts,
    create_study,
    distributions,
    enqueue_plan,
    find_study,
    open_storage,
    requeue_orphans,
    saved_definition,
)
from scaling_search.search.tpe import tpe_suggester
from scaling_search.search.trainable import TrialSettings, run_trial

DEFAULT_TPE_TRIALS = 20


@dataclass(frozen=True)
class DeviceSizing:
    """Defaults for options left unset, by what the cluster has."""

    base_resolution: int
    epochs: int
    batch_size: int
    max_candidates: int | None
    cpus_per_trial: float


CPU_SIZING = DeviceSizing(base_resolution=32, epochs=2, batch_size=64, max_candidates=3, cpus_per_trial=1)
GPU_SIZING = DeviceSizing(base_resolution=64, epochs=5, batch_size=256, max_candidates=None, cpus_per_trial=2)


@dataclass(frozen=True)
class SearchOutcome:
    study: str
    best: dict[str, Any] | None
    counts: dict[str, int]
    failures: list[str]
    interrupted: bool
    trained: bool


def resolve_for_device(definition: StudyDefinition, gpus: float) -> StudyDefinition:
    """Fill the options left unset with defaults sized to the cluster (GPU or CPU only)."""
    use_gpu = definition.device.startswith("cuda") or (definition.device == "auto" and gpus > 0)
    sizing = GPU_SIZING if use_gpu else CPU_SIZING
    return replace(
        definition,
        device="cuda" if use_gpu else "cpu",
        base_resolution=definition.base_resolution or sizing.base_resolution,
        epochs=definition.epochs or sizing.epochs,
        batch_size=definition.batch_size or sizing.batch_size,
        max_candidates=definition.max_candidates if definition.max_candidates is not None or use_gpu
        else (sizing.max_candidates if definition.strategy == "grid" else None),
        cpus_per_trial=definition.cpus_per_trial or sizing.cpus_per_trial,
        trials=definition.trials or (DEFAULT_TPE_TRIALS if definition.strategy == "tpe" else None),
    )


def largest_resolution(definition: StudyDefinition) -> int:
    """An upper bound on any candidate's resolution, to render or store the data once."""
    assert definition.base_resolution is not None
    gamma = definition.gamma_range[1] if definition.phi > 0 else definition.gamma_range[0]
    return max(8, math.ceil(definition.base_resolution * max(gamma, 1.0) ** abs(definition.phi) * 1.5))


def run_search(
    wanted: StudyDefinition,
    resume: bool = False,
    ray_temp_dir: str | None = None,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    trainable: Callable[..., None] = run_trial,
) -> SearchOutcome:
    """Run (or resume) the study ``wanted`` describes, and export its files."""
    wanted = wanted.named()
    check_dataset(wanted.dataset)  # a typo fails now, before a database or Ray is started
    ray = None
    created = None  # the SQLite file this run creates, if it creates one
    try:
        if not resume and wanted.address:
            # A cluster's resources are known only once connected: check them before a database is created.
            ray = start_ray(wanted, ray_temp_dir)
            check_cluster(ray, resolve_for_device(wanted, cluster_gpus(ray)))
        elif not resume:
            check_local_resources(wanted)
        with driver_lock(wanted):
            created = None if resume else claim_new_sqlite_file(wanted.storage_url())
            return search(wanted, resume, ray, ray_temp_dir, log, trainable)
    except BaseException:
        if created is not None:
            remove_if_no_study(*created, wanted.storage_url())  # a failed start leaves no empty database
        raise
    finally:
        if ray is not None:
            stop_ray(ray, wanted)


@contextlib.contextmanager
def driver_lock(definition: StudyDefinition) -> Iterator[None]:
    """One driver per study on this machine: a second one would put the first one's running trials back in the queue.

    (Drivers on other machines sharing a database are not seen; run each study from one place.)
    """
    url = definition.storage_url()
    if url.startswith("sqlite:///"):  # the same file named from different folders is the same database
        url = f"sqlite:///{Path(url.removeprefix('sqlite:///')).resolve()}"
    key = hashlib.sha256(f"{url}\0{definition.study}".encode()).hexdigest()[:16]
    lock = Path(tempfile.gettempdir()) / f"scaling-search-driver-{key}.lock"  # nothing written beside the study
    try:
        with exclusive_lock(lock, wait=False):
            yield
    except LockHeld:
        holder = lock.read_text().strip() if lock.exists() else "?"
        raise InputError(f"study {definition.study!r} is being run by another scaling-search process (pid "
                         f"{holder or '?'}); let it finish or stop it first") from None


def claim_new_sqlite_file(url: str) -> tuple[Path, os.stat_result] | None:
    """Create the (empty) SQLite file ``url`` names when it does not exist, atomically; None when it already did.

    Only a file this process created is ever removed again, so a concurrent run's new database is safe.
    """
    if not url.startswith("sqlite:///"):
        return None
    path = Path(url.removeprefix("sqlite:///"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError:  # it exists, or cannot be made here: open_storage says which
        return None
    return path, path.stat()


def remove_if_no_study(path: Path, identity: os.stat_result, url: str) -> None:
    """Delete the database file this run created when no study made it in (the run failed before)."""
    try:
        now = path.stat()
        if (now.st_dev, now.st_ino) != (identity.st_dev, identity.st_ino):
            return  # replaced by someone else meanwhile
        if now.st_size and optuna.study.get_all_study_names(storage=url):
            return
        for leftover in (path, path.with_name(path.name + "-journal")):
            leftover.unlink(missing_ok=True)
    except Exception:  # unreadable or in use (Windows): leave it, the run's own error matters more
        return


def search(wanted: StudyDefinition, resume: bool, ray, ray_temp_dir: str | None, log: Callable[[str], None],
           trainable: Callable[..., None]) -> SearchOutcome:
    """``run_search`` once connected to ``ray`` when it was needed early (None: started here when needed)."""
    storage = open_storage(wanted.storage_url(), must_exist=resume)
    existing = find_study(storage, wanted.study)
    if resume and existing is None:
        raise InputError(f"no study named {wanted.study!r} in {wanted.storage_url()}; start it without --resume")
    definition = wanted
    if existing is not None:
        saved = saved_definition(existing)
        if saved is None:
            raise InputError(f"study {wanted.study!r} was not made by scaling-search run; choose another --study")
        same_device = resolve_for_device(wanted, gpus=1.0 if saved.device == "cuda" else 0.0)
        changed = [] if resume else changed_options(saved, same_device)
        if changed:
            raise InputError(f"study {wanted.study!r} already exists with other settings ({', '.join(changed)}); "
                             "choose another --study, or --resume it as it was defined")
        definition = replace(saved, **{k: getattr(wanted, k) for k in ("storage", "studies_dir", "address",
                                                                       "trials_per_gpu", "max_concurrent",
                                                                       "max_failures")})
        state = counts(existing)
        if state["waiting"] + state["running"] == 0 and not needs_more_tpe(existing, saved):
            log(f"study {wanted.study!r} is finished: nothing to train (results below)")
            return finish(existing, definition, interrupted=False, trained=False, failures=failure_lines(existing))
        if not resume:
            raise InputError(f"study {wanted.study!r} has {state['waiting'] + state['running']} unfinished "
                             f"trials; continue it with --resume")

    if definition.dataset != wanted.dataset:
        check_dataset(definition.dataset)  # a resumed study's own dataset, before Ray starts
    ray = ray or start_ray(definition, ray_temp_dir)
    try:
        gpus = cluster_gpus(ray)
        if existing is None:
            definition = resolve_for_device(definition, gpus)
        check_cluster(ray, definition)
        log(f"loading {definition.dataset} …")
        data = load_dataset(definition.dataset, resolution=largest_resolution(definition),
                            data_root=definition.data_root, seed=0, val_fraction=definition.val_fraction,
                            download=definition.download,
                            progress=count_lines(log, f"decoding {definition.dataset}", "images"))
        log(data.summary())
        counter = make_counter("fvcore")
        study = existing
        if study is None:
            if definition.strategy == "grid":
                plan = plan_grid(definition, data.num_classes, counter,
                                 count_lines(log, "measuring candidates", "networks"),
                                 count_lines(log, "pre-filtering the grid", "points", quiet_s=2.0))
            else:
                plan = reference_plan(definition, data.num_classes, counter)
            study = create_study(storage, definition)
            study.set_user_attr("num_classes", data.num_classes)
            study.set_user_attr("environment", software_versions())
            study.set_user_attr("space", distributions_json(definition, plan))
            enqueue_plan(study, plan)
            log(f"study {definition.study!r}: {len(plan)} planned trials in {definition.storage_url()}")
        else:
            orphans = requeue_orphans(study)
            if orphans:
                log(f"resuming: {orphans} trials left running by the previous driver will run again")
        save_definition(definition)
        study = optuna.load_study(study_name=definition.study, storage=storage,
                                  sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=5))
        interrupted = execute(study, definition, data, counter, gpus, trainable, log)
    finally:
        stop_ray(ray, definition)
    if requeue_orphans(study):
        interrupted = True
    return finish(study, definition, interrupted=interrupted, trained=True, failures=failure_lines(study))


def failure_lines(study: optuna.Study) -> list[str]:
    """'<key>: <status> (<reason>)' for every FAIL trial, for the summary."""
    return [f"{t.user_attrs.get('key', t.number)}: {t.user_attrs.get('status')} ({t.user_attrs.get('reason')})"
            for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.FAIL,))]


def software_versions() -> dict[str, str]:
    """Versions of what the result depends on, recorded with the study for its report."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for package in ("scaling-search", "torch", "torchvision", "ray", "optuna", "fvcore"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            continue
    return versions


def needs_more_tpe(study: optuna.Study, definition: StudyDefinition) -> bool:
    return definition.strategy == "tpe" and len(study.get_trials(deepcopy=False)) < (definition.trials or 0)


def reference_plan(definition: StudyDefinition, num_classes: int, counter: Counter) -> list[PlannedTrial]:
    """TPE studies start from the paper's point (and the baselines when asked for)."""
    return [PlannedTrial(c, 0) for c in fixed_candidates(grid_spec(definition, num_classes), counter)]


def distributions_json(definition: StudyDefinition, plan: list[PlannedTrial]) -> dict[str, list[float]]:
    return {name: [dist.low, dist.high] for name, dist in distributions(definition, plan).items()}


def save_definition(definition: StudyDefinition) -> None:
    write_atomic(definition.study_dir() / "study.toml", definition.to_toml().encode())


def cluster_gpus(ray) -> float:
    return float(ray.cluster_resources().get("GPU", 0))


def check_cluster(ray, definition: StudyDefinition) -> None:
    """Refuse what the running Ray cluster could never schedule: CUDA trials without a GPU, oversized trials."""
    if definition.device.startswith("cuda") and cluster_gpus(ray) == 0:
        raise InputError("--device cuda but the Ray cluster has no GPU")
    check_trial_fits(definition, largest_node_cpus(ray))


def largest_node_cpus(ray) -> float:
    """The most CPUs any live node of the Ray cluster has: one trial runs on one node."""
    return max((node["Resources"].get("CPU", 0.0) for node in ray.nodes() if node.get("Alive")), default=0.0)


def check_trial_fits(definition: StudyDefinition, node_cpus: float) -> None:
    """A trial asking for more CPUs than any node has would wait forever; say so instead."""
    assert definition.cpus_per_trial is not None
    if definition.cpus_per_trial > node_cpus:
        raise InputError(f"cpus-per-trial {definition.cpus_per_trial:g} is more than the {node_cpus:g} CPUs of the "
                         "largest Ray node, so no trial could start; ask for fewer")


def check_local_resources(definition: StudyDefinition) -> None:
    """For a private local Ray (no ``--address``) its resources are known before it starts: check them now.

    Ray's own view is checked again once it runs; this only makes the common mistakes fail before
    a study database is created.
    """
    if definition.address:
        return
    import torch

    gpus = torch.cuda.device_count()
    if definition.device.startswith("cuda") and gpus == 0:
        raise InputError("--device cuda but this machine has no CUDA GPU")
    check_trial_fits(resolve_for_device(definition, float(gpus)), float(os.cpu_count() or 1))


def start_ray(definition: StudyDefinition, temp_dir: str | None):
    """Connect to ``--address`` or start a private local Ray; quiet, no Ray dashboard."""
    import ray

    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR,
                               "configure_logging": True}
    if definition.address:
        check_reachable(definition.address)
        ray.init(address=definition.address, **options)
    else:
        if temp_dir:
            options["_temp_dir"] = str(Path(temp_dir).resolve())
        ray.init(num_cpus=os.cpu_count(), **options)
    return ray


def check_reachable(address: str, timeout_s: float = 10.0) -> None:
    """Fail in one line when nothing listens at a ``host:port`` address; Ray itself retries for minutes.

    ``auto`` (and other forms without a port) are left to Ray, which answers those quickly.
    """
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except (OSError, ValueError) as err:
        raise InputError(f"no Ray cluster answers at {address} ({err.strerror or err}); start one with "
                         "'ray start --head' there, or check --address") from None


def stop_ray(ray, definition: StudyDefinition) -> None:
    ray.shutdown()


def execute(study: optuna.Study, definition: StudyDefinition, data: ImageData, counter: Counter, gpus: float,
            trainable: Callable[..., None], log: Callable[[str], None]) -> bool:
    """Run the study's WAITING trials (and new TPE trials) on Ray Tune. Returns True when interrupted."""
    # A failed trial's last report has no accuracy to give, by design; Tune's strict metric check would
    # reject it. The legacy output engine is the one that honours verbose=0 (no tables on stdout).
    os.environ.setdefault("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    use_gpu = definition.device.startswith("cuda")
    recipe = get_recipe(definition.recipe)
    if definition.lr is not None:
        recipe = replace(recipe, lr_per_256=definition.lr)
    recipe = replace(recipe, train_batch_size=definition.batch_size)
    settings = TrialSettings(Budget(definition.epochs, definition.max_train_images), recipe,
                             threads=max(1, math.floor(definition.cpus_per_trial)), use_gpu=use_gpu)
    space_bounds = study.user_attrs["space"]
    from optuna.distributions import FloatDistribution, IntDistribution

    space = {name: (IntDistribution if name == "seed" else FloatDistribution)(*bounds)
             for name, bounds in space_bounds.items()}
    num_classes = data.num_classes
    spec = grid_spec(definition, num_classes)
    suggest_new = tpe_suggester(spec, counter, definition.trials) if definition.strategy == "tpe" else None

    def config_for(trial: optuna.Trial) -> dict[str, Any]:
        from scaling_search.models.scaling import compound_layout

        params = trial.params
        layout = compound_layout(params["alpha"], params["beta"], params["gamma"], definition.phi,
                                 definition.base_resolution, num_classes)
        return {"number": trial.number, "seed": params["seed"], "layout": layout.to_dict()}

    total = definition.trials if definition.strategy == "tpe" else len(study.get_trials(deepcopy=False))
    already = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
    searcher = StudySearcher(study, space, suggest_new, config_for, on_change=progress_printer(total, already, log))
    resources = {"cpu": definition.cpus_per_trial, "gpu": 1 / definition.trials_per_gpu if use_gpu else 0}
    scheduler = None
    if definition.early_stop:
        scheduler = ASHAScheduler(time_attr="epoch", metric="val_acc", mode="max", max_t=definition.epochs,
                                  grace_period=1)
    tuner = tune.Tuner(
        tune.with_resources(tune.with_parameters(trainable, data=data, settings=settings), resources),
        tune_config=tune.TuneConfig(search_alg=searcher, scheduler=scheduler, num_samples=-1,
                                    max_concurrent_trials=definition.max_concurrent),
        run_config=tune.RunConfig(
            name=f"run-{time.strftime('%Y%m%d-%H%M%S')}",
            storage_path=str((definition.study_dir() / "ray").resolve()),
            verbose=0,
            failure_config=tune.FailureConfig(max_failures=definition.max_failures),
            callbacks=[RetryRecorder(searcher)],
        ),
    )
    try:
        tuner.fit()
    except KeyboardInterrupt:
        return True
    return False


def progress_printer(total: int, already: int, log: Callable[[str], None]) -> Callable[[Progress], None]:
    """A live line per change: done / running / failed, best so far, elapsed and ETA."""

    def show(progress: Progress) -> None:
        finished = progress.done + progress.failed
        elapsed = time.monotonic() - progress.started
        remaining = max(0, total - already - finished)
        eta = "?"
        if progress.durations and finished:
            per_trial = elapsed / finished
            eta = format_seconds(per_trial * remaining)
        best = f"best {progress.best[0]:.4f} ({progress.best[1]})" if progress.best else "best -"
        log(f"[{already + finished}/{total} done · {progress.running} running · {progress.failed} failed] {best} · "
            f"elapsed {format_seconds(elapsed)} · ETA {eta}")

    return show


def format_seconds(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def finish(study: optuna.Study, definition: StudyDefinition, interrupted: bool, trained: bool,
           failures: list[str]) -> SearchOutcome:
    num_classes = int(study.user_attrs.get("num_classes", 1000))
    best = export_study(study, definition, num_classes)
    return SearchOutcome(definition.study, best, counts(study), failures, interrupted, trained)


__all__ = ["SearchOutcome", "StorageError", "resolve_for_device", "run_search"]

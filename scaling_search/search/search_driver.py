"""Run a study: plan it, store it as an Optuna study (or resume it), train its trials on Ray Tune, export its files.

The Optuna study is the search's state. Ray Tune only executes: each resume starts a fresh
Tune experiment over whatever the study still has WAITING, so a driver killed at any point
loses no finished trial and duplicates none.

Importing this module does not import Ray: Ray starts only when there are trials to train
(:mod:`scaling_search.execution.cluster`), and Ray Tune is imported with
:mod:`scaling_search.execution.tuning` at that point.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace

import optuna

from scaling_search.counting.counter import Counter, make_counter
from scaling_search.data.load import check_dataset, load_dataset
from scaling_search.errors import InputError
from scaling_search.execution.cluster import RaySession, check_cluster, check_local_resources, cluster_gpus, ray_session
from scaling_search.execution.trainable import run_trial
from scaling_search.search.answer import stage_spec, with_plateaus
from scaling_search.search.export import export_study, save_definition, study_files
from scaling_search.search.outcome import StudyOutcome
from scaling_search.search.results import candidate_table, failure_lines
from scaling_search.search.search_plan import plan_grid, reference_plan
from scaling_search.search.stages import needs_more_tpe, next_stage, run_stages
from scaling_search.search.tpe import tpe_sampler
from scaling_search.study.claims import driver_lock, new_database
from scaling_search.study.definition import StudyDefinition, changed_options
from scaling_search.study.environment import software_versions
from scaling_search.study.schema import Stage
from scaling_search.study.sizing import largest_resolution, resolve_for_device
from scaling_search.study.storage import (
    counts,
    create_study,
    enqueue_plan,
    find_study,
    open_storage,
    quiet_optuna,
    requeue_orphans,
    saved_definition,
    space_bounds,
)
from scaling_search.study.study_base import with_base_table
from scaling_search.support.progress import count_lines

RUN_OPTIONS = ("storage", "studies_dir", "address", "trials_per_gpu", "max_concurrent", "max_failures")
"""Options a resumed study takes from this run rather than from its saved definition."""


def run_study(definition: StudyDefinition, *, resume: bool = False, log: Callable[[str], None] | None = None,
              ray_temp_dir: str | None = None, trainable: Callable[..., None] = run_trial) -> StudyOutcome:
    """Run the study ``definition`` describes (or, with ``resume``, continue it), then export its files.

    Ray is the caller's when ``ray.is_initialized()`` (used, and left running); else the cluster at
    ``definition.address``, or a private local Ray in ``ray_temp_dir``, shut down at the end.
    Progress lines go to ``log`` (None: nothing is printed). ``trainable`` is what each trial runs
    in a Ray worker (tests replace it). Bad input (a study that exists with other settings, a
    missing dataset, a trial no node can fit) raises :class:`~scaling_search.errors.InputError`
    before anything is trained.

    Example (a short study on CIFAR-10; each trial trains a proxy network, so this takes a while):

        >>> import sys
        >>> from scaling_search.study.definition import StudyDefinition
        >>> definition = StudyDefinition(study="c10-phi1", phi=1.0, dataset="cifar10", data_root="~/data",
        ...                              download=True, epochs=5, seeds=3)
        >>> outcome = run_study(definition, log=lambda line: print(line, file=sys.stderr))  # doctest: +SKIP
        >>> outcome.table[["rank", "alpha", "beta", "gamma", "score"]].head(3)  # doctest: +SKIP
           rank  alpha  beta  gamma   score
        0     1   1.20  1.10   1.15  0.6813
        ...
        >>> outcome.best.alpha, outcome.files[0].name  # doctest: +SKIP
        (1.2, 'study.toml')
    """
    log = log or (lambda line: None)
    # A new study reads its base's stage table now (a bad one fails before anything starts) and keeps it;
    # a resumed one goes on with the table it stored, whatever became of the file.
    wanted = (definition if resume else with_base_table(definition)).named()
    check_dataset(wanted.dataset)  # a typo fails now, before a database or Ray is started
    with quiet_optuna(), ray_session(wanted.address, ray_temp_dir) as ray:
        if not resume and wanted.address:
            # A cluster's resources are known only once connected: check them before a database is created.
            cluster = ray.connect()
            check_cluster(cluster, resolve_for_device(wanted, cluster_gpus(cluster)))
        elif not resume:
            check_local_resources(wanted)
        url = wanted.storage_url()
        with driver_lock(url, wanted.study), contextlib.nullcontext() if resume else new_database(url):
            return run(wanted, resume, ray, log, trainable)


def run(wanted: StudyDefinition, resume: bool, ray: RaySession, log: Callable[[str], None],
        trainable: Callable[..., None]) -> StudyOutcome:
    """:func:`run_study` once this driver holds the study."""
    storage = open_storage(wanted.storage_url(), must_exist=resume)
    existing = find_study(storage, wanted.study)
    definition = wanted
    if existing is None:
        if resume:
            raise InputError(f"no study named {wanted.study!r} in {wanted.storage_url()}; start it without --resume")
    else:
        definition = continued_definition(existing, wanted, resume)
        trials = existing.get_trials(deepcopy=False)
        state = counts(trials)
        unfinished = state["waiting"] + state["running"]
        pending = unfinished == 0 and next_stage(trials, definition, study_classes(existing), make_counter("fvcore"))
        if unfinished == 0 and not pending and not needs_more_tpe(existing, definition):
            log(f"study {wanted.study!r} is finished: nothing to train (results below)")
            return finish(existing, definition, interrupted=False, trained=False)
        if not resume:
            left = f"{unfinished} unfinished trials" if unfinished else f"its {pending[0]} stage still to run"
            raise InputError(f"study {wanted.study!r} has {left}; continue it with --resume")

    if definition.dataset != wanted.dataset:
        check_dataset(definition.dataset)  # a resumed study's own dataset, before Ray starts
    cluster = ray.connect()
    if existing is None:
        definition = resolve_for_device(definition, cluster_gpus(cluster))
    check_cluster(cluster, definition)
    log(f"loading {definition.dataset} …")
    data = load_dataset(definition.dataset, resolution=largest_resolution(definition),
                        data_root=definition.data_root, seed=0, val_fraction=definition.val_fraction,
                        download=definition.download,
                        progress=count_lines(log, f"decoding {definition.dataset}", "images"))
    log(data.summary())
    counter = make_counter("fvcore")
    if existing is None:
        start_study(storage, definition, data.num_classes, counter, log)
    else:
        orphans = requeue_orphans(existing)
        if orphans:
            log(f"resuming: {orphans} trials left running by the previous driver will run again")
    save_definition(definition)
    study = optuna.load_study(study_name=definition.study, storage=storage, sampler=tpe_sampler(seed=0))
    interrupted = run_stages(study, definition, data, counter, trainable, log)
    return finish(study, definition, interrupted=interrupted, trained=True)


def study_classes(study: optuna.Study) -> int:
    """The class count of the study's dataset, as it was saved when the study was made."""
    return int(study.user_attrs.get("num_classes", 1000))


def continued_definition(existing: optuna.Study, wanted: StudyDefinition, resume: bool) -> StudyDefinition:
    """The definition an existing study goes on with: its saved one, with this run's :data:`RUN_OPTIONS`.

    Without ``resume``, options ``wanted`` sets differently from the saved ones are refused.
    """
    saved = saved_definition(existing)
    if saved is None:
        raise InputError(f"study {wanted.study!r} was not made by scaling-search run; choose another --study")
    if not resume:
        same_device = resolve_for_device(wanted, gpus=1.0 if saved.device == "cuda" else 0.0)
        changed = changed_options(saved, same_device)
        if changed:
            raise InputError(f"study {wanted.study!r} already exists with other settings ({', '.join(changed)}); "
                             "choose another --study, or --resume it as it was defined")
    return replace(saved, **{name: getattr(wanted, name) for name in RUN_OPTIONS})


def start_study(storage: optuna.storages.BaseStorage, definition: StudyDefinition, num_classes: int,
                counter: Counter, log: Callable[[str], None]) -> optuna.Study:
    """Plan a new study and store it, with its plan as WAITING trials and what its report needs."""
    if definition.strategy == "grid":
        plan = plan_grid(definition, num_classes, counter, count_lines(log, "measuring candidates", "networks"),
                         count_lines(log, "pre-filtering the grid", "points", quiet_s=2.0))
    else:
        plan = reference_plan(definition, num_classes, counter)
    study = create_study(storage, definition)
    study.set_user_attr("num_classes", num_classes)
    study.set_user_attr("environment", software_versions())
    study.set_user_attr("space", space_bounds(definition, plan))
    enqueue_plan(study, plan)
    log(f"study {definition.study!r}: {len(plan)} planned trials in {definition.storage_url()}")
    return study


def finish(study: optuna.Study, definition: StudyDefinition, interrupted: bool, trained: bool) -> StudyOutcome:
    """Export the study's files and say what it came to."""
    trials = study.get_trials(deepcopy=False)
    classes = study_classes(study)
    best = export_study(trials, definition, num_classes=classes)
    stages = {stage: with_plateaus(candidate_table(trials, stage), stage_spec(definition, classes, stage, best))
              for stage in Stage}
    return StudyOutcome(study=definition.study, best=best, counts=counts(trials), failures=failure_lines(trials),
                        interrupted=interrupted, trained=trained, table=stages[Stage.SEARCH],
                        stages={name: table for name, table in stages.items() if name != Stage.SEARCH and len(table)},
                        files=study_files(definition))

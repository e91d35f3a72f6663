"""Run a study: plan it, store it as an Optuna study (or resume it), train its trials on Ray Tune, export its files.

The Optuna study is the search's state. Ray Tune only executes: each resume starts a fresh
Tune experiment over whatever the study still has WAITING, so a driver killed at any point
loses no finished trial and duplicates none.

Importing this module does not import Ray: Ray starts only when there are trials to train
(:mod:`scaling_search.execution.cluster`), and Ray Tune is imported with
:mod:`scaling_search.search.tuning` at that point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import optuna

from scaling_search.coefficients.latency_grid import LatencyGridTimer
from scaling_search.counting.counter import Counter, make_counter
from scaling_search.data.load import check_dataset
from scaling_search.errors import InputError
from scaling_search.execution.session import StudySession, study_classes, study_definition, study_session
from scaling_search.execution.trainable import run_trial
from scaling_search.search.answer import stage_spec, with_plateaus
from scaling_search.search.enqueue import NATIVE_RESOLUTION, TRAIN_IMAGES, enqueue_plan, space_bounds
from scaling_search.search.export import export_study, save_definition, study_files
from scaling_search.search.outcome import StudyOutcome
from scaling_search.search.results import candidate_table, failure_lines
from scaling_search.search.search_plan import plan_grid, reference_plan, study_name
from scaling_search.search.stages import needs_more_tpe, next_stage, run_stages
from scaling_search.search.tpe import tpe_sampler
from scaling_search.study.definition import ResolvedDefinition, StudyDefinition, changed_options
from scaling_search.study.environment import software_versions
from scaling_search.study.schema import Stage
from scaling_search.study.sizing import demo_line, largest_resolution, resolve_for_device
from scaling_search.study.storage import counts, create_study, redact
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
    with study_session(wanted.storage_url(), study_name(wanted), address=wanted.address, ray_temp_dir=ray_temp_dir,
                       resume=resume, creating=None if resume else wanted, log=log) as session:
        return run(session, wanted, trainable)


def run(session: StudySession, wanted: StudyDefinition, trainable: Callable[..., None]) -> StudyOutcome:
    """:func:`run_study` once this driver holds the study."""
    existing = session.find(study_name(wanted))
    definition: StudyDefinition = wanted
    if existing is None:
        session.check_resume(f"study {wanted.study!r}", redact(session.url), found=False)
    else:
        definition = continued_definition(existing, wanted, session.resume)
        left = work_left(existing, definition)
        if left is None:
            session.log(f"study {wanted.study!r} is finished: nothing to train (results below)")
            return finish(existing, definition, interrupted=False, trained=False)
        session.check_resume(f"study {wanted.study!r}", redact(session.url), found=True, left=left)

    if definition.dataset != wanted.dataset:
        check_dataset(definition.dataset)  # a resumed study's own dataset, before Ray starts
    resolved = session.connect(definition)
    if (line := demo_line(resolved)) is not None:
        session.log(line)
    data = session.load_data(resolved, largest_resolution(resolved))
    counter = make_counter("fvcore")
    if existing is None:
        start_study(session.storage, resolved, data.num_classes, data.native_resolution, counter, session.log,
                    time_latency=session.latency_timer(resolved))
    else:
        session.requeue_orphans(existing)
    save_definition(resolved)
    study = optuna.load_study(study_name=resolved.study, storage=session.storage, sampler=tpe_sampler(seed=0))
    study.set_user_attr(TRAIN_IMAGES, len(data.train_y))  # on resume too: the same seeded split
    interrupted = run_stages(study, resolved, data, counter, trainable, session.log)
    return finish(study, resolved, interrupted=interrupted, trained=True)


def work_left(study: optuna.Study, definition: ResolvedDefinition) -> str | None:
    """What an existing study has left to do (its unfinished trials, a stage still to plan, TPE trials still to
    sample), in words; None when it is finished."""
    trials = study.get_trials(deepcopy=False)
    state = counts(trials)
    unfinished = state["waiting"] + state["running"]
    if unfinished:
        return f"{unfinished} unfinished trials"
    pending = next_stage(trials, definition, study_classes(study), make_counter("fvcore"))
    if pending:
        return f"its {pending[0]} stage still to run"
    if needs_more_tpe(study, definition):
        return "TPE trials still to sample"
    return None


def continued_definition(existing: optuna.Study, wanted: StudyDefinition, resume: bool) -> ResolvedDefinition:
    """The definition an existing study goes on with: its saved one, with this run's :data:`RUN_OPTIONS`.

    Without ``resume``, options ``wanted`` sets differently from the saved ones are refused.
    """
    saved = study_definition(existing)
    if not resume:
        same_device = resolve_for_device(wanted, gpus=1.0 if saved.device == "cuda" else 0.0)
        changed = changed_options(saved, same_device)
        if changed:
            raise InputError(f"study {wanted.study!r} already exists with other settings ({', '.join(changed)}); "
                             "choose another --study, or --resume it as it was defined")
    return replace(saved, **{name: getattr(wanted, name) for name in RUN_OPTIONS})


def start_study(storage: optuna.storages.BaseStorage, definition: ResolvedDefinition, num_classes: int,
                native_resolution: int, counter: Counter, log: Callable[[str], None],
                time_latency: LatencyGridTimer | None = None) -> optuna.Study:
    """Plan a new study and store it, with its plan as WAITING trials and what its report needs.

    ``native_resolution`` is the dataset's: each trial's ``upsample`` divides its resolution by it;
    ``time_latency`` times a latency grid (:func:`~scaling_search.search.search_plan.plan_grid`).
    """
    if definition.strategy == "grid":
        plan = plan_grid(definition, num_classes, counter, count_lines(log, "measuring candidates", "networks"),
                         count_lines(log, "pre-filtering the grid", "points", quiet_s=2.0), log, time_latency)
    else:
        plan = reference_plan(definition, num_classes, counter)
    study = create_study(storage, definition)
    study.set_user_attr("num_classes", num_classes)
    study.set_user_attr(NATIVE_RESOLUTION, native_resolution)
    study.set_user_attr("environment", software_versions())
    study.set_user_attr("space", space_bounds(definition, plan))
    enqueue_plan(study, plan)
    log(f"study {definition.study!r}: {len(plan)} planned trials in {definition.storage_url()}")
    return study


def finish(study: optuna.Study, definition: ResolvedDefinition, interrupted: bool, trained: bool) -> StudyOutcome:
    """Export the study's files and say what it came to."""
    trials = study.get_trials(deepcopy=False)
    classes = study_classes(study)
    best = export_study(trials, definition, num_classes=classes)
    stages = {stage: with_plateaus(candidate_table(trials, stage), stage_spec(definition, classes, stage, best))
              for stage in Stage}
    return StudyOutcome(study=study_name(definition), best=best, counts=counts(trials), failures=failure_lines(trials),
                        interrupted=interrupted, trained=trained, table=stages[Stage.SEARCH],
                        stages={name: table for name, table in stages.items() if name != Stage.SEARCH and len(table)},
                        files=study_files(definition))

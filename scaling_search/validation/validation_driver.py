"""Run a study's validation: its runs as trials of the linked Optuna study ``<study>.validate``, trained on Ray Tune.

The validation study lives in the study's own storage, so the dashboard shows it beside the
study, and it follows the study's rules: only this driver writes it (one driver per study), its
plan is enqueued as WAITING trials keyed by what they train, a driver killed at any point leaves
RUNNING trials that ``--resume`` puts back in the queue, and a later call adds only the keys it
does not hold yet. The trials run on the same Ray Tune execution as the search
(:func:`scaling_search.search.tuning.execute`), on a local Ray or the cluster at ``address``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from scaling_search.coefficients.scaleup import ScaleUpMember
from scaling_search.compat.optuna import set_metric_name
from scaling_search.counting.counter import make_counter
from scaling_search.errors import InputError
from scaling_search.execution.session import study_classes, study_session
from scaling_search.execution.trainable import run_trial
from scaling_search.search.answer import study_answer
from scaling_search.search.results import failure_lines
from scaling_search.search.search_plan import grid_spec
from scaling_search.stats.fidelity import VERDICT_CANDIDATES
from scaling_search.study.definition import ResolvedDefinition, StudyDefinition
from scaling_search.study.sizing import largest_resolution
from scaling_search.study.storage import OBJECTIVE, counts, requeue_orphans
from scaling_search.study.study_base import check_base
from scaling_search.support.cache import write_atomic
from scaling_search.validation.options import ValidationOptions, scaled_epochs, validation_study_name
from scaling_search.validation.validation_answer import (
    ValidatedAnswer,
    ValidationAnswer,
    ValidationSettings,
    validation_answer,
)
from scaling_search.validation.validation_plan import (
    FIDELITY,
    ValidationRun,
    fidelity_plan,
    fidelity_rows,
    member_records,
    members_at,
    scale_up_plan,
)

VALIDATION_FILE = "validation.json"


@dataclass(frozen=True)
class ValidationOutcome:
    """What a validation came to. ``validation`` is what validation.json holds (see :func:`validation_result`).

    Example:
        >>> from scaling_search.validation.validation_answer import ValidationSettings
        >>> settings = ValidationSettings.of(ValidationOptions(), 2, "synthetic", None)
        >>> answer = ValidationAnswer("c10", "c10.validate", settings, None, None, (), {"complete": 0}, "")
        >>> outcome = ValidationOutcome("c10", "c10.validate", answer, {"complete": 0}, [], False, False, None)
        >>> outcome.validation_study, outcome.trained, outcome.validation.fidelity
        ('c10.validate', False, None)
    """

    study: str
    validation_study: str
    validation: ValidationAnswer
    counts: dict[str, int]
    failures: list[str]
    interrupted: bool
    trained: bool
    file: Path | None


def validate_study(study: str, options: ValidationOptions | None = None, *, studies_dir: str = "studies",
                   storage: str | None = None, address: str | None = None, max_concurrent: int | None = None,
                   resume: bool = False, log: Callable[[str], None] | None = None, ray_temp_dir: str | None = None,
                   trainable: Callable[..., None] = run_trial, base: str | None = None) -> ValidationOutcome:
    """Check ``study``'s answer: rank fidelity on longer runs and the scale-up check (:mod:`scaling_search.validation`).

    The study's own base network is used; ``base``, when given, must be that one. Bad input (no such
    study, one that is unfinished or has no complete trial, options a saved validation disagrees
    with, a φ not above the study's, another ``base``) raises
    :class:`~scaling_search.errors.InputError` before anything is trained.

    Example (trains networks, so it takes minutes):

        >>> from scaling_search.validation.options import ValidationOptions
        >>> outcome = validate_study("synthetic-phi1-grid", ValidationOptions(top=3))  # doctest: +SKIP
        >>> outcome.validation.fidelity.rank_fidelity.spearman  # doctest: +SKIP
        0.8
    """
    log = log or (lambda line: None)
    options = options or ValidationOptions()
    url = StudyDefinition(study=study, studies_dir=studies_dir, storage=storage).storage_url()
    name = validation_study_name(study)
    with study_session(url, name, address=address, ray_temp_dir=ray_temp_dir, resume=resume, log=log) as session:
        parent, made = session.made_study(study)
        check_base(made, base)
        definition = replace(made, studies_dir=studies_dir, storage=storage, address=address,
                             max_concurrent=max_concurrent, early_stop=False)
        parent_trials = check_parent(parent)
        existing = session.find(name)
        unfinished = [] if existing is None else [t for t in existing.get_trials(deepcopy=False)
                                                  if not t.state.is_finished()]
        session.check_resume("validation", f"study {study!r}", found=existing is not None,
                             left=f"{len(unfinished)} unfinished trials" if unfinished else None)
        saved = ValidationOptions.from_dict(existing.user_attrs["options"]) if existing else None
        resolved = options.resolved(definition.phi, definition.finalist_seeds, saved, definition.device)
        resolved = replace(resolved, long_resolution=resolved.long_resolution or definition.base_resolution)
        plan, members = plan_runs(parent_trials, definition, study_classes(parent), resolved)
        present = set() if existing is None else {t.user_attrs.get("key") for t in existing.get_trials()}
        missing = [run for run in plan if run.key not in present]
        if existing is not None and not unfinished and not missing:
            log(f"the validation of {study!r} is finished: nothing to train (results below)")
            save_members(existing, members)  # the same networks, with what this version records of them
            return finish(parent, existing, definition, trained=False, interrupted=False)
        definition = session.connect(definition)
        data = session.load_data(definition, data_resolution(definition, plan))
        validation = existing or create_validation_study(session.storage, name, study)
        record_plan(validation, resolved, saved, members, missing)
        log(plan_line(study, plan, missing, resolved))
        session.requeue_orphans(validation)
        from scaling_search.search.tuning import execute  # Ray Tune: imported only when there is work

        counter = make_counter("fvcore")
        interrupted = execute(validation, definition, data, counter, trainable, log, stage=None)
        interrupted = interrupted or bool(requeue_orphans(validation))
        return finish(parent, validation, definition, trained=True, interrupted=interrupted)


def check_parent(parent: optuna.Study) -> list[FrozenTrial]:
    """The study's trials, once it is finished and has a complete trial; InputError otherwise."""
    trials = parent.get_trials(deepcopy=False)
    unfinished = sum(not t.state.is_finished() for t in trials)
    if unfinished:
        raise InputError(f"study {parent.study_name!r} has {unfinished} unfinished trials; finish it first "
                         f"(scaling-search run --resume --study {parent.study_name})")
    if not any(t.state == TrialState.COMPLETE for t in trials):
        raise InputError(f"study {parent.study_name!r} has no complete trial, so there is no answer to validate")
    return trials


def plan_runs(parent_trials: list[FrozenTrial], definition: ResolvedDefinition, classes: int,
              options: ValidationOptions) -> tuple[list[ValidationRun], dict[float, list[ScaleUpMember]]]:
    """The runs ``options`` ask for, and the scale-up members by φ; InputError when a check has nothing to train."""
    spec = grid_spec(definition, classes)
    best = study_answer(parent_trials, definition, classes)
    if best is None:
        raise InputError(f"study {definition.study!r} has no answer to validate: no compound candidate on the "
                         "constraint completed all its seeds")
    plan: list[ValidationRun] = []
    members: dict[float, list[ScaleUpMember]] = {}
    assert options.seeds is not None and options.long_resolution is not None
    if options.fidelity:
        rows = fidelity_rows(parent_trials, spec, options.top or 0)
        if len(rows) < 2:
            raise InputError(f"study {definition.study!r} has {len(rows)} candidate to rank; rank fidelity needs at "
                             "least 2 (a study with more candidates, or --scale-up-only)")
        plan += fidelity_plan(rows, spec, options.seeds, scaled_epochs(definition.epochs, options.epochs_factor or 1),
                              options.long_resolution)
    if options.scale_up:
        members = members_at(spec, best.coefficients, options.phis or (),
                             make_counter("fvcore"))
        planned_epochs = scaled_epochs(definition.epochs, options.scale_up_epochs_factor or 1)
        for phi_members in members.values():
            plan += scale_up_plan(phi_members, spec, options.seeds, planned_epochs)
    return plan, members


def data_resolution(definition: ResolvedDefinition, plan: list[ValidationRun]) -> int:
    """The resolution the data is prepared at: the study's, or more when a planned network is larger."""
    largest = max((run.resolution for run in plan), default=0)
    return max(largest_resolution(definition), math.ceil(1.5 * largest))


def create_validation_study(store: optuna.storages.BaseStorage, name: str, study: str) -> optuna.Study:
    validation = optuna.create_study(study_name=name, storage=store, direction="maximize")
    set_metric_name(validation, OBJECTIVE)
    validation.set_user_attr("parent", study)
    return validation


def record_plan(validation: optuna.Study, options: ValidationOptions, saved: ValidationOptions | None,
                members: dict[float, list[ScaleUpMember]], missing: list[ValidationRun]) -> None:
    """Save the options (checks and φ accumulate), the members and the search space, then enqueue ``missing``."""
    phis = tuple(sorted(set(members) | set(saved.phis or () if saved else ())))
    options = replace(options, phis=phis or None)
    if saved is not None:
        options = replace(options, fidelity=options.fidelity or saved.fidelity,
                          scale_up=options.scale_up or saved.scale_up)
    validation.set_user_attr("options", options.to_dict())
    save_members(validation, members)
    validation.set_user_attr("space", space_holding(validation.user_attrs.get("space", {}), missing))
    for run in missing:
        alpha, beta, gamma = run.coefficients
        validation.enqueue_trial({"alpha": alpha, "beta": beta, "gamma": gamma, "seed": run.seed},
                                 user_attrs=run.attrs(), skip_if_exists=False)


def save_members(validation: optuna.Study, members: dict[float, list[ScaleUpMember]]) -> None:
    """Save ``members`` with the validation study, replacing those of the same φ and keeping the others."""
    records = dict(validation.user_attrs.get("members", {}))
    records.update({f"{phi:g}": member_records(phi_members) for phi, phi_members in members.items()})
    validation.set_user_attr("members", records)


def space_holding(bounds: dict[str, list[float]], runs: list[ValidationRun]) -> dict[str, list[float]]:
    """The saved search space ``bounds`` stretched to hold every value ``runs`` ask for (Optuna asks within it)."""
    values = {name: [run.coefficients[index] for run in runs] for index, name in enumerate(("alpha", "beta", "gamma"))}
    values["seed"] = [run.seed for run in runs]
    return {name: [min([*found, *bounds.get(name, [])[:1]]), max([*found, *bounds.get(name, [])[1:]])]
            for name, found in values.items() if found or name in bounds}


def plan_line(study: str, plan: list[ValidationRun], missing: list[ValidationRun], options: ValidationOptions
              ) -> str:
    """What is left to train; and, when the plan ranks fewer candidates than a verdict needs, that it gets none."""
    fidelity = sum(run.stage == FIDELITY for run in missing)
    scale_up = len(missing) - fidelity
    line = (f"validation of {study!r}: {fidelity} rank-fidelity runs and {scale_up} scale-up runs to add "
            f"({options.seeds} fresh seeds each)")
    ranked = len({run.candidate for run in plan if run.stage == FIDELITY})
    if 0 < ranked < VERDICT_CANDIDATES:
        line += (f"; the study has only {ranked} candidates to rank, so rank fidelity will report rho, tau and p "
                 f"without a verdict (one needs at least {VERDICT_CANDIDATES})")
    return line


def validation_result(parent: optuna.Study, validation: optuna.Study, definition: ResolvedDefinition
                      ) -> ValidationAnswer:
    """What validation.json holds, from the study's trials and its validation study's trials."""
    parent_trials = parent.get_trials(deepcopy=False)
    trials = validation.get_trials(deepcopy=False)
    options = ValidationOptions.from_dict(validation.user_attrs.get("options", {}))
    best = study_answer(parent_trials, definition, study_classes(parent))
    settings = ValidationSettings.of(options, definition.epochs, definition.dataset, definition.max_train_images)
    return validation_answer(parent.study_name, validation.study_name, settings,
                             None if best is None else ValidatedAnswer.of(best), parent_trials, trials,
                             validation.user_attrs.get("members", {}), counts(trials))


def finish(parent: optuna.Study, validation: optuna.Study, definition: ResolvedDefinition, *, trained: bool,
           interrupted: bool) -> ValidationOutcome:
    """Write validation.json into the study's folder and say what the validation came to."""
    result = validation_result(parent, validation, definition)
    path = definition.study_dir() / VALIDATION_FILE
    write_atomic(path, (json.dumps(result.to_json(), indent=2) + "\n").encode())
    trials = validation.get_trials(deepcopy=False)
    return ValidationOutcome(parent.study_name, validation.study_name, result, counts(trials), failure_lines(trials),
                             interrupted, trained, path)

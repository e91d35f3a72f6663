"""The stages after a study's search: finalists on fresh seeds, then the refinement of the winning class.

A search picks its winner and would then test it on the same runs that picked it (the winner's
curse: among many equal candidates the luckiest seed wins). So the top ``finalists`` compound
candidates on the constraint, and the paper's point, are trained again on seeds the search never
used (:data:`FINALIST_SEED_BASE` + 0, 1, …), and the verdict uses those runs only.

A grid at φ cannot tell apart the coefficients that realise the same network (its *plateau*,
:mod:`scaling_search.coefficients.plateaus`). When the winning class is wider than a grid step (or ``refine``
is set), the refinement stage trains the distinct networks that the class splits into at 2φ,
those on the constraint there, on the study's seeds. Their best was picked on the runs that rank
it, as the search's winner was, so the confirmation stage trains it again on the fresh seeds,
beside the network the class's representative (the point exported without the refinement)
trains at 2φ; the best gives the final coefficients only when it beats that one there
(:func:`scaling_search.search.answer.refinement`).

Each stage's plan is a pure function of the finished trials of the stages before it, so a driver
that dies between or during stages plans the same trials again on resume and only adds the ones
the study does not hold yet (by key): the counts stay exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from scaling_search.coefficients.grid import Candidate, GridSpec, measure, proxy_layout
from scaling_search.coefficients.plateaus import Plateau, growing_representative, plateau, refinement_points
from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.counter import Counter
from scaling_search.data.dataset import ImageData
from scaling_search.search.enqueue import enqueue_plan
from scaling_search.search.results import candidate_table, contenders, stage_trials, trial_stage
from scaling_search.search.search_plan import PlannedTrial, grid_spec, measured
from scaling_search.study.definition import ResolvedDefinition, StudyDefinition
from scaling_search.study.schema import Stage
from scaling_search.study.storage import requeue_orphans

FINALIST_SEED_BASE = 1000
"""Finalists train on seeds 1000, 1001, …: never one a search used (its seeds count from 0)."""


def fresh_seeds(definition: ResolvedDefinition) -> list[int]:
    """The ``finalist_seeds`` seeds from :data:`FINALIST_SEED_BASE`: what a stage that judges trains on."""
    return [FINALIST_SEED_BASE + index for index in range(definition.finalist_seeds)]


def finalist_seeds(definition: ResolvedDefinition) -> list[int]:
    """The fresh seeds each finalist trains on (none when the study has no finalists)."""
    if definition.finalists == 0:
        return []
    return fresh_seeds(definition)


def decided_stage(trials: list[FrozenTrial], definition: StudyDefinition) -> Stage:
    """The stage whose runs decide the verdict: the finalists' when the study has finalists, else the search's."""
    return Stage.FINALIST if definition.finalists > 0 and stage_trials(trials, Stage.FINALIST) else Stage.SEARCH


def finished(trials: list[FrozenTrial]) -> bool:
    return all(t.state.is_finished() for t in trials)


def finalist_plan(trials: list[FrozenTrial], definition: ResolvedDefinition, spec: GridSpec) -> list[PlannedTrial]:
    """The top ``finalists`` contenders of the search and the paper's point, each on every fresh seed."""
    table = candidate_table(trials, Stage.SEARCH)
    chosen = list(contenders(table)["candidate"].iloc[: definition.finalists])
    if not chosen:
        return []
    chosen += list(table.loc[table["kind"].eq("reference") & table["n_seeds"].gt(0), "candidate"])
    search = {t.user_attrs.get("candidate"): t for t in stage_trials(trials, Stage.SEARCH)}
    candidates = [candidate_from_trial(search[name], spec) for name in chosen]
    return [PlannedTrial(candidate, seed, Stage.FINALIST) for candidate in candidates
            for seed in finalist_seeds(definition)]


def winning_plateau(trials: list[FrozenTrial], definition: StudyDefinition, spec: GridSpec) -> Plateau | None:
    """The plateau of the top contender of the deciding stage at the study's φ (None when there is none)."""
    table = contenders(candidate_table(trials, decided_stage(trials, definition)))
    if table.empty:
        return None
    top = table.iloc[0]
    return plateau(spec, (float(top["alpha"]), float(top["beta"]), float(top["gamma"])))


def wants_refinement(definition: StudyDefinition, parent: Plateau) -> bool:
    """``refine`` as set, or (unset) whether the winning class is wider than a grid step on some axis; never for a
    latency study (its networks are timed before training, a refinement's would be timed between trials)."""
    if definition.cost == "latency":
        return False
    return definition.refine if definition.refine is not None else parent.is_wide(definition.step)


def refine_plan(trials: list[FrozenTrial], definition: StudyDefinition, spec: GridSpec, counter: Counter
                ) -> list[PlannedTrial]:
    """The distinct networks inside the winning class at 2φ that contend there, on the study's seeds.

    With ``max_refine`` they are chosen in closed form (which counts what fvcore measures, on every
    base) and only the chosen ones are measured with ``counter``, as :func:`~.plan.plan_grid` does.
    """
    parent = winning_plateau(trials, definition, spec)
    if parent is None or not wants_refinement(definition, parent):
        return []
    limit = definition.max_refine
    points = refinement_points(spec, parent, counter if limit is None else analytic_counts,
                               step=definition.refine_step, limit=limit)
    chosen = [point.candidate for point in points]
    if limit is not None:
        chosen = measured(replace(spec, phi=2 * parent.phi), chosen, counter)
    return [PlannedTrial(candidate, seed, Stage.REFINE) for candidate in chosen for seed in range(definition.seeds)]


def refinement_spec(spec: GridSpec, parent: Plateau) -> GridSpec:
    """The grid the refinement's networks are measured on: twice ``parent``'s φ, inside ``parent``."""
    return replace(spec, phi=2 * parent.phi, alpha_range=parent.alpha, beta_range=parent.beta,
                   gamma_range=parent.gamma)


def refined_best(trials: list[FrozenTrial]) -> pd.Series | None:
    """The refinement's best: its top contender on the study's seeds (None when no network completed every seed)."""
    eligible = contenders(candidate_table(trials, Stage.REFINE))
    return None if eligible.empty else eligible.iloc[0]


def confirm_plan(trials: list[FrozenTrial], definition: ResolvedDefinition, spec: GridSpec, counter: Counter
                 ) -> list[PlannedTrial]:
    """The refinement's best and the network the class's representative trains at 2φ, each on every fresh seed.

    The representative (:func:`~scaling_search.coefficients.plateaus.growing_representative` of the
    winning class) is what the study exports without the refinement; the best replaces it only once
    it beats it on runs that did not pick it. The fresh seeds are the finalists' (:func:`fresh_seeds`,
    with ``--finalists 0`` too): these networks are at 2φ, so no run repeats a finalist's. Nothing is
    planned without a refinement best, or when the representative lies in the best's plateau at 2φ
    (it trains the same network there: there is nothing to confirm). The representative is measured
    with ``counter`` at 2φ and trained whether or not it contends there (it is what the export would
    be); the best keeps what its refinement trials recorded.
    """
    parent = winning_plateau(trials, definition, spec)
    best = refined_best(trials)
    if parent is None or best is None:
        return []
    at = refinement_spec(spec, parent)
    representative = growing_representative(spec, parent, parent.point)
    if plateau(at, (float(best["alpha"]), float(best["beta"]), float(best["gamma"]))).contains(representative):
        return []
    refined = next(t for t in stage_trials(trials, Stage.REFINE) if t.user_attrs.get("candidate") == best["candidate"])
    candidates = [candidate_from_trial(refined, spec), measure(at, representative, "compound", counter)]
    return [PlannedTrial(candidate, seed, Stage.CONFIRM) for candidate in candidates
            for seed in fresh_seeds(definition)]


def next_stage(trials: list[FrozenTrial], definition: ResolvedDefinition, num_classes: int, counter: Counter
               ) -> tuple[Stage, list[PlannedTrial]] | None:
    """The next stage with trials the study does not hold yet, once every trial before it has finished.

    Returns the stage's name and its missing trials, or None when nothing is left to add (every
    stage planned, or the study still has unfinished trials to run first).
    """
    if not finished(trials):
        return None
    spec = grid_spec(definition, num_classes)
    present = {t.user_attrs.get("key") for t in trials}
    plans = [(Stage.FINALIST, lambda: finalist_plan(trials, definition, spec)),
             (Stage.REFINE, lambda: refine_plan(trials, definition, spec, counter)),
             (Stage.CONFIRM, lambda: confirm_plan(trials, definition, spec, counter))]
    for name, plan in plans:
        missing = [planned for planned in plan() if planned.key not in present]
        if missing:
            return name, missing
    return None


def candidate_from_trial(trial: FrozenTrial, spec: GridSpec) -> Candidate:
    """The candidate a search trial trained, from the attributes stored with it (nothing is counted again)."""
    attrs = trial.user_attrs
    alpha, beta, gamma = (float(trial.params[name]) for name in ("alpha", "beta", "gamma"))
    phi = float(attrs["phi"])
    layout = proxy_layout(replace(spec, phi=phi), alpha, beta, gamma)
    base = analytic_counts(spec.base_cost_layout())  # the closed form counts what fvcore measures, on every base
    latency = {key: attrs.get(key) for key in ("latency_ratio", "latency_ms", "latency_iqr_ms", "cost_device",
                                                "latency_note")}  # a counted study's trials have none
    return Candidate(alpha, beta, gamma, phi, float(attrs["nominal_ratio"]), float(attrs["measured_ratio"]),
                     int(attrs["macs"]), int(attrs["params"]), int(attrs["activations"]), int(attrs["cost_resolution"]),
                     float(attrs["proxy_ratio"]), int(attrs["resolution"]), attrs["kind"],
                     bool(attrs["on_constraint"]), float(attrs["growth_per_phi"]), int(attrs["growth_phi"]),
                     bool(attrs["on_growth"]), bool(attrs["proxy_on_target"]), bool(attrs["contender"]), layout,
                     spec.cost, int(attrs["macs"]) / base.macs, int(attrs["activations"]) / base.activations,
                     **latency)


def needs_more_tpe(study: optuna.Study, definition: StudyDefinition) -> bool:
    """A TPE study with fewer trials than asked for samples more, even with none WAITING."""
    searched = stage_trials(study.get_trials(deepcopy=False), Stage.SEARCH)
    return definition.strategy == "tpe" and len(searched) < (definition.trials or 0)


def run_stages(study: optuna.Study, definition: ResolvedDefinition, data: ImageData, counter: Counter,
               trainable: Callable[..., None], log: Callable[[str], None]) -> bool:
    """Train what the study has WAITING, then each later stage in turn (:mod:`~.stages`). True when interrupted."""
    from scaling_search.search.tuning import execute  # Ray Tune: imported only when there are trials to run

    stage = current_stage(study)
    while True:
        waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
        work = bool(waiting) or (stage == Stage.SEARCH and needs_more_tpe(study, definition))
        if work and (execute(study, definition, data, counter, trainable, log, stage) or requeue_orphans(study)):
            return True
        following = next_stage(study.get_trials(deepcopy=False), definition, data.num_classes, counter)
        if following is None:
            return False
        stage, planned = following
        enqueue_plan(study, planned)
        log(f"{STAGE_TITLES[stage]}: {len(planned)} trials")


STAGE_TITLES = {
    Stage.SEARCH: "search",
    Stage.FINALIST: "finalists (the top candidates, and for B0 the paper's point, again on fresh seeds)",
    Stage.REFINE: "refinement (the winning class's distinct networks at twice the study's phi)",
    Stage.CONFIRM: "confirmation (the refinement's best and the class's representative at twice phi, on fresh seeds)",
}


def current_stage(study: optuna.Study) -> Stage:
    """The stage of the study's unfinished trials: the latest stage that has any (the search when none has)."""
    unfinished = [t for t in study.get_trials(deepcopy=False) if not t.state.is_finished()]
    stages = {trial_stage(t) for t in unfinished}
    return next((stage for stage in reversed(Stage) if stage in stages), Stage.SEARCH)

"""A plan stored in its study: the planned trials enqueued as WAITING trials, in a search space saved with the study.

Every driver that later asks the study for trials asks in the same space (:func:`space_bounds`),
widened whenever a later stage plans values outside it (fresh seeds, refinement points).
"""

from __future__ import annotations

from typing import TypedDict

import optuna
from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution

from scaling_search.coefficients.grid import CandidateKind
from scaling_search.data.detail import upsample
from scaling_search.search.search_plan import PlannedTrial, candidate_id
from scaling_search.study.definition import StudyDefinition
from scaling_search.study.schema import Stage


def distributions(definition: StudyDefinition, plan: list[PlannedTrial]
                  ) -> dict[str, FloatDistribution | IntDistribution]:
    """Fixed search-space distributions wide enough for the ranges and every planned point."""
    space: dict[str, FloatDistribution | IntDistribution] = {}
    for index, name in enumerate(("alpha", "beta", "gamma")):
        low, high = getattr(definition, f"{name}_range")
        values = [p.candidate.coefficients[index] for p in plan] + [low, high]
        space[name] = FloatDistribution(min(values), max(values))
    space["seed"] = IntDistribution(0, max(definition.seeds - 1, 0))
    return space


def space_bounds(definition: StudyDefinition, plan: list[PlannedTrial]) -> dict[str, list[float]]:
    """:func:`distributions` as JSON, saved with the study so that every later driver asks in the same space."""
    return {name: [dist.low, dist.high] for name, dist in distributions(definition, plan).items()}


def space_from_bounds(bounds: dict[str, list[float]]) -> dict[str, BaseDistribution]:
    """The distributions :func:`space_bounds` saved (what ``study.ask`` takes)."""
    return {name: IntDistribution(int(low), int(high)) if name == "seed" else FloatDistribution(low, high)
            for name, (low, high) in bounds.items()}


class CandidateAttrs(TypedDict):
    """A planned trial's user attributes (as Optuna stores them): its key and stage, and its candidate's costs."""

    key: str
    stage: Stage
    phi: float
    candidate: str
    kind: CandidateKind
    macs: int
    measured_ratio: float
    nominal_ratio: float
    params: int
    activations: int
    cost_resolution: int
    on_constraint: bool
    proxy_ratio: float
    resolution: int
    growth_per_phi: float
    growth_phi: int
    on_growth: bool
    proxy_on_target: bool
    contender: bool
    upsample: float
    latency_ratio: float | None
    latency_ms: float | None
    latency_iqr_ms: float | None
    cost_device: str | None
    latency_note: str | None


def candidate_attrs(planned: PlannedTrial, native_resolution: int) -> CandidateAttrs:
    """The user attributes of a planned trial (:class:`CandidateAttrs`) on data of ``native_resolution`` px.

    ``upsample`` is the trained resolution over the data's native one (:func:`~scaling_search.data.detail.upsample`):
    above 1 the network sees interpolated pixels, which add compute and no detail.
    """
    c = planned.candidate
    return {
        "key": planned.key,
        "stage": planned.stage,
        "phi": c.phi,
        "candidate": candidate_id(c.coefficients),
        "kind": c.kind,
        "macs": c.macs,
        "measured_ratio": c.measured_ratio,
        "nominal_ratio": c.nominal_ratio,
        "params": c.params,
        "activations": c.activations,
        "cost_resolution": c.cost_resolution,
        "on_constraint": c.on_constraint,
        "proxy_ratio": c.proxy_ratio,
        "resolution": c.resolution,
        "growth_per_phi": c.growth_per_phi,
        "growth_phi": c.growth_phi,
        "on_growth": c.on_growth,
        "proxy_on_target": c.proxy_on_target,
        "contender": c.contender,
        "upsample": upsample(c.resolution, native_resolution),
        "latency_ratio": c.latency_ratio,
        "latency_ms": c.latency_ms,
        "latency_iqr_ms": c.latency_iqr_ms,
        "cost_device": c.cost_device,
        "latency_note": c.latency_note,
    }


NATIVE_RESOLUTION = "native_resolution"
"""The study's user attr holding its dataset's native resolution (what each trial's ``upsample`` divides by)."""
TRAIN_IMAGES = "train_images"
"""The study's user attr holding its training split's size, which each epoch draws from: the report counts its runs'
optimizer steps from it. Optional: a study run before it was kept reports its steps as not recorded."""


def enqueue_plan(study: optuna.Study, plan: list[PlannedTrial]) -> None:
    """Add every planned trial not yet in the study as a WAITING trial.

    The study's saved search space (``space``) is widened first to hold every planned value (a
    later stage's fresh seeds), so each driver asks for the trials in a space that contains them.
    Each trial's ``upsample`` is over the study's ``native_resolution`` (stored when it started).
    """
    present = {t.user_attrs.get("key") for t in study.get_trials(deepcopy=False)}
    missing = [planned for planned in plan if planned.key not in present]
    if missing and "space" in study.user_attrs:
        study.set_user_attr("space", widened_bounds(study.user_attrs["space"], missing))
    for planned in missing:
        alpha, beta, gamma = planned.candidate.coefficients
        # dict(): Optuna takes a plain dict, which a TypedDict is not to a type checker
        study.enqueue_trial({"alpha": alpha, "beta": beta, "gamma": gamma, "seed": planned.seed},
                            user_attrs=dict(candidate_attrs(planned, study.user_attrs[NATIVE_RESOLUTION])),
                            skip_if_exists=False)


def widened_bounds(bounds: dict[str, list[float]], plan: list[PlannedTrial]) -> dict[str, list[float]]:
    """``bounds`` (as :func:`space_bounds` saved them) stretched to hold every value ``plan`` asks for."""
    values = {name: [getattr(p.candidate, name) for p in plan] for name in ("alpha", "beta", "gamma")}
    values["seed"] = [p.seed for p in plan]
    return {name: [min([low, *values.get(name, [])]), max([high, *values.get(name, [])])]
            for name, (low, high) in bounds.items()}

"""Which family a hand-off writes: a study's best coefficients at its cost scale, or coefficients given by hand.

A study's family is the one its ``configs/phiN.json`` hold: the study's answer (the coefficients
best.json holds, recomputed from its trials as ``report`` does) derived at the study's cost scale
(``cost_resolution``, ``resolution_multiple``, ``cost_classes``) on the study's own base. A member
that is the very network one of the study's candidates was timed as (a latency study times each
candidate at the cost scale) carries that latency; every other member has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from scaling_search.errors import InputError
from scaling_search.handoff.manifest import Latency
from scaling_search.models.architecture import EFFICIENTNET_B0, IMAGENET_CLASSES, RESOLUTION_MULTIPLE, BaseArchitecture
from scaling_search.models.bases import base_network
from scaling_search.models.layout import Layout, StructureKey

if TYPE_CHECKING:  # Optuna and the study definition are imported only when a study is read
    from optuna.trial import FrozenTrial

    from scaling_search.study.definition import ResolvedDefinition


@dataclass(frozen=True)
class FamilySource:
    """The coefficients of a family, the base and scale it is derived at, and the study they came from (if any).

    ``timed`` holds the latency of each network the study timed, by its structure: a member whose
    layout is one of them was timed as it is.
    """

    alpha: float
    beta: float
    gamma: float
    base: BaseArchitecture
    base_resolution: int
    resolution_multiple: int
    num_classes: int
    study: str | None = None
    cost_kind: str | None = None
    timed: Mapping[StructureKey, Latency] = field(default_factory=dict)

    def latency(self, layout: Layout) -> Latency | None:
        """The latency the study timed ``layout``'s network at, or None when it timed no such network."""
        return self.timed.get(layout.structure_key())


def coefficient_source(alpha: float | None, beta: float | None, gamma: float | None, *, base: str | None = None,
                       base_resolution: int | None = None, resolution_multiple: int | None = None,
                       num_classes: int | None = None) -> FamilySource:
    """The family of (``alpha``, ``beta``, ``gamma``), all three needed, on ``base`` (B0) at the given scale.

    The scale defaults to the base's own resolution, a multiple of 4 and ImageNet's 1000 classes,
    as ``derive`` counts a family.
    """
    if alpha is None or beta is None or gamma is None:
        missing = [name for name, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma)) if value is None]
        raise InputError(f"coefficients need alpha, beta and gamma: {', '.join(missing)} missing")
    network = base_network(base or EFFICIENTNET_B0.name)
    return FamilySource(alpha, beta, gamma, network,
                        network.base_resolution if base_resolution is None else base_resolution,
                        RESOLUTION_MULTIPLE if resolution_multiple is None else resolution_multiple,
                        IMAGENET_CLASSES if num_classes is None else num_classes)


def study_source(study: str, *, storage: str | None = None, studies_dir: str | Path = "studies",
                 base: str | None = None, num_classes: int | None = None) -> FamilySource:
    """The best family of study ``study`` at its cost scale (``num_classes`` may replace the cost scale's classes).

    Raises InputError for an unknown study, one ``scaling-search run`` did not make, one without an
    answer yet, or a ``base`` that is not the study's.
    """
    from scaling_search.execution.session import study_classes, study_definition
    from scaling_search.search.answer import study_answer
    from scaling_search.study.location import study_storage_url
    from scaling_search.study.storage import find_study, open_storage, redact
    from scaling_search.study.study_base import check_base, study_base

    url = study_storage_url(study, storage=storage, studies_dir=studies_dir, must_exist=True)
    found = find_study(open_storage(url, must_exist=True), study)
    if found is None:
        raise InputError(f"no study named {study!r} in {redact(url)}")
    definition = study_definition(found)
    check_base(definition, base)
    trials = found.get_trials(deepcopy=False)
    best = study_answer(trials, definition, study_classes(found))
    if best is None:
        raise InputError(f"study {study!r} has no answer yet (no contender completed), so no family to hand off")
    source = FamilySource(best.alpha, best.beta, best.gamma, study_base(definition), definition.cost_resolution,
                          definition.resolution_multiple,
                          definition.cost_classes if num_classes is None else num_classes, study, best.cost_kind)
    return replace(source, timed=timed_networks(trials, definition, study_classes(found)))


def timed_networks(trials: list[FrozenTrial], definition: ResolvedDefinition, num_classes: int
                   ) -> dict[StructureKey, Latency]:
    """The latency of every network the study's trials were timed as (at the cost scale), by structure."""
    from scaling_search.coefficients.grid import cost_layout
    from scaling_search.search.search_plan import grid_spec

    spec = grid_spec(definition, num_classes)
    timed: dict[StructureKey, Latency] = {}
    for trial in trials:
        attrs = trial.user_attrs
        if attrs.get("latency_ms") is None or "phi" not in attrs:
            continue
        layout = cost_layout(replace(spec, phi=float(attrs["phi"])), *(float(trial.params[name])
                                                                       for name in ("alpha", "beta", "gamma")))
        timed.setdefault(layout.structure_key(), Latency(
            float(attrs["latency_ms"]), None if attrs.get("latency_iqr_ms") is None else float(attrs["latency_iqr_ms"]),
            str(attrs["cost_device"]), definition.latency_batch_size, definition.latency_dtype,
            definition.latency_threads, definition.latency_channels_last, definition.latency_compile,
            definition.latency_mode))
    return timed

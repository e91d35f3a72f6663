"""What a study trains: candidates (measured before any training) times seeds, each with a stable key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scaling_search.coefficients.contention import Contention, count_line, proxy_condition, resolution_note
from scaling_search.coefficients.grid import (
    Candidate,
    GridSpec,
    cost_layout,
    enumerate_candidates,
    fixed_candidates,
    measure,
    proxy_layout,
)
from scaling_search.coefficients.latency_grid import LatencyGridTimer, LatencyTiming, latency_candidates
from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.counter import Counter, count_all
from scaling_search.errors import InputError
from scaling_search.study.definition import ResolvedDefinition, StudyDefinition, default_study_name
from scaling_search.study.schema import Stage
from scaling_search.study.study_base import study_base


@dataclass(frozen=True)
class PlannedTrial:
    """One proxy run of a stage: a candidate (measured at its φ) and a seed. ``key`` identifies it across resumes.

    A search trial's key is ``<candidate>/seed<n>``; a later stage's is prefixed with the stage
    (``finalist/…``, ``refine/…``): the same candidate and seed are another run in another stage.
    """

    candidate: Candidate
    seed: int
    stage: Stage = Stage.SEARCH

    @property
    def key(self) -> str:
        name = f"{candidate_id(self.candidate.coefficients)}/seed{self.seed}"
        return name if self.stage == Stage.SEARCH else f"{self.stage}/{name}"


def candidate_id(coefficients: tuple[float, float, float]) -> str:
    alpha, beta, gamma = coefficients
    return f"a{alpha:.4f}-b{beta:.4f}-g{gamma:.4f}"


def study_name(definition: StudyDefinition) -> str:
    """The study's name: the one it was given, else its default name (what :meth:`StudyDefinition.named` gives it)."""
    return definition.study or default_study_name(definition)


def grid_spec(definition: ResolvedDefinition, num_classes: int) -> GridSpec:
    """The candidate grid of a resolved definition, at the proxy's base resolution and class count, on its base."""
    return GridSpec.from_options(definition, num_classes=num_classes, base=study_base(definition))


def contending(candidates: list[Candidate], spec: GridSpec) -> list[Candidate]:
    """The candidates the search trains: the contenders, and the paper's point and the baselines to compare with.

    Raises InputError, saying which condition emptied the grid and what would change it, when no
    grid point contends.
    """
    kept = [c for c in candidates if c.kind != "compound" or c.contender]
    if not any(c.kind == "compound" for c in kept):
        grid = [c for c in candidates if c.kind == "compound"]
        growing = sum(c.on_growth for c in grid)
        raise InputError(
            f"no grid point contends: {growing} of the {len(grid)} points listed grow within "
            f"{spec.growth_tolerance_used:.0%} of {spec.target:g}x per phi, and none of those "
            f"{proxy_condition(spec, spec.base_resolution)}; see scaling-search candidates, and widen --tolerance or "
            "--growth-tolerance, refine --step or change --base-resolution")
    return kept


def spread(candidates: list[Candidate], limit: int) -> list[Candidate]:
    """At most ``limit`` compound candidates, evenly spaced over the grid's order; reference and baselines kept."""
    fixed = [c for c in candidates if c.kind != "compound"]
    compound = sorted((c for c in candidates if c.kind == "compound"), key=lambda c: c.coefficients)
    if len(compound) > limit:
        if limit == 1:
            compound = [compound[len(compound) // 2]]
        else:
            compound = [compound[round(i * (len(compound) - 1) / (limit - 1))] for i in range(limit)]
    return fixed + compound


def distinct_layouts(candidates: list[Candidate]) -> list[Candidate]:
    """One candidate per realised network: grid points that round to the same layout would train the same model.

    The paper's point and the baselines are always kept; among compound points sharing a layout,
    the one with the smallest coefficients stands for the rest.
    """
    seen = {c.layout.structure_key() for c in candidates if c.kind != "compound"}
    kept = [c for c in candidates if c.kind != "compound"]
    for candidate in sorted((c for c in candidates if c.kind == "compound"), key=lambda c: c.coefficients):
        key = candidate.layout.structure_key()
        if key not in seen:
            seen.add(key)
            kept.append(candidate)
    return kept


def timed_here(spec: GridSpec, timing: LatencyTiming, log: Callable[[str], None] | None = None) -> list[Candidate]:
    """The latency grid timed in this process, on this machine's device."""
    return latency_candidates(spec, analytic_counts, timing, progress=log)


def plan_grid(definition: ResolvedDefinition, num_classes: int, counter: Counter,
              progress: Callable[[int, int], None] | None = None,
              scan_progress: Callable[[int, int], None] | None = None,
              log: Callable[[str], None] | None = None,
              time_latency: LatencyGridTimer | None = None) -> list[PlannedTrial]:
    """Every contender (:func:`contending`) with a distinct realised layout × seed (at most ``max_candidates``).

    With ``max_candidates`` the grid is enumerated in closed form, which counts exactly what fvcore
    measures on every base (``tests/models/test_bases.py``), the candidates are spread over it, and only
    those chosen are measured with ``counter``: the networks never trained need no measurement (on
    ResNet-50's default grid at φ = 1, 112 points, minutes of fvcore on a CPU). ``log`` hears how
    many grid points each condition kept, and whether resolution can be searched at this proxy. A
    latency grid is timed by ``time_latency`` (default: here, by :func:`timed_here`; a study on a Ray
    cluster passes one that times on a node with the device).
    """
    spec = grid_spec(definition, num_classes)
    if spec.cost == "latency":  # timed before any training, on the device the definition names
        listed = (time_latency or timed_here)(spec, LatencyTiming(definition.latency_settings()), log)
    else:
        listed = enumerate_candidates(spec, counter if definition.max_candidates is None else analytic_counts,
                                      progress if definition.max_candidates is None else None, scan_progress)
    if log is not None:
        counts = Contention.of(listed, spec)
        for line in (count_line(counts, spec), resolution_note(counts)):
            if line is not None:
                log(line)
    candidates = distinct_layouts(contending(listed, spec))
    if definition.max_candidates is not None:
        candidates = spread(candidates, definition.max_candidates)
        if spec.cost != "latency":  # a latency grid counted in closed form, which is what fvcore counts
            candidates = measured(spec, candidates, counter, progress)
    candidates.sort(key=lambda c: (c.kind != "reference", c.coefficients))
    return [PlannedTrial(c, seed) for c in candidates for seed in range(definition.seeds)]


def measured(spec: GridSpec, chosen: list[Candidate], counter: Counter,
             progress: Callable[[int, int], None] | None = None) -> list[Candidate]:
    """``chosen`` measured again with ``counter``, each network once (in parallel where that pays)."""
    layouts = [spec.base_cost_layout(), spec.base_layout()]
    layouts += [layout(spec, *c.coefficients) for c in chosen for layout in (cost_layout, proxy_layout)]
    counts = count_all(counter, layouts, progress)
    return [measure(spec, c.coefficients, c.kind, lambda layout: counts[layout.structure_key()]) for c in chosen]


def reference_plan(definition: ResolvedDefinition, num_classes: int, counter: Counter) -> list[PlannedTrial]:
    """What a TPE study starts from: the paper's point (B0 only) and the baselines when asked for, one seed each."""
    return [PlannedTrial(c, 0) for c in fixed_candidates(grid_spec(definition, num_classes), counter)]


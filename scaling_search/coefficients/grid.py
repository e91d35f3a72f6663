"""Enumerate (α, β, γ) under the compound-scaling cost constraint, with cost taken where it is paid.

At compound coefficient φ a candidate scales depth by α^φ, width by β^φ and resolution by
γ^φ. Its *nominal* cost ratio is α·β²·γ² per unit of φ; its *measured* ratio is the
counted MACs of the realised network over the base network's. Rounding (ceil on repeats,
multiples of 8 on channels, rounded resolution) makes the two differ a lot: the paper's
(1.2, 1.1, 1.15) is 1.92 nominally but 2.57× B0 measured at φ = 1 and 224 px.

Each candidate is realised twice from the same coefficients: at the *cost scale* (a resolution
and class count the user names, by default the base network's 224 px and 1000 classes; the
resolution rounded to a multiple of ``resolution_multiple``), where the constraint is evaluated,
and at the *proxy* (the small base resolution and the dataset's classes the search trains at).
The proxy is never where cost is compared: at 32 px one more input pixel can add a row of
feature maps (B0: 32 → 33 px is 2.23× the MACs), so only γ = 1 would survive a constraint
measured there. Both ratios are kept: ``measured_ratio`` (cost scale) and ``proxy_ratio``.

The default constraint is the measured one: a search ranks candidates by accuracy, which is
only a fair comparison between networks of the same real cost. ``constraint="nominal"``
reproduces the paper's own rule.

Meeting the constraint at one φ is not enough to compete: rounding lets points with a nominal
α·β²·γ² of 1.3 meet it, and their families then grow far slower than 2× per φ; and the network
the search trains may cost 2–4× the target at a small proxy. A candidate is a **contender** (it
may become the best, a finalist or a refinement point) when

* its family grows as promised: ``growth_per_phi`` (:mod:`~scaling_search.coefficients.growth`,
  at the cost scale, at φ = 7) lies within ``growth_tolerance`` of the target per φ, and
* it trains with the compute it is charged for: ``proxy_ratio`` lies within ``tolerance`` of
  the target ratio, so accuracy is compared between networks trained with equal compute; else
  it ranks compute rather than scaling rules (docs/proxy.md has the measurements behind this).

Together they replace the constraint at one φ as the gate (the paper's own point is off it at
224 px, 2.23×, yet grows by 1.938 per φ); ``on_constraint`` is kept and shown. The candidates
listed are those on the constraint and those whose family grows as promised (the contenders among
them), so a listing shows which condition each point misses.

The proxy rounds its resolutions to the cost scale's multiple, so both scales round alike.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

from scaling_search.coefficients.fast_scaling import FAST_WIDTH_SHARE, fast_coefficients, matched_fast_coefficients
from scaling_search.coefficients.grid_checks import Constraint, axis_length, axis_values, check_grid
from scaling_search.coefficients.growth import Growth, family_growth
from scaling_search.counting.analytic import Counts, analytic_counts
from scaling_search.counting.cost_kind import CostKind, counted_cost
from scaling_search.counting.counter import Counter, CounterName, CountProgress, count_all, make_counter
from scaling_search.errors import InputError
from scaling_search.models.architecture import (
    EFFICIENTNET_B0,
    IMAGENET_CLASSES,
    PAPER_COEFFICIENTS,
    RESOLUTION_MULTIPLE,
    BaseArchitecture,
)
from scaling_search.models.bases import base_network, has_released_family
from scaling_search.models.scaling import Layout, base_layout, compound_layout

CandidateKind = Literal["compound", "reference", "depth-only", "width-only", "resolution-only", "fast"]
PREFILTER_SLACK = 0.01
"""Extra relative slack when pre-filtering with the closed form, before fvcore decides."""
SMOOTH_COST_RESOLUTION = 128
"""Below this resolution B0's last feature maps are at most 4 px wide, so the cost moves in large steps."""


@dataclass(frozen=True)
class GridSpec:
    """The candidate grid: ranges of α, β, γ on a step, and the constraint to keep a point.

    A point is kept when its cost ratio at ``phi`` (``constraint``: the measured ``cost`` — MACs, by
    default, or activations — at the cost scale, ``cost_resolution`` px and ``cost_classes`` classes,
    or the nominal α·β²·γ², a MACs rule) lies within ``tolerance`` of ``target ** phi``; the
    contender rule and the family's growth are judged in the same cost. ``base_resolution`` and
    ``num_classes`` describe the proxy the search trains. ``base`` is the network every candidate
    scales (B0 unless given); only B0 has the paper's point. The spec checks itself when built and
    raises InputError saying what each field allows; a measured constraint below 128 px warns that
    its cost moves in large steps.

    Example:
        >>> from scaling_search.coefficients.grid import GridSpec
        >>> spec = GridSpec(phi=2, step=0.1, base_resolution=32, num_classes=10)
        >>> spec.target_ratio, spec.constraint, spec.cost_resolution, spec.cost_classes
        (4.0, 'measured', 224, 1000)
    """

    phi: float = 1.0
    step: float = 0.05
    alpha_range: tuple[float, float] = (1.0, 2.0)
    beta_range: tuple[float, float] = (1.0, 1.5)
    gamma_range: tuple[float, float] = (1.0, 1.5)
    target: float = 2.0
    tolerance: float = 0.05
    constraint: Constraint = "measured"
    cost: CostKind = "macs"
    base_resolution: int = EFFICIENTNET_B0.base_resolution
    num_classes: int = IMAGENET_CLASSES
    cost_resolution: int = EFFICIENTNET_B0.base_resolution
    cost_classes: int = IMAGENET_CLASSES
    resolution_multiple: int = RESOLUTION_MULTIPLE
    baselines: bool = False
    base: BaseArchitecture = EFFICIENTNET_B0
    growth_tolerance: float | None = None

    def __post_init__(self) -> None:
        check_grid(self)
        if self.constraint == "measured" and self.cost_resolution < SMOOTH_COST_RESOLUTION:
            warnings.warn(f"cost resolution {self.cost_resolution} px is below {SMOOTH_COST_RESOLUTION}: there the "
                          "last feature maps are a few pixels wide, so one more input pixel adds whole rows of them "
                          "and the cost moves in large steps (B0: 32 -> 33 px is 2.23x the MACs)", stacklevel=3)

    @property
    def target_ratio(self) -> float:
        """The cost ratio a candidate should realise at this φ: target^φ."""
        return self.target**self.phi

    @property
    def growth_tolerance_used(self) -> float:
        """How far (relative) a family's growth per φ may lie from ``target``: ``growth_tolerance``, else
        ``tolerance``."""
        return self.tolerance if self.growth_tolerance is None else self.growth_tolerance

    @classmethod
    def from_options(cls, options: object, **overrides: Any) -> GridSpec:
        """The grid named by ``options``' same-named attributes (parsed flags, a study definition), then ``overrides``.

        Fields ``options`` has no attribute for keep their defaults; a ``base`` given as a name or a
        ``.toml`` path is looked up with :func:`~scaling_search.models.bases.base_network`.
        """
        values = {f.name: getattr(options, f.name) for f in fields(cls) if hasattr(options, f.name)} | overrides
        if isinstance(values.get("base"), str):
            values["base"] = base_network(values["base"])
        return cls(**values)

    def base_layout(self) -> Layout:
        """The unscaled proxy network: what ``proxy_ratio`` is taken against."""
        return base_layout(self.base_resolution, self.num_classes, self.resolution_multiple, base=self.base)

    def base_cost_layout(self) -> Layout:
        """The unscaled network at the cost scale: what the constraint's ``measured_ratio`` is taken against."""
        return base_layout(self.cost_resolution, self.cost_classes, self.resolution_multiple, base=self.base)

    @property
    def paper_point(self) -> tuple[float, float, float] | None:
        """The paper's (1.2, 1.1, 1.15) when the base is B0, where it was found; None for any other base."""
        return PAPER_COEFFICIENTS if has_released_family(self.base) else None


@dataclass(frozen=True)
class Candidate:
    """One (α, β, γ) at φ: its cost at the cost scale, and the proxy network the search trains.

    ``macs``, ``params``, ``activations`` and ``measured_ratio`` (over the base network's cost, in the
    grid's ``cost_kind``) are counted at the cost scale (``cost_resolution`` px), with every counted
    cost's ratio beside it (``macs_ratio``, ``activations_ratio``); ``layout``, ``resolution`` and
    ``proxy_ratio`` (in ``cost_kind`` too) are the proxy's. A grid held to latency
    (:mod:`~scaling_search.coefficients.latency_grid`) fills ``latency_ratio``, ``latency_ms`` (the
    median call at the cost scale) and ``latency_iqr_ms`` (their spread), ``cost_device`` (the
    device's name) and, when a ratio could not be pinned down, ``latency_note`` (why; that ratio is
    NaN, None in JSON). ``on_constraint`` says whether the measured (or, under the nominal
    constraint, the nominal) ratio lies within the grid's tolerance of the target.
    ``growth_per_phi`` is its family's cost per unit of φ, measured at φ = ``growth_phi`` (7 unless
    that member cannot be built); ``on_growth`` whether it lies within the growth tolerance of the
    target; ``proxy_on_target`` whether ``proxy_ratio`` lies within the tolerance of the target
    ratio; ``contender`` whether both hold, so the candidate may be picked.

    Example: the paper's point among the candidates of a coarse grid at φ = 1, proxy at 32 px

        >>> from scaling_search.coefficients.grid import GridSpec, candidates
        >>> spec = GridSpec(step=0.1, base_resolution=32, num_classes=10)
        >>> paper = next(c for c in candidates(spec) if c.kind == "reference")
        >>> paper.coefficients, paper.cost_resolution, round(paper.measured_ratio, 2), paper.on_constraint
        ((1.2, 1.1, 1.15), 256, 2.23, False)
        >>> paper.resolution, round(paper.proxy_ratio, 2), round(paper.growth_per_phi, 3), paper.contender
        (36, 4.36, 1.938, False)
    """

    alpha: float
    beta: float
    gamma: float
    phi: float
    nominal_ratio: float
    measured_ratio: float
    macs: int
    params: int
    activations: int
    cost_resolution: int
    proxy_ratio: float
    resolution: int
    kind: CandidateKind
    on_constraint: bool
    growth_per_phi: float
    growth_phi: int
    on_growth: bool
    proxy_on_target: bool
    contender: bool
    layout: Layout
    cost_kind: CostKind
    macs_ratio: float
    activations_ratio: float
    latency_ratio: float | None = None
    latency_ms: float | None = None
    latency_iqr_ms: float | None = None
    cost_device: str | None = None
    latency_note: str | None = None

    @property
    def coefficients(self) -> tuple[float, float, float]:
        return (self.alpha, self.beta, self.gamma)

    def to_dict(self) -> dict:
        """The JSON row other tools read (``candidates --json``); a ratio that could not be measured is None."""
        row = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "layout"}
        return {key: None if isinstance(value, float) and math.isnan(value) else value for key, value in row.items()}


def nominal_ratio(alpha: float, beta: float, gamma: float) -> float:
    return alpha * beta**2 * gamma**2


def proxy_layout(spec: GridSpec, alpha: float, beta: float, gamma: float) -> Layout:
    """The network the search trains: the proxy's base resolution and classes, scaled at φ."""
    return compound_layout(alpha, beta, gamma, spec.phi, spec.base_resolution, spec.num_classes,
                           spec.resolution_multiple, base=spec.base)


def cost_layout(spec: GridSpec, alpha: float, beta: float, gamma: float) -> Layout:
    """The same coefficients at the cost scale, where the constraint is evaluated."""
    return compound_layout(alpha, beta, gamma, spec.phi, spec.cost_resolution, spec.cost_classes,
                           spec.resolution_multiple, base=spec.base)


def within(value: float, target: float, tolerance: float) -> bool:
    return abs(value - target) <= tolerance * target


def meets_constraint(spec: GridSpec, nominal: float, measured: float) -> bool:
    """Whether a point with these ratios (nominal per unit of φ, measured at φ) lies on the grid's constraint."""
    if spec.constraint == "nominal":
        return within(nominal, spec.target, spec.tolerance)
    return within(measured, spec.target_ratio, spec.tolerance)


def grid_points(spec: GridSpec, progress: Callable[[int, int], None] | None = None
                ) -> Iterator[tuple[float, float, float]]:
    """Every compound (α, β, γ) of the grid that may satisfy the constraint or contend, pre-filtered in closed form.

    The grid's edges are grid points too (kind "compound", like every point the search may pick):
    a rule that scales one dimension only may be the best one, and the grid must be able to say so.
    The baselines are another thing: single-dimension points tuned on a fine axis to the target
    cost (:func:`single_dimension`), trained beside the grid for comparison. A point is kept when its
    cost ratio may meet the constraint or its family grows as promised
    (growth is always counted in closed form, so that test is exact).
    ``progress(scanned, total)`` hears how many grid points have been looked at, one α at a time.
    """
    base_cost = counted_cost(analytic_counts(spec.base_cost_layout()), spec.cost)
    slack = spec.tolerance + PREFILTER_SLACK
    alphas = axis_values(spec.alpha_range, spec.step)
    per_alpha = axis_length(spec.beta_range, spec.step) * axis_length(spec.gamma_range, spec.step)
    for index, alpha in enumerate(alphas):
        if progress is not None:
            progress(index * per_alpha, len(alphas) * per_alpha)
        for beta in axis_values(spec.beta_range, spec.step):
            for gamma in axis_values(spec.gamma_range, spec.step):
                if alpha == beta == gamma == 1.0:
                    continue  # the base network itself
                if spec.constraint == "nominal":
                    keep = within(nominal_ratio(alpha, beta, gamma), spec.target, spec.tolerance)
                else:
                    ratio = counted_cost(analytic_counts(cost_layout(spec, alpha, beta, gamma)), spec.cost) / base_cost
                    keep = within(ratio, spec.target_ratio, slack)
                if keep or growth_of(spec, (alpha, beta, gamma)).on_growth(spec.target, spec.growth_tolerance_used):
                    yield alpha, beta, gamma
    if progress is not None:
        progress(len(alphas) * per_alpha, len(alphas) * per_alpha)


def growth_of(spec: GridSpec, coefficients: tuple[float, float, float]) -> Growth:
    """The growth per φ of ``coefficients``' family at ``spec``'s cost scale, in its counted cost.

    A latency grid's growth is timed per candidate (:mod:`~scaling_search.coefficients.latency_grid`),
    never for a point between them: InputError.
    """
    if spec.cost == "latency":
        raise InputError("a family's latency growth is timed for each candidate; it is not counted for other points")
    return family_growth(coefficients, cost_resolution=spec.cost_resolution, cost_classes=spec.cost_classes,
                         resolution_multiple=spec.resolution_multiple, base=spec.base, cost=spec.cost)


def measure(spec: GridSpec, coefficients: tuple[float, float, float], kind: CandidateKind, counter: Counter
            ) -> Candidate:
    """Count ``coefficients``' network at the cost scale and at the proxy, each against its base network."""
    alpha, beta, gamma = coefficients
    proxy = proxy_layout(spec, alpha, beta, gamma)
    cost = cost_layout(spec, alpha, beta, gamma)
    counts, base_counts = counter(cost), counter(spec.base_cost_layout())
    nominal = nominal_ratio(alpha, beta, gamma)
    measured = counted_cost(counts, spec.cost) / counted_cost(base_counts, spec.cost)
    proxy_ratio = counted_cost(counter(proxy), spec.cost) / counted_cost(counter(spec.base_layout()), spec.cost)
    growth = growth_of(spec, coefficients)
    on_constraint = meets_constraint(spec, nominal, measured)
    on_growth = growth.on_growth(spec.target, spec.growth_tolerance_used)
    proxy_on_target = within(proxy_ratio, spec.target_ratio, spec.tolerance)
    return Candidate(alpha, beta, gamma, spec.phi, nominal, measured, counts.macs, counts.params, counts.activations,
                     cost.resolution, proxy_ratio, proxy.resolution, kind, on_constraint, growth.per_phi, growth.phi,
                     on_growth, proxy_on_target, on_growth and proxy_on_target, proxy, spec.cost,
                     counts.macs / base_counts.macs, counts.activations / base_counts.activations)


def single_dimension(spec: GridSpec, kind: CandidateKind) -> tuple[float, float, float]:
    """The depth-, width- or resolution-only coefficients whose cost is nearest the constraint.

    Nominally that is α = target, or β = γ = √target. Measured at the cost scale, depth, width and
    resolution move the cost in steps, so the coefficient is searched on a fine 1-D grid (closed
    form) and the smallest value with the nearest cost is kept; its achieved cost is the
    candidate's ``measured_ratio``, which may miss the tolerance (it is then flagged, never hidden).
    """
    axis = {"depth-only": 0, "width-only": 1, "resolution-only": 2}[kind]
    if spec.constraint == "nominal":
        value = spec.target if axis == 0 else math.sqrt(spec.target)
    else:
        base_cost = counted_cost(analytic_counts(spec.base_cost_layout()), spec.cost)
        # the cost ratio to reach, as a factor away from 1 (a negative φ shrinks the network); depth moves in steps
        reach = max(spec.target_ratio, 1 / spec.target_ratio) * (2 if axis == 0 else 1)
        values = axis_values((1.0, max(1.0, reach ** (1 / abs(spec.phi)) * 1.5)), 0.005)

        def cost_error(value: float) -> float:
            point = [1.0, 1.0, 1.0]
            point[axis] = value
            cost = counted_cost(analytic_counts(cost_layout(spec, *point)), spec.cost)
            return abs(cost / base_cost - spec.target_ratio)

        value = min(values, key=cost_error)
    point = [1.0, 1.0, 1.0]
    point[axis] = round(value, 6)
    return (point[0], point[1], point[2])


def fast_baseline(spec: GridSpec) -> tuple[float, float, float]:
    """Fast scaling's coefficients (Dollár et al. 2021, width share 0.8) costing nearest the constraint at ``spec.phi``.

    Like :func:`single_dimension`, the rule's proportions are kept and its scale searched on a fine
    1-D axis in closed form
    (:func:`~scaling_search.coefficients.fast_scaling.matched_fast_coefficients`),
    because the point is trained at this φ beside the compound candidates and must cost what they
    cost; under the nominal constraint it is the nominal point. Its family's growth per φ is then
    shown like any candidate's (on B0 the match at φ = 1 costs it growth: docs/fast_scaling.md).
    """
    if spec.constraint == "nominal":
        return fast_coefficients(FAST_WIDTH_SHARE, spec.target)
    base_cost = counted_cost(analytic_counts(spec.base_cost_layout()), spec.cost)

    def cost_ratio(point: tuple[float, float, float]) -> float:
        return counted_cost(analytic_counts(cost_layout(spec, *point)), spec.cost) / base_cost

    return matched_fast_coefficients(FAST_WIDTH_SHARE, cost_ratio, spec.target_ratio, phi=spec.phi)


def enumerate_candidates(
    spec: GridSpec,
    counter: Counter,
    progress: Callable[[int, int], None] | None = None,
    scan_progress: Callable[[int, int], None] | None = None,
) -> list[Candidate]:
    """The constrained grid, the paper's reference point and (``spec.baselines``) single-dimension points.

    Candidates are measured with ``counter`` (every distinct network once, in parallel where
    that pays; ``progress`` hears how many are done, ``scan_progress`` how much of the grid the
    closed-form pre-filter has covered); under the measured constraint the counter has the last
    word on which pre-filtered points lie within tolerance. Raises InputError when no compound
    candidate satisfies the constraint.
    """
    points = list(grid_points(spec, scan_progress))
    every = points + [p for p, _ in fixed_points(spec)]
    layouts = [spec.base_cost_layout(), spec.base_layout()]
    layouts += [layout(spec, *p) for p in every for layout in (cost_layout, proxy_layout)]
    counts = count_all(counter, layouts, progress)

    def known(layout: Layout) -> Counts:
        return counts[layout.structure_key()]

    compound: list[Candidate] = []
    for coefficients in points:
        kind: CandidateKind = "reference" if coefficients == spec.paper_point else "compound"
        candidate = measure(spec, coefficients, kind, known)
        if kind == "reference" or candidate.on_constraint or candidate.on_growth:
            compound.append(candidate)
    if not any(c.kind == "compound" for c in compound):
        raise InputError(
            f"no (alpha, beta, gamma) on this grid has a {spec.constraint} cost ratio within "
            f"{spec.tolerance:.0%} of {spec.target_ratio:.3g}, or grows as promised; widen --tolerance, change --step "
            "or the ranges"
        )
    return compound + [c for c in fixed_candidates(spec, known)
                       if c.kind != "reference" or not any(k.kind == "reference" for k in compound)]


def candidates(
    spec: GridSpec,
    counter: CounterName = "analytic",
    *,
    cache_dir: Path | None = None,
    progress: CountProgress | None = None,
    scan_progress: CountProgress | None = None,
) -> list[Candidate]:
    """The compound (α, β, γ) of ``spec``'s grid that meet its cost constraint, the paper's point and the baselines.

    Each network is counted with ``counter`` ("analytic": closed form; "fvcore": measured, cached in
    ``cache_dir``); ``progress(done, total)`` hears how many networks are counted, ``scan_progress``
    how much of the grid the closed-form pre-filter has covered. Kinds: "compound", "reference"
    (the paper's (1.2, 1.1, 1.15), always listed for B0 and never for another base, which it was
    not found for), and with ``spec.baselines`` "depth-only", "width-only", "resolution-only" and
    "fast" (Dollár et al.'s fast scaling) at the same cost. Raises InputError when no compound point
    meets the constraint.

    Example:
        >>> from scaling_search.coefficients.grid import GridSpec, candidates
        >>> found = candidates(GridSpec(step=0.1), "analytic")
        >>> sum(c.kind == "compound" for c in found), sum(c.contender for c in found)
        (25, 4)
        >>> [(c.coefficients, round(c.nominal_ratio, 2), round(c.measured_ratio, 2))
        ...  for c in found if c.kind == "reference"]
        [((1.2, 1.1, 1.15), 1.92, 2.23)]
    """
    if spec.cost == "latency":
        raise InputError("a grid held to latency is timed on a device, not counted: use "
                         "scaling_search.coefficients.latency_grid.latency_candidates")
    return enumerate_candidates(spec, make_counter(counter, cache_dir), progress, scan_progress)


def fixed_points(spec: GridSpec) -> list[tuple[tuple[float, float, float], CandidateKind]]:
    """The paper's reference point (B0 only), and the single-dimension and fast-scaling baselines when
    ``spec.baselines``."""
    points: list[tuple[tuple[float, float, float], CandidateKind]] = []
    if spec.paper_point is not None:
        points.append((spec.paper_point, "reference"))
    if spec.baselines:
        kinds: tuple[CandidateKind, ...] = ("depth-only", "width-only", "resolution-only")
        points += [(single_dimension(spec, kind), kind) for kind in kinds]
        points.append((fast_baseline(spec), "fast"))
    return points


def fixed_candidates(spec: GridSpec, counter: Counter) -> list[Candidate]:
    """The paper's reference point (B0 only), and the baselines when ``spec.baselines``, measured."""
    return [measure(spec, coefficients, kind, counter) for coefficients, kind in fixed_points(spec)]

"""Candidates held to latency: the grid's cost measured on the user's device instead of counted.

Latency has no closed form, and timing every point of a grid (2,541 at the default step) to a
quarter of the tolerance would take hours, so a latency grid is found in four steps:

1. **Calibration.** A small design set of networks at the cost scale — the depth-, width- and
   resolution-only points and :data:`DESIGN_POINTS` compound points matched in MACs, spread over
   the grid — is timed against the base (to the tolerance only: :data:`CALIBRATION_SHARE`), and
   ``log latency ratio = a · log MACs ratio + b · log activations ratio`` is fitted by least squares
   (through the origin: the base is 1 in all three).
   How far the design points lie from the fit (``spread``, the largest relative miss) says how well
   counts predict latency on this device.
2. **Pre-filter.** A grid point is timed only when its predicted ratio lies within the tolerance,
   widened by ``spread`` and :data:`PREDICTION_SLACK`, of the target ratio. Points the prediction
   puts far off are not listed (the counted costs list the points that grow as promised too; here
   that would mean timing most of the grid).
3. **Screen.** Each kept point is timed against the base at the cost scale to the tolerance only
   (:data:`SCREEN_SHARE`), in short rounds (:data:`QUICK_ROUND_BLOCKS` block of each network); a
   point whose interval lies wholly outside the constraint's band is not listed either.
4. **Measurement.** Each point left is timed against the base at the cost scale to a quarter of the
   tolerance (:func:`~scaling_search.counting.latency.latency_ratio`), the screen's rounds counting,
   stopping as soon as its interval lies wholly outside the band (then it is not listed), or marked
   not measurable with the reason. A point that meets the constraint is then timed at its growth
   member (to φ times a quarter of the growth tolerance, so its growth *per φ* is known to a
   quarter); a point off the constraint cannot contend, and its growth is not timed (NaN, with a
   note). A candidate with a ratio that is not measurable neither meets the constraint nor
   contends. The paper's point and the baselines are always listed and timed in full.

**The proxy** is judged in counted MACs, not latency: a contender's proxy must train with the
compute its network costs at the cost scale (``proxy_ratio``, its MACs over the proxy base's, within
the tolerance of ``macs_ratio``), so that no point gains or loses compute at the proxy by rounding
its resolution there. Latency is what deployment pays; a proxy *trains*, and its batch-1 latency on
a small input measures per-layer overhead, not the network (docs/costs.md has the measurements).

**Growth per φ** is timed where the device can run the family in reasonable time: at the largest
integer φ ≤ 7 whose member the fit predicts to take at most :data:`GROWTH_BUDGET_MS` per call
(``LatencyTiming.growth_budget_ms``; and never above the φ where a family growing by the target
would pass it), then ``growth = ratio^(1/φ)``; ``growth_phi`` says which φ, so a reader sees where it
stops short of 7. A network timed once is never timed again: ratios are kept per network in
one search, and round times in the disk cache across searches; one timer keeps the base (and the
last few networks) prepared for the whole search. docs/benchmarks.md records what a φ = 1 grid
takes on 2 cores.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from scaling_search.coefficients.grid import (
    Candidate,
    CandidateKind,
    GridSpec,
    cost_layout,
    fixed_points,
    nominal_ratio,
    proxy_layout,
    within,
)
from scaling_search.coefficients.grid_checks import axis_values
from scaling_search.coefficients.growth import GROWTH_PHI
from scaling_search.counting.analytic import Counts, analytic_counts
from scaling_search.counting.counter import Counter, count_all
from scaling_search.counting.latency import (
    ROUND_BLOCKS,
    BlockTimer,
    LatencyRatio,
    LatencySettings,
    TorchTimer,
    device_name,
    latency_ratio,
)
from scaling_search.errors import InputError
from scaling_search.models.scaling import Layout, compound_layout

DESIGN_POINTS = 6
"""Compound points of the design set besides the single-dimension ones: enough to fit two exponents, see a miss."""
PREDICTION_SLACK = 0.05
"""Extra relative slack of the latency pre-filter beyond the tolerance and the fit's largest miss."""
GROWTH_BUDGET_MS = 400.0
"""Longest predicted call of the member growth is timed at: a family's φ = 7 member on one CPU thread can take
seconds per image, and a grid times one growth member per candidate."""
GROWTH_PRECISION_CAP = 0.25
"""Loosest precision a growth member's ratio is asked to: φ times a quarter of the growth tolerance, at most this."""
PROGRESS_EVERY_S = 10.0
"""Seconds between progress lines while networks are timed."""
PRECISION_SHARE = 0.25
"""A latency ratio is pinned down to this share of the grid's tolerance (issue #23: a quarter)."""
SCREEN_SHARE = 1.0
"""Each grid point the prediction keeps is first timed at the cost scale to this share of the tolerance; those whose
interval lies wholly outside the constraint's band are dropped, the rest pinned down to :data:`PRECISION_SHARE` (the
screen's rounds count towards it), so the tight measurement is spent near the constraint only."""
QUICK_ROUND_BLOCKS = 1
"""Blocks of each network per round where a ratio is asked to the tolerance or looser (calibration, screen, growth
members): a fifth of a full round's time for a noisier observation, which such a precision affords."""
PREPARED_KEPT = 4
"""Prepared networks a grid's timer keeps: the base and the last few networks (a point's screen and pin, its growth
member)."""
CALIBRATION_SHARE = 1.0
"""A calibration network's ratio is pinned down to this share of the tolerance only: it places a fit whose largest
miss widens the pre-filter anyway, and asking a quarter of a noisy machine left calibrations without two networks."""


@dataclass(frozen=True)
class LatencyTiming:
    """How a latency grid times its networks: the settings, the disk cache, the longest predicted call a growth
    member may take (``growth_budget_ms``) and (for tests) the block timer."""

    settings: LatencySettings
    cache_dir: Path | None = None
    use_cache: bool = True
    timer: BlockTimer | None = None
    growth_budget_ms: float = GROWTH_BUDGET_MS

    def __post_init__(self) -> None:
        if not (self.growth_budget_ms > 0 and math.isfinite(self.growth_budget_ms)):
            raise InputError(f"the growth budget must be a positive number of ms, got {self.growth_budget_ms}")


LatencyGridTimer = Callable[[GridSpec, LatencyTiming, Callable[[str], None] | None], list[Candidate]]
"""``time_latency(spec, timing, log)`` → the latency grid's candidates, timed wherever it times them (this process,
or a Ray task on a cluster node with the device: :mod:`scaling_search.execution.latency_node`)."""


@dataclass(frozen=True)
class LatencyFit:
    """``log latency ratio ≈ macs · log MACs ratio + activations · log activations ratio``, on ``points`` networks.

    ``spread`` is the largest relative miss of the fit on those networks (0.1: 10 %).
    """

    macs: float
    activations: float
    spread: float
    points: int

    def predict(self, macs_ratio: float, activations_ratio: float) -> float:
        return math.exp(self.macs * math.log(macs_ratio) + self.activations * math.log(activations_ratio))


class LatencyBook:
    """Latency ratios against a base, each network timed once per search (and cached on disk across searches)."""

    def __init__(self, timing: LatencyTiming, precision: float, progress: Callable[[str], None] | None = None
                 ) -> None:
        self.timing = timing
        self.timer: BlockTimer = timing.timer or TorchTimer(keep=PREPARED_KEPT)
        self.precision = precision
        self.progress = progress
        self.known: dict[tuple[object, ...], LatencyRatio] = {}
        self.started = self.last_said = time.monotonic()
        self.where = "calibration"

    def each(self, stage: str, points: Sequence[tuple[float, float, float]]
             ) -> Iterator[tuple[float, float, float]]:
        """``points`` one by one, the progress lines saying which of them the ``stage`` has reached."""
        for done, point in enumerate(points):
            self.where = f"{stage} {done + 1} of {len(points)}"
            yield point

    def ratio(self, layout: Layout, base: Layout, precision: float | None = None, *, quick: bool = False,
              outside: tuple[float, float] | None = None) -> LatencyRatio:
        """``layout``'s latency over ``base``'s to ``precision`` (default the book's), in rounds of
        :data:`QUICK_ROUND_BLOCKS` when ``quick``, stopping early when it lies wholly ``outside`` that band; a network
        that cannot be timed here (too large for this machine's memory) is not measurable, with the reason."""
        precision = self.precision if precision is None else precision
        key = (layout.structure_key(), base.structure_key(), precision, quick, outside)
        if key not in self.known:
            try:
                self.known[key] = latency_ratio(layout, base, self.timing.settings, precision=precision,
                                                cache_dir=self.timing.cache_dir, use_cache=self.timing.use_cache,
                                                timer=self.timer, outside=outside,
                                                round_blocks=QUICK_ROUND_BLOCKS if quick else ROUND_BLOCKS)
            except InputError as err:
                self.known[key] = LatencyRatio(None, None, None, False, str(err), None, None)
            if self.progress is not None and time.monotonic() - self.last_said >= PROGRESS_EVERY_S:
                self.last_said = time.monotonic()
                self.progress(f"timing latency: {self.where}, {len(self.known)} ratios timed in "
                              f"{(self.last_said - self.started) / 60:.1f} min")
        return self.known[key]


def growth_phi(spec: GridSpec, base_ms: float, budget_ms: float = GROWTH_BUDGET_MS) -> int:
    """The largest φ latency growth may be timed at: the largest integer φ ≤ 7 whose member, growing by
    ``spec.target`` per φ from the base's ``base_ms``, takes at most ``budget_ms`` per call; at least 1."""
    for phi in range(GROWTH_PHI, 0, -1):
        if base_ms * spec.target**phi <= budget_ms:
            return phi
    return 1


def fit_latency(samples: Sequence[tuple[float, float, float]]) -> LatencyFit:
    """The fit of :class:`LatencyFit` to ``(MACs ratio, activations ratio, latency ratio)`` samples (two or more)."""
    if len(samples) < 2:
        raise InputError(f"calibrating latency needs at least 2 measurable networks, got {len(samples)}; the machine "
                         "may be too noisy (close other work or use fewer --latency-threads)")
    logs = np.log(np.asarray(samples, dtype=float))
    (macs, activations), *_ = np.linalg.lstsq(logs[:, :2], logs[:, 2], rcond=None)
    fit = LatencyFit(float(macs), float(activations), 0.0, len(samples))
    spread = max(abs(fit.predict(m, a) / latency - 1) for m, a, latency in samples)
    return replace(fit, spread=spread)


def design_points(spec: GridSpec, points: Sequence[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """The calibration networks: the single-dimension points and :data:`DESIGN_POINTS` grid points near the
    constraint in MACs, spread evenly over the grid's order."""
    macs = replace(spec, cost="macs", baselines=True)
    near = [p for p in points if within(analytic_ratio(macs, p), spec.target_ratio, spec.tolerance)] or list(points)
    step = max(1, len(near) // DESIGN_POINTS)
    chosen = near[::step][:DESIGN_POINTS]
    return [p for p, kind in fixed_points(macs) if kind.endswith("-only")] + chosen


def analytic_ratio(spec: GridSpec, point: tuple[float, float, float]) -> float:
    """MACs ratio of ``point`` at ``spec``'s cost scale, in closed form."""
    return analytic_counts(cost_layout(spec, *point)).macs / analytic_counts(spec.base_cost_layout()).macs


def calibrate(spec: GridSpec, book: LatencyBook, points: Sequence[tuple[float, float, float]]) -> LatencyFit:
    """Time the design set at the cost scale and fit :class:`LatencyFit` to it."""
    base = spec.base_cost_layout()
    base_counts = analytic_counts(base)
    samples = []
    for point in design_points(spec, points):
        layout = cost_layout(spec, *point)
        measured = book.ratio(layout, base, CALIBRATION_SHARE * spec.tolerance, quick=True)
        if measured.ratio is not None:
            counts = analytic_counts(layout)
            samples.append((counts.macs / base_counts.macs, counts.activations / base_counts.activations,
                            measured.ratio))
    return fit_latency(samples)


def latency_candidates(
    spec: GridSpec,
    counter: Counter,
    timing: LatencyTiming,
    *,
    progress: Callable[[str], None] | None = None,
) -> list[Candidate]:
    """The grid's candidates held to latency on ``timing``'s device: calibrate, pre-filter, time (module docstring).

    ``spec.cost`` must be "latency". Counts (MACs, params, activations) come from ``counter``;
    every latency ratio is pinned to a quarter of ``spec.tolerance``. ``progress`` hears one line
    per stage. Raises InputError when no compound point is predicted near the constraint.
    """
    if spec.cost != "latency":
        raise InputError(f"latency_candidates is for a grid held to latency, not {spec.cost}")
    book = LatencyBook(timing, PRECISION_SHARE * spec.tolerance, progress)
    say = progress or (lambda line: None)
    grid = all_points(spec)
    say(f"calibrating latency on {device_name(timing.settings)}")
    fit = calibrate(spec, book, grid)
    base_cost, base_proxy = spec.base_cost_layout(), spec.base_layout()
    base_counts = analytic_counts(base_cost)
    slack = spec.tolerance + fit.spread + PREDICTION_SLACK

    def predicted(point: tuple[float, float, float]) -> float:
        counts = analytic_counts(cost_layout(spec, *point))
        return fit.predict(counts.macs / base_counts.macs, counts.activations / base_counts.activations)

    near = [p for p in grid if within(predicted(p), spec.target_ratio, slack)]
    fixed = [(p, kind) for p, kind in latency_fixed_points(spec, fit)]
    say(f"latency fit: {fit.macs:.2f} x log MACs + {fit.activations:.2f} x log activations, largest miss "
        f"{fit.spread:.0%} on {fit.points} networks; screening {len(near)} grid points predicted near the constraint")
    screened = [p for p in book.each("screening", near)
                if not clearly_off(book.ratio(cost_layout(spec, *p), base_cost, SCREEN_SHARE * spec.tolerance,
                                              quick=True), spec)]
    say(f"screened to ±{SCREEN_SHARE * spec.tolerance:.0%}: {len(screened)} of {len(near)} grid points may meet the "
        f"constraint; pinning them to ±{PRECISION_SHARE * spec.tolerance:.2%}")
    band = constraint_band(spec)
    every = [p for p in book.each("pinning", screened)
             if not clearly_off(book.ratio(cost_layout(spec, *p), base_cost, outside=band), spec)]
    say(f"{len(every)} of {len(screened)} lie near the constraint; timing the growth member of those on it")
    base_latency = book.ratio(base_cost, base_cost).latency
    if base_latency is None:
        raise InputError(f"the base network cannot be timed on {device_name(timing.settings)}")
    growth = GrowthTiming(fit, base_latency.median_ms, growth_phi(spec, base_latency.median_ms,
                                                                   timing.growth_budget_ms), timing.growth_budget_ms)
    layouts = [base_cost, base_proxy] + [layout(spec, *p) for p in every + [p for p, _ in fixed]
                                         for layout in (cost_layout, proxy_layout)]
    counts = count_all(counter, layouts)

    def measured(point: tuple[float, float, float], kind: CandidateKind, outside: tuple[float, float] | None = None
                 ) -> Candidate:
        return measure_latency_candidate(spec, point, kind, lambda layout: counts[layout.structure_key()], book,
                                         growth, outside)

    compound = [measured(p, "reference" if p == spec.paper_point else "compound", band)
                for p in book.each("proxy and growth", every)]
    if not any(c.kind == "compound" for c in compound):
        raise InputError(f"no (alpha, beta, gamma) on this grid is predicted within {slack:.0%} of a latency ratio of "
                         f"{spec.target_ratio:.3g}; widen --tolerance, change --step or the ranges")
    have_reference = any(c.kind == "reference" for c in compound)
    book.where = "the paper's point and the baselines"
    return compound + [measured(p, kind) for p, kind in fixed if kind != "reference" or not have_reference]


def constraint_band(spec: GridSpec) -> tuple[float, float]:
    """The latency ratios that meet ``spec``'s constraint: the target ratio ± the tolerance."""
    return spec.target_ratio * (1 - spec.tolerance), spec.target_ratio * (1 + spec.tolerance)


def clearly_off(screen: LatencyRatio, spec: GridSpec) -> bool:
    """Whether a ratio's whole interval lies outside the constraint's band (one not measurable is not)."""
    if screen.low is None or screen.high is None:
        return False
    band_low, band_high = constraint_band(spec)
    return screen.high < band_low or screen.low > band_high


def all_points(spec: GridSpec) -> list[tuple[float, float, float]]:
    """Every compound point of ``spec``'s grid (the base itself excepted)."""
    return [(a, b, g) for a in axis_values(spec.alpha_range, spec.step) for b in axis_values(spec.beta_range, spec.step)
            for g in axis_values(spec.gamma_range, spec.step) if not a == b == g == 1.0]


def latency_fixed_points(spec: GridSpec, fit: LatencyFit) -> list[tuple[tuple[float, float, float], CandidateKind]]:
    """The paper's point and (``spec.baselines``) the baselines, matched in predicted latency: the fixed points of the
    grid's MACs twin, each single-dimension and fast point scaled on its own axis to the predicted target."""
    points = fixed_points(replace(spec, cost="macs"))
    base_counts = analytic_counts(spec.base_cost_layout())
    matched: list[tuple[tuple[float, float, float], CandidateKind]] = []
    for point, kind in points:
        if kind == "reference":
            matched.append((point, kind))
            continue
        axis_point = list(point)
        moving = [i for i, value in enumerate(point) if value != 1.0]

        def miss(scale: float, moving: list[int] = moving, start: list[float] = axis_point) -> float:
            candidate = tuple(1 + (value - 1) * scale if i in moving else 1.0 for i, value in enumerate(start))
            counts = analytic_counts(cost_layout(spec, *candidate))
            ratio = fit.predict(counts.macs / base_counts.macs, counts.activations / base_counts.activations)
            return abs(ratio - spec.target_ratio)

        best = min((s / 100 for s in range(20, 301)), key=lambda s: (miss(s), s))
        alpha, beta, gamma = (round(1 + (value - 1) * best, 6) if i in moving else 1.0
                              for i, value in enumerate(axis_point))
        matched.append(((alpha, beta, gamma), kind))
    return matched


@dataclass(frozen=True)
class GrowthTiming:
    """Where growth per φ is timed: at most at ``largest_phi``, and only members whose latency ``fit`` predicts (from
    the base's ``base_ms``) within ``budget_ms`` per call."""

    fit: LatencyFit
    base_ms: float
    largest_phi: int
    budget_ms: float


def measure_latency_candidate(spec: GridSpec, coefficients: tuple[float, float, float], kind: CandidateKind,
                              counter: Callable[[Layout], Counts], book: LatencyBook, growth: GrowthTiming,
                              outside: tuple[float, float] | None = None) -> Candidate:
    """One candidate of a latency grid: counted like any, its latency ratio timed at the cost scale and at its growth
    member; its proxy judged in counted MACs (module docstring, "The proxy").

    A grid point passes the constraint's band as ``outside``: its cost ratio stops early outside it, and its growth
    is timed only when it meets the constraint (off it, it cannot contend). The paper's point and the baselines
    (None) are timed in full.
    """
    alpha, beta, gamma = coefficients
    proxy, cost = proxy_layout(spec, alpha, beta, gamma), cost_layout(spec, alpha, beta, gamma)
    counts, base_counts = counter(cost), counter(spec.base_cost_layout())
    at_cost = book.ratio(cost, spec.base_cost_layout(), outside=outside)
    ratio = math.nan if at_cost.ratio is None else at_cost.ratio
    on_constraint = at_cost.measurable and within(ratio, spec.target_ratio, spec.tolerance)
    at_growth: LatencyRatio | None = None
    growth_at = 1
    notes = [at_cost.reason] if at_cost.reason else []
    if outside is None or on_constraint:
        growth_member, growth_at = growth_layout(spec, coefficients, growth)
        if growth_member is not None and growth_at == spec.phi:
            at_growth = at_cost
        elif growth_member is not None:
            per_phi_precision = min(GROWTH_PRECISION_CAP, growth_at * PRECISION_SHARE * spec.growth_tolerance_used)
            at_growth = book.ratio(growth_member, spec.base_cost_layout(), per_phi_precision, quick=True)
        notes += [at_growth.reason] if at_growth is not None and at_growth.reason else []
    elif at_cost.measurable:
        notes.append("off the latency constraint: growth not timed (it cannot contend)")
    macs_ratio = counts.macs / base_counts.macs
    proxy_ratio = counter(proxy).macs / counter(spec.base_layout()).macs
    per_phi = math.nan if at_growth is None or at_growth.ratio is None else at_growth.ratio ** (1 / growth_at)
    on_growth = not math.isnan(per_phi) and within(per_phi, spec.target, spec.growth_tolerance_used)
    proxy_on_target = within(proxy_ratio, macs_ratio, spec.tolerance)
    latency = at_cost.latency
    return Candidate(alpha, beta, gamma, spec.phi, nominal_ratio(alpha, beta, gamma), ratio, counts.macs,
                     counts.params, counts.activations, cost.resolution, proxy_ratio, proxy.resolution, kind,
                     on_constraint, per_phi, growth_at, on_growth, proxy_on_target, on_growth and proxy_on_target,
                     proxy, "latency", macs_ratio, counts.activations / base_counts.activations,
                     latency_ratio=at_cost.ratio, latency_ms=None if latency is None else latency.median_ms,
                     latency_iqr_ms=None if latency is None else latency.iqr_ms,
                     cost_device=device_name(book.timing.settings),
                     latency_note=notes[0] if notes else None)


def growth_layout(spec: GridSpec, coefficients: tuple[float, float, float], growth: GrowthTiming
                  ) -> tuple[Layout | None, int]:
    """The member growth is timed at: the largest integer φ up to ``growth.largest_phi`` that can be built and whose
    predicted call fits ``growth.budget_ms`` (φ = 1 at least, when it can be built); (None, 1) when none can be."""
    base_counts = analytic_counts(spec.base_cost_layout())
    for at in range(growth.largest_phi, 0, -1):
        try:
            member = compound_layout(*coefficients, at, spec.cost_resolution, spec.cost_classes,
                                     spec.resolution_multiple, base=spec.base)
        except InputError:
            continue
        counts = analytic_counts(member)
        predicted_ms = growth.base_ms * growth.fit.predict(counts.macs / base_counts.macs,
                                                           counts.activations / base_counts.activations)
        if at == 1 or predicted_ms <= growth.budget_ms:
            return member, at
    return None, 1

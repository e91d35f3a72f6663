"""Plateaus: the (α, β, γ) a grid at φ cannot tell apart, and a refinement at 2φ that tells them apart.

Rounding makes many coefficients realise one network: ceil on repeats, multiples of 8 on
channels, rounded resolutions. At φ = 1 every α in (1, 1.25] gives B0's depths 2, 3, 3, 4, 4, 5, 2,
so training at φ = 1 says nothing about which of them is best; yet φ = 7 depth moves from 1.0×
to 1.25⁷ = 4.77× across them. The coefficients that realise the same proxy network *and* the
same cost-scale network at φ form a box (depth depends only on α, width only on β, resolution
only on γ, each monotonically): its :class:`Plateau`. A result is reported as that box and a
representative chosen by a stated rule (the midpoint), not as the box's smallest corner.

At 2φ the box splits into several networks. :func:`refinement_points` takes a finer grid inside
the winning box, keeps the networks that contend at 2φ (their family grows as promised and they
train with the target compute there), and returns one candidate for each, to be trained next.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from scaling_search.coefficients.grid import (
    Candidate,
    GridSpec,
    cost_layout,
    growth_of,
    measure,
    nominal_ratio,
    proxy_layout,
    within,
)
from scaling_search.counting.analytic import Counts
from scaling_search.counting.counter import Counter, count_all
from scaling_search.errors import InputError
from scaling_search.models.scaling import Layout

Coefficients = tuple[float, float, float]
Interval = tuple[float, float]
AXES = ("alpha", "beta", "gamma")
REPRESENTATIVE_DECIMALS = 4
"""The representative is rounded like a candidate's id (``a1.1250-b1.1016-g1.1429``)."""
BOUND_DECIMALS = 6
SPREAD_DECIMALS = 4


@dataclass(frozen=True)
class Plateau:
    """The (α, β, γ) at ``phi`` that realise the same proxy and cost-scale networks as ``point``: a box.

    The box is clipped to the grid's ranges (:func:`plateau`), or for a refinement point to its parent.

    Each of ``alpha``, ``beta``, ``gamma`` is ``(lo, hi)``: the smallest and the largest float
    coefficient on that axis that realises the same networks (the other two held anywhere in the
    box), found by bisection down to adjacent floats. Every float in ``[lo, hi]`` belongs and none
    outside, so ``lo`` and ``hi`` are the class's infimum and supremum over the reals to within
    one ulp (≪ 1e-9). Whether the real end point itself belongs depends on the rounding that binds
    there: for φ > 0 ceil on repeats leaves the lower end open and the upper closed (α: (1, 1.25]
    is reported as (1.0000000000000002, 1.25)); rounding channels to 8 closes the lower end, the
    10 % rule the upper; Python's half-to-even ``round`` on resolution closes both ends around an
    even value and opens both around an odd one; a negative φ swaps open and closed. An end
    clipped to a range belongs.

    Example: α = 1.2 at φ = 1 stands for every α in (1, 1.25]; the midpoint is exported

        >>> from scaling_search.coefficients.plateaus import Plateau
        >>> box = Plateau(point=(1.2, 1.1, 1.15), phi=1.0, alpha=(1.0000000000000002, 1.25),
        ...               beta=(1.1, 1.103125), gamma=(1.133929, 1.151786))
        >>> box.representative(), box.is_wide(0.05), box.contains((1.05, 1.1, 1.15))
        ((1.125, 1.1016, 1.1429), True, True)
    """

    point: Coefficients
    phi: float
    alpha: Interval
    beta: Interval
    gamma: Interval

    @property
    def intervals(self) -> tuple[Interval, Interval, Interval]:
        return (self.alpha, self.beta, self.gamma)

    def bounds(self) -> dict[str, list[float]]:
        """``{"alpha": [lo, hi], "beta": [...], "gamma": [...]}`` rounded to 6 decimals, ready for JSON."""
        return {name: [round(lo, BOUND_DECIMALS), round(hi, BOUND_DECIMALS)]
                for name, (lo, hi) in zip(AXES, self.intervals, strict=True)}

    def representative(self) -> Coefficients:
        """The stated rule: each interval's midpoint rounded to 4 decimals, or unrounded where rounding leaves it."""
        alpha, beta, gamma = (midpoint(interval) for interval in self.intervals)
        return (alpha, beta, gamma)

    def is_wide(self, step: float) -> bool:
        """Whether an interval is longer than ``step``: a grid on that step cannot tell some of its points apart."""
        return any(hi - lo > step for lo, hi in self.intervals)

    def contains(self, coefficients: Sequence[float]) -> bool:
        """Whether ``coefficients`` lie in the box, so realise the same networks as ``point`` at ``phi``."""
        return all(lo <= value <= hi for value, (lo, hi) in zip(coefficients, self.intervals, strict=True))


def midpoint(interval: Interval) -> float:
    """An interval's midpoint rounded to 4 decimals, or unrounded when the rounded value falls outside it."""
    lo, hi = interval
    middle = (lo + hi) / 2
    rounded = round(middle, REPRESENTATIVE_DECIMALS)
    return rounded if lo <= rounded <= hi else middle


def plateau(spec: GridSpec, coefficients: Sequence[float], phi: float | None = None) -> Plateau:
    """The box of (α, β, γ) that realise the same proxy and cost-scale networks as ``coefficients`` at ``phi``.

    ``phi`` defaults to ``spec.phi``; any non-zero φ works, negative too. Each axis's interval is
    found by bisection on the realised networks (holding the other two coefficients fixed) down to
    adjacent floats, so no rounding rule is re-derived here: whatever
    :func:`~scaling_search.coefficients.grid.proxy_layout` and
    :func:`~scaling_search.coefficients.grid.cost_layout` build is what is compared (``Layout.structure_key``).
    The box is clipped to ``spec``'s ranges, the only coefficients the search considered. Raises
    InputError when ``coefficients`` lie outside those ranges, or ``phi`` does not fit ``spec``.

    Example: the paper's point at φ = 1, proxy at 32 px, cost at 224 px

        >>> from scaling_search.coefficients.grid import GridSpec
        >>> from scaling_search.coefficients.plateaus import plateau
        >>> box = plateau(GridSpec(base_resolution=32, num_classes=10), (1.2, 1.1, 1.15))
        >>> box.bounds()
        {'alpha': [1.0, 1.25], 'beta': [1.1, 1.103125], 'gamma': [1.133929, 1.151786]}
        >>> box.representative(), box.is_wide(0.05)
        ((1.125, 1.1016, 1.1429), True)
    """
    at = spec if phi is None or phi == spec.phi else replace(spec, phi=phi)
    alpha, beta, gamma = (float(value) for value in coefficients)
    ranges = (spec.alpha_range, spec.beta_range, spec.gamma_range)
    outside = [f"{name} {value:g} is outside {lo:g}..{hi:g}"
               for name, value, (lo, hi) in zip(AXES, (alpha, beta, gamma), ranges, strict=True)
               if not lo <= value <= hi]
    if outside:
        raise InputError(f"a plateau is taken within the grid's ranges: {'; '.join(outside)}")
    return box(at, (alpha, beta, gamma), ranges)


def box(spec: GridSpec, point: Coefficients, limits: tuple[Interval, Interval, Interval]) -> Plateau:
    """``point``'s plateau at ``spec.phi`` within ``limits`` (one interval per axis, ``point`` inside them)."""
    alpha, beta, gamma = (axis_interval(spec, point, axis, limits[axis]) for axis in range(3))
    return Plateau(point, spec.phi, alpha, beta, gamma)


def axis_interval(spec: GridSpec, point: Coefficients, axis: int, limits: Interval) -> Interval:
    """The smallest and largest float on ``axis`` within ``limits`` whose networks at ``spec.phi`` are ``point``'s."""
    networks = realised(spec, point)

    def same(value: float) -> bool:
        return realised(spec, moved(point, axis, value)) == networks

    value = point[axis]
    return edge(same, value, limits[0]), edge(same, value, limits[1])


def realised(spec: GridSpec, coefficients: Coefficients) -> tuple[tuple, tuple]:
    """What a candidate is trained as and what its cost is measured on: the proxy's and the cost-scale network."""
    return (proxy_layout(spec, *coefficients).structure_key(), cost_layout(spec, *coefficients).structure_key())


def moved(point: Coefficients, axis: int, value: float) -> Coefficients:
    alpha, beta, gamma = (value if index == axis else coefficient for index, coefficient in enumerate(point))
    return (alpha, beta, gamma)


def edge(same: Callable[[float], bool], inside: float, outside: float) -> float:
    """The float nearest ``outside`` (``outside`` included) for which ``same`` holds, ``same(inside)`` given.

    ``same`` must hold on an interval around ``inside``; bisection ends when the two ends are adjacent floats.
    """
    if same(outside):
        return outside
    while (middle := (inside + outside) / 2) not in (inside, outside):
        if same(middle):
            inside = middle
        else:
            outside = middle
    return inside


def plateau_spread(plateau: Plateau, phis: Sequence[float]) -> list[dict[str, object]]:
    """How far depth α^φ, width β^φ and resolution γ^φ (as a multiplier) move across ``plateau`` at each φ.

    One row per φ: ``{"phi": φ, "depth": [lo, hi], "width": [lo, hi], "resolution": [lo, hi]}``,
    multipliers rounded to 4 decimals (lo ≤ hi also for a negative φ). The spread is what the grid
    at ``plateau.phi`` leaves undecided about the network at φ.

    Example: the paper's class at φ = 1, seen at φ = 7

        >>> from scaling_search.coefficients.grid import GridSpec
        >>> from scaling_search.coefficients.plateaus import plateau, plateau_spread
        >>> box = plateau(GridSpec(base_resolution=32, num_classes=10), (1.2, 1.1, 1.15))
        >>> plateau_spread(box, [7])
        [{'phi': 7, 'depth': [1.0, 4.7684], 'width': [1.9487, 1.9878], 'resolution': [2.4105, 2.6891]}]
    """
    return open_spread([plateau.intervals], phis)


def open_spread(boxes: Sequence[tuple[Interval, Interval, Interval]], phis: Sequence[float]) -> list[dict[str, object]]:
    """:func:`plateau_spread` over several plateaus at once: at each φ, the smallest and largest multiplier in any.

    ``boxes`` are (α, β, γ) intervals: the winner's plateau and those of the candidates it was not
    resolved from, so the rows say what the answer could also have been at each φ.

        >>> open_spread([((1.0, 1.25), (1.1, 1.1), (1.0, 1.0)), ((1.0, 1.0), (1.2, 1.2), (1.0, 1.0))], [2])
        [{'phi': 2, 'depth': [1.0, 1.5625], 'width': [1.21, 1.44], 'resolution': [1.0, 1.0]}]
    """
    rows = []
    for phi in phis:
        row: dict[str, object] = {"phi": phi}
        for axis, name in enumerate(("depth", "width", "resolution")):
            ends = [end**phi for box in boxes for end in box[axis]]
            row[name] = [round(min(ends), SPREAD_DECIMALS), round(max(ends), SPREAD_DECIMALS)]
        rows.append(row)
    return rows


@dataclass(frozen=True)
class RefinementPoint:
    """One network a plateau splits into at the refinement's φ, and the candidate that stands for it.

    ``coefficients`` is the representative (:meth:`Plateau.representative`) of ``plateau``: the
    box of the network at the refinement's φ, clipped to the parent plateau (under the nominal
    constraint, a grid point instead: see :func:`refinement_points`). ``candidate`` is measured at
    the refinement's φ and contends there.
    """

    coefficients: Coefficients
    plateau: Plateau
    candidate: Candidate


def refinement_points(spec: GridSpec, parent: Plateau, counter: Counter, *, step: float | None = None,
                      phi: float | None = None, limit: int | None = None) -> list[RefinementPoint]:
    """One candidate per network that ``parent`` splits into at ``phi`` (default 2 · ``parent.phi``) that contends.

    Without ``step`` (measured constraint) the split is exact: each axis's classes at ``phi`` are
    walked end to end by bisection (:func:`axis_classes`), as if on an infinitely fine step. With
    a ``step`` (and under the nominal constraint, where it defaults to ``spec.step / 5``), the
    finer grid, aligned to the low end of ``spec``'s ranges, is taken inside ``parent`` on each
    axis, every value that lies in the box (a value on an open end lies outside it); an axis where
    the box holds no such value contributes its midpoint. The grid points are grouped by the proxy
    and cost-scale networks they realise at ``phi``; each group's box (its plateau at ``phi``
    clipped to ``parent``) is measured with ``counter`` at ``spec``'s scale and ``phi`` and kept
    when it contends at ``phi`` (its family grows as promised and its proxy trains within tolerance
    of target^phi; :class:`~scaling_search.coefficients.grid.Candidate`). Its representative (the
    midpoint rule) stands for it. Under
    ``spec.constraint == "nominal"`` the constraint is on the continuous α·β²·γ², not on the
    network: then a group is kept when some of its grid points meet it, and the one nearest the
    box's midpoint (the smallest on a tie) stands for the group instead.

    Points are ordered by coefficients; ``limit`` keeps at most that many, evenly spread over that
    order. The list is empty when no group contends (the caller keeps the φ result).
    Raises InputError when ``step``, ``limit`` or ``phi`` are invalid for ``spec`` in the box.

    A box narrower than ``step`` on an axis shows only the networks its grid values realise: the
    class of (1.0, 1.05, 1.35) at a 224 px proxy splits into 12 contenders at φ = 2; the exact
    split finds all 12, a step of 0.001 nine, 0.01 two. Groups whose family's growth (counted in
    closed form, exactly) misses the target are not counted with ``counter``.

    Example: a contender's class at φ = 1 (proxy at 224 px), refined exactly at φ = 2, the first and last
    of its 12 contending networks

        >>> from scaling_search.counting.analytic import analytic_counts
        >>> from scaling_search.coefficients.grid import GridSpec
        >>> from scaling_search.coefficients.plateaus import plateau, refinement_points
        >>> spec = GridSpec(base_resolution=224, num_classes=10)
        >>> found = refinement_points(spec, plateau(spec, (1.0, 1.05, 1.35)), analytic_counts, limit=2)
        >>> [(p.coefficients, p.candidate.resolution, round(p.candidate.proxy_ratio, 3)) for p in found]
        [((1.0, 1.0501, 1.3506), 408, 3.911), ((1.0, 1.0527, 1.3628), 416, 4.153)]
    """
    if limit is not None and limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}")
    lows = (spec.alpha_range[0], spec.beta_range[0], spec.gamma_range[0])
    refine = replace(spec, phi=2 * parent.phi if phi is None else phi, step=spec.step / 5 if step is None else step,
                     alpha_range=parent.alpha, beta_range=parent.beta, gamma_range=parent.gamma)
    middle = parent.representative()
    if step is None and refine.constraint == "measured":
        axes = [axis_classes(refine, middle, axis) for axis in range(3)]
    else:
        axes = [axis_groups(refine, middle, axis, fine_values(low, interval, refine.step) or [middle[axis]])
                for axis, (low, interval) in enumerate(zip(lows, parent.intervals, strict=True))]
    chosen: list[tuple[Coefficients, Plateau]] = []
    for groups in itertools.product(*axes):
        (alpha, alpha_values), (beta, beta_values), (gamma, gamma_values) = groups
        sub = Plateau((alpha_values[0], beta_values[0], gamma_values[0]), refine.phi, alpha, beta, gamma)
        if refine.constraint == "measured":
            chosen.append((sub.representative(), sub))
            continue
        target = sub.representative()
        meeting = [p for p in itertools.product(alpha_values, beta_values, gamma_values)
                   if within(nominal_ratio(*p), refine.target, refine.tolerance)]
        if meeting:
            nearest = min(meeting, key=lambda p: (math.dist(p, target), p))
            chosen.append((nearest, sub))
    # growth is counted in closed form, exactly: a point off it cannot contend and needs no counting
    chosen = [(p, sub) for p, sub in chosen
              if growth_of(refine, p).on_growth(refine.target, refine.growth_tolerance_used)]
    layouts = [refine.base_cost_layout(), refine.base_layout()]
    layouts += [layout(refine, *p) for p, _ in chosen for layout in (cost_layout, proxy_layout)]
    counts = count_all(counter, layouts)

    def known(layout: Layout) -> Counts:
        return counts[layout.structure_key()]

    points = [RefinementPoint(p, sub, measure(refine, p, "compound", known)) for p, sub in chosen]
    points = sorted((point for point in points if point.candidate.contender), key=lambda p: p.coefficients)
    return points if limit is None else evenly(points, limit)


def fine_values(low: float, interval: Interval, step: float) -> list[float]:
    """The values ``low + i · step`` inside ``interval``, rounded as :func:`.grid_checks.axis_values` does."""
    lo, hi = interval
    first = max(0, math.floor((lo - low) / step))
    last = math.ceil((hi - low) / step)
    values = (round(low + i * step, 10) for i in range(first, last + 1))
    return [value for value in values if lo <= value <= hi]


def axis_classes(spec: GridSpec, point: Coefficients, axis: int) -> list[tuple[Interval, list[float]]]:
    """Every class on ``axis`` within ``spec``'s range at ``spec.phi``, in order, each with its midpoint.

    Exact: what :func:`axis_groups` finds on an infinitely fine step. Each class is found by
    bisection (:func:`axis_interval`) and the next starts at the float after its end.
    """
    limits = (spec.alpha_range, spec.beta_range, spec.gamma_range)[axis]
    classes: list[tuple[Interval, list[float]]] = []
    value = limits[0]
    while value <= limits[1]:
        interval = axis_interval(spec, moved(point, axis, value), axis, limits)
        classes.append((interval, [midpoint(interval)]))
        value = math.nextafter(interval[1], math.inf)
    return classes


def axis_groups(spec: GridSpec, point: Coefficients, axis: int, values: list[float]
                ) -> list[tuple[Interval, list[float]]]:
    """``values`` (ascending) grouped by the networks they realise on ``axis`` at ``spec.phi``, each with its interval.

    The intervals are clipped to ``spec``'s range on that axis; the other coefficients are held at ``point``'s
    (an axis's interval does not depend on them).
    """
    limits = (spec.alpha_range, spec.beta_range, spec.gamma_range)[axis]
    groups: list[tuple[Interval, list[float]]] = []
    for value in values:
        if groups and groups[-1][0][0] <= value <= groups[-1][0][1]:
            groups[-1][1].append(value)
        else:
            groups.append((axis_interval(spec, moved(point, axis, value), axis, limits), [value]))
    return groups


def evenly(items: list, limit: int) -> list:
    """At most ``limit`` of ``items``, evenly spaced over their order (first and last kept), as the plan spreads."""
    if len(items) <= limit:
        return items
    if limit == 1:
        return [items[len(items) // 2]]
    return [items[round(i * (len(items) - 1) / (limit - 1))] for i in range(limit)]


GROWTH_STEPS = 20
"""How finely :func:`growing_representative` walks from the trained point to the midpoint."""


def growing_representative(spec: GridSpec, box: Plateau, trained: Coefficients) -> Coefficients:
    """The plateau's representative whose family grows as promised: the midpoint rule, kept on the growth target.

    Every point of the box trains and costs the same networks at the box's φ, but their families
    grow differently (α from 1.0 to 1.25 is 1.0× to 4.8× the depth at φ = 7). The midpoint is
    exported when its family's growth per φ lies within ``spec``'s growth tolerance of the target;
    otherwise the point nearest the midpoint, on the segment from the ``trained`` contender to it
    (in :data:`GROWTH_STEPS` steps, each rounded like the midpoint and kept inside the box), whose
    family does; at worst ``trained`` itself, which grows as promised when it contends. When no
    point on the way does (``trained`` did not contend), the midpoint stands, as the rule says.
    Under a latency grid, whose growth is timed only for the networks it trained, ``trained`` stands.

    Example: a contender at a 224 px proxy; its plateau's midpoint grows as promised, so it stands

        >>> from scaling_search.coefficients.grid import GridSpec, growth_of
        >>> from scaling_search.coefficients.plateaus import growing_representative, plateau
        >>> spec = GridSpec(base_resolution=224, num_classes=10)
        >>> point = growing_representative(spec, plateau(spec, (1.0, 1.05, 1.35)), (1.0, 1.05, 1.35))
        >>> point, round(growth_of(spec, point).per_phi, 3)
        ((1.0, 1.0516, 1.3571), 2.025)
    """
    if spec.cost == "latency":  # latency growth is timed for trained networks only: the data speak for ``trained``
        return trained
    middle = box.representative()
    for index in range(GROWTH_STEPS, -1, -1):
        share = index / GROWTH_STEPS
        alpha, beta, gamma = (round(t + share * (m - t), REPRESENTATIVE_DECIMALS)
                              for t, m in zip(trained, middle, strict=True))
        point = middle if index == GROWTH_STEPS else (alpha, beta, gamma)
        if box.contains(point) and growth_of(spec, point).on_growth(spec.target, spec.growth_tolerance_used):
            return point
    return middle

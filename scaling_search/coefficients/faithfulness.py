"""Where the proxy is faithful: per proxy base resolution, how many of the grid's γ train with the compute they cost.

Candidates are compared in cost at the cost scale (224 px by default) but trained at a small
proxy resolution, where one more input pixel can add whole rows of feature maps, so the compute
a candidate trains with can be far from what it is charged for (docs/proxy.md).
For a grid (its base, γ range and step, φ, cost scale and tolerance) and a ladder of proxy base
resolutions this module says, per resolution (:class:`Faithfulness`):

* of the pure resolution points (α = β = 1, every γ > 1 of the grid), the share whose proxy cost
  ratio lies within ``tolerance`` of their cost-scale cost ratio (``proxy_ratio / cost_ratio``
  within 1 ± tolerance), and the worst deviation ``|proxy_ratio / cost_ratio - 1|``;
* how many contenders the full grid has there (:mod:`~scaling_search.coefficients.grid`:
  growth as promised and proxy compute within tolerance of the target), and which trained
  resolutions and γ > 1 they hold.

**Where γ can be searched** (:attr:`Faithfulness.searchable`): at a resolution where

1. the contenders hold at least :data:`MIN_SEARCHABLE` (two) distinct γ > 1 that train at
   distinct resolutions above the base resolution: one such γ gives a search nothing to compare
   it with, and two γ that round to the same trained resolution, or to the base's, are one
   network as far as resolution goes; and
2. the proxy is faithful for most of the grid's γ: more than half of the pure resolution points
   keep their proxy compute within tolerance (``share`` > 1/2). Where most of them are off, which
   points contend is an accident of rounding (some points' proxies happen to round to the target
   compute), and the points between them that refinement and TPE try fall out again; with the
   first condition alone a proxy most of whose γ train far off their cost could be picked
   (docs/proxy.md has B0's cases).

:func:`pick_resolution` takes the smallest rung of a ladder where both hold (the cheapest proxy
that can answer the question), or None when no rung does.

Counting is in closed form only. What does not depend on the proxy is done once for the whole
ladder: the grid's closed-form pre-filter and each point's growth (both at the cost scale); each
rung then counts only the proxy networks of the points that grow as promised. That gives the same
contenders as :func:`~scaling_search.coefficients.grid.candidates` at each resolution (a test
holds them equal) for about the cost of one call to it (docs/proxy.md has the timings).

Example: B0's default grid at a 32 px and a 160 px proxy

    >>> from scaling_search.coefficients.faithfulness import faithfulness, pick_resolution
    >>> from scaling_search.coefficients.grid import GridSpec
    >>> rows = faithfulness(GridSpec(num_classes=10), [32, 160])
    >>> [(r.resolution, round(r.share, 2), r.searchable_gammas) for r in rows]
    [(32, 0.0, ()), (160, 0.6, (1.3, 1.35, 1.4))]
    >>> pick_resolution(rows)
    160
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from scaling_search.coefficients.grid import (
    GridSpec,
    cost_layout,
    fixed_points,
    grid_points,
    growth_of,
    proxy_layout,
    within,
)
from scaling_search.coefficients.grid_checks import axis_values
from scaling_search.counting.analytic import Counts, analytic_counts
from scaling_search.counting.cost_kind import counted_cost
from scaling_search.errors import InputError
from scaling_search.models.layout import Layout
from scaling_search.models.scaling import MAX_RESOLUTION, MIN_RESOLUTION

DEFAULT_LADDER = (32, 48, 64, 96, 128, 160, 192, 224)
"""Proxy base resolutions looked at by default: the usual proxies (32, 64) up to B0's own 224 px."""
PROXY_CLASSES = 10
"""The proxy's classifier outputs when the dataset's are not known: CIFAR-10's and the built-in synthetic task's."""
MIN_SEARCHABLE = 2
"""How many distinct γ > 1, training at distinct resolutions above the base, make γ searchable at a resolution."""
MIN_SHARE = 0.5
"""The share of the grid's pure resolution points within tolerance that γ's search needs to exceed."""


@dataclass(frozen=True)
class Contender:
    """What a rung needs of a contender: its γ and the resolution it trains at."""

    gamma: float
    resolution: int


@dataclass(frozen=True)
class Faithfulness:
    """How faithful a proxy at ``resolution`` px is to the cost scale, for one grid.

    ``gammas``: the grid's γ > 1 (α = β = 1); ``faithful_gammas``: those whose proxy cost ratio
    lies within the tolerance of their cost-scale cost ratio; ``share`` = their fraction;
    ``worst_deviation`` = the largest ``|proxy_ratio / cost_ratio - 1|`` among ``gammas``, at
    ``worst_gamma``. ``contenders``: how many candidates of the full grid (and the paper's point,
    for B0) are contenders there; ``contender_gammas`` and ``contender_resolutions``: the
    distinct γ and trained resolutions they hold; ``searchable_gammas``: the γ > 1 among them
    whose trained resolution is above ``resolution``, one per trained resolution (the smallest γ
    of each); ``searchable``: whether γ can be searched here (the module's rule).
    """

    resolution: int
    gammas: tuple[float, ...]
    faithful_gammas: tuple[float, ...]
    worst_deviation: float
    worst_gamma: float | None
    contenders: int
    contender_gammas: tuple[float, ...]
    contender_resolutions: tuple[int, ...]
    searchable_gammas: tuple[float, ...]

    @property
    def share(self) -> float:
        """The fraction of the grid's γ > 1 whose proxy compute lies within tolerance (0 when the grid has none)."""
        return len(self.faithful_gammas) / len(self.gammas) if self.gammas else 0.0

    @property
    def searchable(self) -> bool:
        """Whether γ can be searched here: enough contending γ > 1 at distinct resolutions, on a faithful proxy."""
        return len(self.searchable_gammas) >= MIN_SEARCHABLE and self.share > MIN_SHARE

    def to_dict(self) -> dict[str, object]:
        """The JSON row (``scaling-search proxy --json``)."""
        return {
            "resolution": self.resolution,
            "gammas": len(self.gammas),
            "faithful_gammas": list(self.faithful_gammas),
            "share": self.share,
            "worst_deviation": self.worst_deviation,
            "worst_gamma": self.worst_gamma,
            "contenders": self.contenders,
            "contender_gammas": list(self.contender_gammas),
            "contender_resolutions": list(self.contender_resolutions),
            "searchable_gammas": list(self.searchable_gammas),
            "searchable": self.searchable,
        }


def check_ladder(resolutions: Iterable[int]) -> list[int]:
    """The ladder's distinct resolutions, smallest first; InputError for an empty ladder or one out of range."""
    ladder = sorted(set(resolutions))
    if not ladder:
        raise InputError("name at least one proxy base resolution")
    for resolution in ladder:
        if isinstance(resolution, bool) or not isinstance(resolution, int) \
                or not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
            raise InputError(f"a proxy base resolution must be an integer in [{MIN_RESOLUTION}, {MAX_RESOLUTION}], "
                             f"got {resolution!r}")
    return ladder


def faithfulness(spec: GridSpec, resolutions: Iterable[int],
                 progress: Callable[[int, int], None] | None = None) -> list[Faithfulness]:
    """How faithful a proxy at each of ``resolutions`` px is for ``spec``'s grid (its own base resolution ignored).

    Every rung uses ``spec`` with that base resolution: its base, φ, γ range and step, tolerance,
    growth tolerance, cost scale and classes. Raises InputError for an empty ladder, a resolution
    out of range or not a multiple of ``spec.resolution_multiple``. ``progress(scanned, total)``
    hears how much of the grid the pre-filter has covered (most of the time is spent there).
    """
    ladder = check_ladder(resolutions)
    specs = [replace(spec, base_resolution=resolution, baselines=False) for resolution in ladder]
    count = memoized(analytic_counts)
    points = list(grid_points(specs[0], progress))
    points += [p for p, _ in fixed_points(specs[0]) if p not in points]
    growing = [p for p in points if growth_of(spec, p).on_growth(spec.target, spec.growth_tolerance_used)]
    return [rung_faithfulness(rung, [contender(rung, p, count) for p in growing], count) for rung in specs]


def contender(spec: GridSpec, coefficients: tuple[float, float, float], count: Callable[[Layout], Counts]
              ) -> Contender | None:
    """``coefficients``' proxy γ and resolution at ``spec``'s proxy when it trains with the target compute, else None.

    The caller has kept only points whose family grows as promised, so this is the rest of the
    contender rule of :func:`~scaling_search.coefficients.grid.measure` (``proxy_on_target``).
    """
    proxy = proxy_layout(spec, *coefficients)
    ratio = counted_cost(count(proxy), spec.cost) / counted_cost(count(spec.base_layout()), spec.cost)
    return Contender(coefficients[2], proxy.resolution) if within(ratio, spec.target_ratio, spec.tolerance) else None


def rung_faithfulness(spec: GridSpec, found: Sequence[Contender | None], count: Callable[[Layout], Counts]
                      ) -> Faithfulness:
    """One rung: the pure resolution points' faithfulness and the contenders' γ, at ``spec.base_resolution``."""
    contenders = [c for c in found if c is not None]
    base_proxy, base_cost = (counted_cost(count(layout), spec.cost) for layout in (spec.base_layout(),
                                                                                   spec.base_cost_layout()))
    gammas = tuple(g for g in axis_values(spec.gamma_range, spec.step) if g > 1)
    deviations = []
    for gamma in gammas:
        proxy_ratio = counted_cost(count(proxy_layout(spec, 1.0, 1.0, gamma)), spec.cost) / base_proxy
        cost_ratio = counted_cost(count(cost_layout(spec, 1.0, 1.0, gamma)), spec.cost) / base_cost
        deviations.append(proxy_ratio / cost_ratio - 1)
    faithful = tuple(g for g, d in zip(gammas, deviations, strict=True) if within(1 + d, 1.0, spec.tolerance))
    worst = max(range(len(gammas)), key=lambda i: abs(deviations[i]), default=None)
    by_resolution: dict[int, float] = {}
    for c in sorted(contenders, key=lambda c: c.gamma):
        if c.gamma > 1 and c.resolution > spec.base_resolution:
            by_resolution.setdefault(c.resolution, c.gamma)
    return Faithfulness(
        resolution=spec.base_resolution,
        gammas=gammas,
        faithful_gammas=faithful,
        worst_deviation=0.0 if worst is None else abs(deviations[worst]),
        worst_gamma=None if worst is None else gammas[worst],
        contenders=len(contenders),
        contender_gammas=tuple(sorted({c.gamma for c in contenders})),
        contender_resolutions=tuple(sorted({c.resolution for c in contenders})),
        searchable_gammas=tuple(sorted(by_resolution.values())),
    )


def pick_resolution(rows: Sequence[Faithfulness]) -> int | None:
    """The smallest resolution of ``rows`` where γ can be searched (:attr:`Faithfulness.searchable`), else None."""
    return min((row.resolution for row in rows if row.searchable), default=None)


def default_resolution(spec: GridSpec, resolutions: Iterable[int] = DEFAULT_LADDER) -> int:
    """The proxy base resolution a study of ``spec``'s grid trains at when it names none (on a GPU).

    The smallest rung of ``resolutions`` (each rounded up to ``spec.resolution_multiple``) where
    γ can be searched; when none is, the most faithful rung (the largest share of γ within
    tolerance, the smallest of equals), where at least the proxy's compute tracks the cost scale.
    """
    multiple = spec.resolution_multiple
    ladder = {-(-resolution // multiple) * multiple for resolution in check_ladder(resolutions)}
    return searchable_or_faithful(replace(spec, base_resolution=min(ladder)), tuple(sorted(ladder)))


@functools.lru_cache(maxsize=16)
def searchable_or_faithful(spec: GridSpec, ladder: tuple[int, ...]) -> int:
    """:func:`default_resolution`'s answer, kept per grid and ladder: resolving the same defaults again is free."""
    rows = faithfulness(spec, ladder)
    picked = pick_resolution(rows)
    return picked if picked is not None else max(rows, key=lambda row: (row.share, -row.resolution)).resolution


def memoized(counter: Callable[[Layout], Counts]) -> Callable[[Layout], Counts]:
    """``counter`` counting each distinct network once (networks differing only in their coefficients are one)."""
    known: dict[object, Counts] = {}

    def count(layout: Layout) -> Counts:
        key = layout.structure_key()
        if key not in known:
            known[key] = counter(layout)
        return known[key]

    return count

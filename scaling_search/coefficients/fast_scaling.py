"""Fast compound scaling (Dollár, Singh & Girshick 2021): most of the cost into width, as (α, β, γ) per φ.

"Fast and Accurate Model Scaling" (CVPR 2021) scales a network's FLOPs by ``s`` by scaling depth
by ``s^e_d``, width by ``s^(e_w/2)`` and resolution by ``s^(e_r/2)``, with ``e_d + e_w + e_r = 1``
(FLOPs grow as depth · width² · resolution²). Their fast scaling, "dWr", puts a share ``α_w`` of
the exponent into width and splits the rest equally: ``e_w = α_w``, ``e_d = e_r = (1 − α_w) / 2``.
Activations grow as depth · width · resolution², so as ``s^(e_d + e_w/2 + e_r)``: ``s^0.6`` at
their ``α_w = 0.8``, against ``s^0.85`` for EfficientNet's (1.2, 1.1, 1.15) (activations 1.746× per φ for
1.92× the cost), and the network runs faster for the same FLOPs: on GPUs runtime follows activations
more closely than FLOPs (their Sec. 3).

In this tool's terms, a family that multiplies its cost by ``target`` per unit of φ has
``α = target^e_d``, ``β = target^(e_w/2)``, ``γ = target^(e_r/2)`` (:func:`fast_coefficients`).
Those are nominal: the realised network rounds repeats up, channels to multiples of 8 and the
resolution, so its counted cost can be far from ``target`` (on B0 at 224 px, any depth above 1
adds a block to every stage). :func:`matched_fast_coefficients` keeps the rule's proportions and
searches how much to scale so that a cost the caller measures is nearest its target.

A family is matched by its growth per φ (:func:`fast_point`, what ``scaling-search derive --fast``
derives): matched at φ = 1 instead, B0's rounding of repeats (any depth above 1 adds a block to
each of its seven stages, 1.48× the cost) forces the width down to (1.024, 1.101, 1.012), whose
family grows 1.32× per φ, not 2×. A grid's fast candidate is matched at the study's φ instead, like
the single-dimension baselines, because it is trained there beside them.

Example: the default split, and what it does to activations

    >>> from scaling_search.coefficients.fast_scaling import activation_exponent, fast_coefficients, fast_exponents
    >>> fast_exponents(0.8)
    (0.1, 0.8, 0.1)
    >>> [round(c, 4) for c in fast_coefficients()], round(activation_exponent(0.8), 6)
    ([1.0718, 1.3195, 1.0353], 0.6)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from scaling_search.coefficients.growth import family_growth
from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.cost_kind import CostKind, check_cost_kind, counted_cost
from scaling_search.errors import InputError
from scaling_search.models.architecture import EFFICIENTNET_B0, IMAGENET_CLASSES, RESOLUTION_MULTIPLE, BaseArchitecture
from scaling_search.models.scaling import base_layout, compound_layout

Coefficients = tuple[float, float, float]
"""(α, β, γ): depth, width and resolution multipliers per unit of φ."""

FAST_WIDTH_SHARE = 0.8
"""The share of the cost exponent fast scaling gives to width: α = 0.8 in Dollár, Singh & Girshick, "Fast and
Accurate Model Scaling", CVPR 2021 (arXiv:2103.06877), their dWr; the authors' pycls names it ``d1_w8_g8_r1``
(``pycls/models/scaler.py``: weights 1, 8, 1 of depth, width, resolution, i.e. exponents 0.1, 0.8, 0.1)."""
SEARCH_LOG_STEP = 0.002
"""Step of the 1-D search in the logarithm of the per-φ cost factor: 0.2 % of nominal cost per step, finer than
the steps rounding makes in the counted cost (the same role as grid.single_dimension's 0.005)."""
SEARCH_REACH = 2.0
"""How far the search goes, as a power of the nominal per-φ factor: up to the square of the factor the target asks
for, so a point that rounding makes cheaper than nominal can still be matched."""


def fast_exponents(width_share: float = FAST_WIDTH_SHARE) -> tuple[float, float, float]:
    """(e_d, e_w, e_r): the cost exponents of depth, width and resolution, summing to 1; width takes ``width_share``.

    Depth and resolution split the rest equally. ``width_share`` must lie in (0, 1] (InputError).

    Example:
        >>> fast_exponents(0.8), fast_exponents(1.0), fast_exponents(0.5)
        ((0.1, 0.8, 0.1), (0.0, 1.0, 0.0), (0.25, 0.5, 0.25))
    """
    if not 0 < width_share <= 1:  # also refuses NaN
        raise InputError(f"fast scaling's width share must lie in (0, 1], got {width_share:g}")
    rest = round((1 - width_share) / 2, 12)  # 0.1, not 0.09999999999999998
    return (rest, width_share, rest)


def activation_exponent(width_share: float = FAST_WIDTH_SHARE) -> float:
    """The exponent of ``s`` by which activations grow when the cost grows by ``s``: e_d + e_w/2 + e_r.

    Activations are depth · width · resolution², so width's share counts half. ``width_share`` as
    :func:`fast_exponents` takes it.

    Example: 0.6 at the paper's 0.8; scaling width only gives √s
        >>> round(activation_exponent(0.8), 6), activation_exponent(1.0)
        (0.6, 0.5)
    """
    depth, width, resolution = fast_exponents(width_share)
    return depth + width / 2 + resolution


def fast_coefficients(width_share: float = FAST_WIDTH_SHARE, target: float = 2.0) -> Coefficients:
    """The nominal fast-scaling (α, β, γ) per unit of φ: target^e_d, target^(e_w/2), target^(e_r/2).

    α·β²·γ² is ``target`` (up to floating point); ``target`` is the cost multiplier per φ, > 1
    (InputError), 2 as in the compound constraint. ``width_share`` as :func:`fast_exponents` takes it.

    Example:
        >>> alpha, beta, gamma = fast_coefficients(0.8, 2.0)
        >>> round(alpha, 4), round(beta, 4), round(gamma, 4), round(alpha * beta**2 * gamma**2, 12)
        (1.0718, 1.3195, 1.0353, 2.0)
        >>> fast_coefficients(1.0, 2.0) == (1.0, 2**0.5, 1.0)
        True
    """
    if not (target > 1 and math.isfinite(target)):
        raise InputError(f"target cost ratio must be > 1, got {target:g}")
    depth, width, resolution = fast_exponents(width_share)
    return (target**depth, target ** (width / 2), target ** (resolution / 2))


def search_factors(target_ratio: float, phi: float = 1.0) -> list[float]:
    """The per-φ cost factors :func:`matched_fast_coefficients` tries, ascending, all above 1.

    A geometric axis (step :data:`SEARCH_LOG_STEP` in the logarithm) from just above 1 to the
    square (:data:`SEARCH_REACH`) of the factor whose nominal cost at ``phi`` is ``target_ratio``.
    ``target_ratio`` must be finite, > 1 for a positive ``phi`` and in (0, 1) for a negative one
    (a network scaled down); ``phi`` finite and not 0 (InputError).

    Example:
        >>> factors = search_factors(2.0)
        >>> len(factors), round(factors[0], 4), round(factors[-1], 3)
        (693, 1.002, 3.999)
        >>> search_factors(4.0, phi=2) == factors == search_factors(0.5, phi=-1)
        True
    """
    if not (math.isfinite(phi) and phi != 0):
        raise InputError(f"phi must be a finite number other than 0, got {phi:g}")
    if not (math.isfinite(target_ratio) and target_ratio > 0 and math.log(target_ratio) * phi > 0):
        raise InputError(f"the cost ratio to reach must be > 1 at a positive phi and in (0, 1) at a negative one, "
                         f"got {target_ratio:g} at phi {phi:g}")
    reach = SEARCH_REACH * math.log(target_ratio) / phi
    return [math.exp(step * SEARCH_LOG_STEP) for step in range(1, math.floor(reach / SEARCH_LOG_STEP + 1e-9) + 1)]


def matched_fast_coefficients(
    width_share: float,
    cost_ratio: Callable[[Coefficients], float],
    target_ratio: float,
    *,
    phi: float = 1.0,
) -> Coefficients:
    """Fast-scaling (α, β, γ) in the proportions of ``width_share`` whose cost, as ``cost_ratio`` prices it, is nearest.

    ``cost_ratio(coefficients)`` is the caller's measured cost of the point over the base's, at
    ``phi`` (MACs, activations or latency; at the cost scale, or the growth per φ with ``phi`` 1).
    The per-φ factor ``t`` of :func:`fast_coefficients` is searched on a fine 1-D axis
    (:func:`search_factors`): the coefficients for ``t``, rounded to 6 decimals, are priced, and
    the smallest ``t`` whose cost lies nearest ``target_ratio`` wins, as in grid.single_dimension.
    Every coefficient is >= 1. A point ``cost_ratio`` refuses with InputError (it cannot be built)
    is skipped; when every one is, that is an InputError.

    Example: a cost that grows in steps of 0.25 (as rounding makes it) is matched by its smallest point

        >>> from scaling_search.coefficients.fast_scaling import matched_fast_coefficients
        >>> def stepped(point):
        ...     alpha, beta, gamma = point
        ...     return math.floor(alpha * beta**2 * gamma**2 * 4) / 4
        >>> matched = matched_fast_coefficients(0.8, stepped, 2.0)
        >>> matched, stepped(matched)
        ((1.071865, 1.319958, 1.035309), 2.0)
    """
    fast_exponents(width_share)  # a bad share is refused before anything is priced
    best: tuple[float, Coefficients] | None = None
    for factor in search_factors(target_ratio, phi):
        point = rounded(fast_coefficients(width_share, factor))
        try:
            error = abs(cost_ratio(point) - target_ratio)
        except InputError:
            continue
        if best is None or error < best[0]:
            best = (error, point)
    if best is None:
        raise InputError(f"no fast-scaling point with width share {width_share:g} can be built near a cost ratio of "
                         f"{target_ratio:g} at phi {phi:g}")
    return best[1]


def rounded(point: Coefficients) -> Coefficients:
    """Each coefficient to 6 decimals, as grid.single_dimension keeps them (never below 1 when it was >= 1)."""
    alpha, beta, gamma = (round(value, 6) for value in point)
    return (alpha, beta, gamma)


@dataclass(frozen=True)
class FastPoint:
    """What ``derive --fast`` chose: the nominal fast coefficients and the point matched in growth, with its costs.

    ``growth_per_phi`` is the matched family's growth per φ in ``cost`` (what it was matched on);
    ``matched_ratio`` the closed-form ``cost`` of its φ = 1 member over the base's, at the scale
    :func:`fast_point` counted it. The point checks itself when built (InputError).

    Example:
        >>> point = FastPoint(0.8, (1.1, 1.2, 1.05), (1.05, 1.1, 1.0), 2.01, 2.9, "macs")
        >>> point.to_dict()["matched"], point.to_dict()["cost"]
        ([1.05, 1.1, 1.0], 'macs')
    """

    width_share: float
    nominal: Coefficients
    matched: Coefficients
    growth_per_phi: float
    matched_ratio: float
    cost: CostKind

    def __post_init__(self) -> None:
        fast_exponents(self.width_share)
        for name, point in (("nominal", self.nominal), ("matched", self.matched)):
            if not all(value >= 1 and math.isfinite(value) for value in point):
                raise InputError(f"{name} fast coefficients must be finite and >= 1, got {point}")
        for name, ratio in (("growth per phi", self.growth_per_phi), ("matched cost ratio", self.matched_ratio)):
            if not (ratio > 0 and math.isfinite(ratio)):
                raise InputError(f"the {name} must be a finite number > 0, got {ratio:g}")
        check_cost_kind(self.cost)

    def to_dict(self) -> dict[str, object]:
        return {"width_share": self.width_share, "nominal": list(self.nominal), "matched": list(self.matched),
                "growth_per_phi": self.growth_per_phi, "matched_ratio": self.matched_ratio, "cost": self.cost}


def fast_point(
    width_share: float = FAST_WIDTH_SHARE,
    target: float = 2.0,
    *,
    cost: CostKind = "macs",
    base_resolution: int | None = None,
    resolution_multiple: int = RESOLUTION_MULTIPLE,
    num_classes: int = IMAGENET_CLASSES,
    base: BaseArchitecture = EFFICIENTNET_B0,
) -> FastPoint:
    """The fast coefficients whose family grows by ``target`` per φ in ``cost``, nearest of all in their proportions.

    The growth per φ is :func:`~scaling_search.coefficients.growth.family_growth`'s, counted in
    closed form where ``derive`` counts a family: ``base`` at ``base_resolution`` (default its own),
    ``num_classes`` classes, resolutions rounded to ``resolution_multiple``. See
    :func:`matched_fast_coefficients` for the search.

    Example: on B0 the family doubles per φ near the nominal point; its φ = 1 member costs 3×
    (any depth above 1 adds a block to each stage)

        >>> point = fast_point()
        >>> [round(c, 4) for c in point.nominal], point.matched, round(point.growth_per_phi, 3)
        ([1.0718, 1.3195, 1.0353], (1.071008, 1.315741, 1.034895), 1.998)
        >>> round(point.matched_ratio, 2)
        3.01
    """
    resolution = base.base_resolution if base_resolution is None else base_resolution

    def growth(point: Coefficients) -> float:
        return family_growth(point, cost_resolution=resolution, cost_classes=num_classes,
                             resolution_multiple=resolution_multiple, base=base, cost=cost).per_phi

    unscaled = base_layout(resolution, num_classes, resolution_multiple, base=base)
    base_cost = counted_cost(analytic_counts(unscaled), cost)
    nominal = fast_coefficients(width_share, target)
    matched = matched_fast_coefficients(width_share, growth, target)
    member = compound_layout(*matched, 1.0, resolution, num_classes, resolution_multiple, base=base)
    member_ratio = counted_cost(analytic_counts(member), cost) / base_cost
    return FastPoint(width_share, nominal, matched, growth(matched), member_ratio, cost)

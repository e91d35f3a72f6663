"""Derive a family from (α, β, γ), next to the released B0..B7 (for B0; other bases have no released family).

The derived member at φ has depth α^φ, width β^φ and resolution round(base · γ^φ) and is named
``phi0``, ``phi1``, ``phi2.5``, ``phi-1``: the released names b0..b7 stay with the released
networks. The released family does not follow one φ-rule (B1 is width 1.0, depth 1.1 at 240 px,
which no single φ of (1.2, 1.1, 1.15) gives), so both are listed, labelled, each with its own
measured params and MACs. A derived member's classifier dropout is that of the released member
nearest to it in cost (:func:`cost_dropout`): the paper's φ = 1 member costs 2.57× B0, like B2
(2.58×), not like B1 (1.78×). A family derived from another base network takes its dropout the
same way, by its cost over its own base's.

A derived family also knows how fast it grows (:func:`family_growth_for`): its cost per unit of φ,
measured at its φ = 7 member (:mod:`~scaling_search.coefficients.growth`), beside the target per φ.
A point can meet the cost constraint at φ = 1 by rounding and still not grow into a family that
doubles per φ; that family is *off growth*.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from scaling_search.coefficients.growth import Growth, family_growth
from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.cost_kind import CostKind
from scaling_search.counting.counter import Counter, CounterName, make_counter
from scaling_search.errors import InputError
from scaling_search.models.architecture import (
    EFFICIENTNET_B0,
    FAMILY_PHIS,
    IMAGENET_CLASSES,
    RELEASED_FAMILY,
    RESOLUTION_MULTIPLE,
    BaseArchitecture,
)
from scaling_search.models.scaling import Layout, base_layout, compound_layout, released_layout

MAX_PHIS = 64
"""Most members one derivation lists: a family, not a sweep."""
GROWTH_TARGET = 2.0
"""The cost multiplier per unit of φ a family should grow by unless told otherwise: the paper's 2 (Tan & Le 2019)."""
GROWTH_TOLERANCE = 0.05
"""How far (relative) a family's growth per φ may lie from the target unless told otherwise: the grid's tolerance."""


@dataclass(frozen=True)
class FamilyMember:
    """One member of a family, derived at φ or released, with its counted params and MACs.

    Example:

        >>> from scaling_search.coefficients.family import derive
        >>> member = derive(1.2, 1.1, 1.15, phis=[1])[0]
        >>> member.name, member.source, member.width, member.depth, member.resolution, member.dropout
        ('phi1', 'derived', 1.1, 1.2, 256, 0.3)
    """

    name: str
    source: str  # "derived" or "released"
    phi: float
    width: float
    depth: float
    resolution: int
    dropout: float
    params: int
    macs: int
    macs_ratio: float  # MACs over the unscaled base network's (at the family's base resolution)
    layout: Layout

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "source": self.source,
            "phi": self.phi,
            "width": self.width,
            "depth": self.depth,
            "resolution": self.resolution,
            "dropout": self.dropout,
            "params": self.params,
            "macs": self.macs,
            "macs_ratio": self.macs_ratio,
            "target_ratio": 2.0**self.phi,
            "stem": self.layout.stem,
            "channels": self.layout.channels,
            "repeats": self.layout.repeats,
            "head": self.layout.head,
            "layout": self.layout.to_dict(),
        }


@dataclass(frozen=True)
class FamilyGrowth:
    """A derived family's growth per φ (:class:`~scaling_search.coefficients.growth.Growth`) beside its target.

    ``on_growth`` says whether ``growth.per_phi`` lies within ``tolerance`` (relative) of ``target``.
    """

    growth: Growth
    target: float
    tolerance: float

    @property
    def on_growth(self) -> bool:
        return self.growth.on_growth(self.target, self.tolerance)

    @property
    def member_ratio(self) -> float:
        """The cost of the member at ``growth.phi`` over the base's: ``per_phi ** phi``."""
        return self.growth.per_phi**self.growth.phi

    def to_dict(self) -> dict[str, object]:
        return {"growth_per_phi": self.growth.per_phi, "growth_phi": self.growth.phi, "growth_cost": self.growth.cost,
                "target": self.target, "growth_tolerance": self.tolerance, "on_growth": self.on_growth}


def family_growth_for(
    alpha: float,
    beta: float,
    gamma: float,
    *,
    target: float = GROWTH_TARGET,
    tolerance: float = GROWTH_TOLERANCE,
    base_resolution: int | None = None,
    resolution_multiple: int = RESOLUTION_MULTIPLE,
    num_classes: int = IMAGENET_CLASSES,
    base: BaseArchitecture = EFFICIENTNET_B0,
    cost: CostKind = "macs",
) -> FamilyGrowth:
    """How fast the family (α, β, γ) of ``base`` grows per φ, at the scale :func:`derive` counts it, against ``target``.

    Counted in closed form at ``base_resolution`` (default the base's own), ``num_classes`` and
    ``resolution_multiple``, in ``cost`` ("macs" or "activations"), at the φ = 7 member or, when
    that cannot be built, the largest φ below it that can. ``target`` must be > 1 and ``tolerance`` lie in
    (0, 1), as the grid's (InputError).

    Example: the paper's point doubles per φ; (1.05, 1.05, 1.05) meets 2× at φ = 1 by rounding only

        >>> from scaling_search.coefficients.family import family_growth_for
        >>> paper = family_growth_for(1.2, 1.1, 1.15)
        >>> round(paper.growth.per_phi, 3), paper.growth.phi, round(paper.member_ratio, 1), paper.on_growth
        (1.938, 7, 102.8, True)
        >>> slow = family_growth_for(1.05, 1.05, 1.05)
        >>> slow.growth.per_phi < 1.4, slow.on_growth
        (True, False)
    """
    check_coefficients(alpha, beta, gamma)
    if not (target > 1 and math.isfinite(target)):
        raise InputError(f"target cost ratio must be > 1, got {target:g}")
    if not 0 < tolerance < 1:
        raise InputError(f"growth tolerance must lie in (0, 1), got {tolerance:g}")
    growth = family_growth((alpha, beta, gamma), cost_resolution=base_resolution, cost_classes=num_classes,
                           resolution_multiple=resolution_multiple, base=base, cost=cost)
    return FamilyGrowth(growth, target, tolerance)


def parse_phis(text: str) -> list[float]:
    """'0-7' → 0..7; '0,1,2.5' → a list; '-2--1' and '-1,0,1' work for scaling down."""
    phis: list[float] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        span = re.fullmatch(r"(-?\d+)-(-?\d+)", part)
        if span:
            low, high = int(span.group(1)), int(span.group(2))
            if low > high:
                raise InputError(f"phi range {part!r} has min > max")
            phis.extend(float(v) for v in range(low, high + 1))
            continue
        try:
            phis.append(float(part))
        except ValueError:
            raise InputError(f"not a phi or range of phis: {part!r} (use e.g. 0-7 or 0,1,2.5)") from None
    if not phis:
        raise InputError("no phi given (use e.g. 0-7 or 0,1,2.5)")
    if len(phis) > MAX_PHIS:
        raise InputError(f"{len(phis)} phis asked for; at most {MAX_PHIS}")
    return phis


def member_name(phi: float) -> str:
    """A derived member's name: ``phi`` and φ in full (``phi1``, ``phi2.5``, ``phi-1``), never a released name."""
    phi = float(phi) + 0.0  # -0.0 becomes 0.0
    return f"phi{int(phi)}" if phi.is_integer() else f"phi{phi!r}"


def check_coefficients(alpha: float, beta: float, gamma: float) -> None:
    """Raise InputError unless α, β and γ are finite and >= 1: compound coefficients scale up per unit of φ."""
    for name, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
        if not (value >= 1 and math.isfinite(value)):
            raise InputError(f"{name} must be a finite number >= 1 (compound coefficients scale the network up per "
                             f"unit of phi; a negative phi scales it down), got {value:g}")


def cost_dropout(macs_ratio: float, released: Sequence[FamilyMember]) -> float:
    """The classifier dropout of the member of ``released`` nearest in cost to ``macs_ratio`` (MACs over B0's).

    Costs are compared as ratios to each family's own B0 (so a derived family at a proxy's base
    resolution is placed among the released ones) and on a log scale, as the family's cost grows
    geometrically (2^φ); a tie goes to the cheaper member.
    """
    return min(released, key=lambda member: abs(math.log(member.macs_ratio / macs_ratio))).dropout


def buildable_phis(
    alpha: float,
    beta: float,
    gamma: float,
    phis: Sequence[float],
    base_resolution: int | None = None,
    resolution_multiple: int = RESOLUTION_MULTIPLE,
    base: BaseArchitecture = EFFICIENTNET_B0,
) -> list[float]:
    """The φ of ``phis`` whose member can be built: no multiplier past the largest, no resolution past the largest.

    A grid reaches α = 2, whose φ = 7 member would be 128 times deeper; a family is exported, reported
    and derived up to its largest buildable member, and the ones left out are said.

    Example:
        >>> buildable_phis(1.95, 1.0, 1.0, [0, 1, 6, 7])
        [0, 1, 6]
    """
    check_coefficients(alpha, beta, gamma)
    resolution = base.base_resolution if base_resolution is None else base_resolution
    base_layout(resolution, IMAGENET_CLASSES, resolution_multiple, base=base)  # bad input is refused, not skipped
    kept = []
    for phi in phis:
        try:
            compound_layout(alpha, beta, gamma, phi, resolution, IMAGENET_CLASSES, resolution_multiple, base=base)
        except InputError:
            continue
        kept.append(phi)
    return kept


def unbuilt_note(left_out: Sequence[float]) -> str:
    """One line naming the members a family cannot build (:func:`buildable_phis`), or an empty string."""
    if not left_out:
        return ""
    names = ", ".join(member_name(phi) for phi in left_out)
    return (f"{names} cannot be built (a multiplier or the resolution would pass the largest this tool builds), so "
            "the family stops before them")


def derive_family(
    alpha: float,
    beta: float,
    gamma: float,
    phis: Sequence[float],
    counter: Counter,
    base_resolution: int | None = None,
    resolution_multiple: int = RESOLUTION_MULTIPLE,
    num_classes: int = IMAGENET_CLASSES,
    base: BaseArchitecture = EFFICIENTNET_B0,
) -> list[FamilyMember]:
    """The derived members of ``base`` at each φ, measured with ``counter``; see :func:`derive`.

    ``base_resolution`` defaults to the base's own (224 px for B0). The released members' costs that
    set each member's dropout are counted in closed form, which gives the same MACs as fvcore on
    B0–B7 (``docs/conventions.md``) without building B7.
    """
    check_coefficients(alpha, beta, gamma)
    base_resolution = base.base_resolution if base_resolution is None else base_resolution
    released = released_family(analytic_counts, num_classes)
    base_macs = counter(base_layout(base_resolution, num_classes, base=base)).macs
    members = []
    for phi in phis:
        layout = compound_layout(alpha, beta, gamma, phi, base_resolution, num_classes, resolution_multiple, base=base)
        counts = counter(layout)
        ratio = counts.macs / base_macs
        layout = replace(layout, dropout=cost_dropout(ratio, released))
        members.append(FamilyMember(member_name(phi), "derived", phi, layout.width, layout.depth, layout.resolution,
                                    layout.dropout, counts.params, counts.macs, ratio, layout))
    return members


def derive(
    alpha: float,
    beta: float,
    gamma: float,
    phis: Sequence[float] = FAMILY_PHIS,
    *,
    base_resolution: int | None = None,
    resolution_multiple: int = RESOLUTION_MULTIPLE,
    num_classes: int = IMAGENET_CLASSES,
    counter: CounterName = "analytic",
    cache_dir: Path | None = None,
    base: BaseArchitecture = EFFICIENTNET_B0,
) -> list[FamilyMember]:
    """The family (α, β, γ) derives from ``base`` (B0): at each φ, depth α^φ, width β^φ and resolution base · γ^φ.

    Each member is counted with ``counter`` ("analytic": closed form; "fvcore": measured, cached in
    ``cache_dir``); ``macs_ratio`` is its MACs over the unscaled base's at ``base_resolution``. Resolutions round to
    a multiple of ``resolution_multiple``. Members are named phi0, phi1, phi2.5, phi-1, …; each takes
    the dropout of the released member nearest in cost. α, β and γ below 1 are refused (InputError).

    Example:
        >>> from scaling_search.coefficients.family import derive
        >>> for member in derive(1.2, 1.1, 1.15, phis=[0, 1, 2.5]):
        ...     print(member.name, member.resolution, round(member.macs_ratio, 2), member.dropout)
        phi0 224 1.0 0.2
        phi1 256 2.23 0.3
        phi2.5 316 6.02 0.3
    """
    return derive_family(alpha, beta, gamma, phis, make_counter(counter, cache_dir), base_resolution,
                         resolution_multiple, num_classes, base)


def released_family(counter: Counter, num_classes: int = IMAGENET_CLASSES) -> list[FamilyMember]:
    """The released B0..B7 with their published coefficients, measured with ``counter``; ratios are over B0's MACs."""
    base_macs = counter(base_layout(num_classes=num_classes)).macs
    members = []
    for phi, model in zip(FAMILY_PHIS, RELEASED_FAMILY, strict=True):
        layout = released_layout(model, num_classes)
        counts = counter(layout)
        members.append(FamilyMember(model.name, "released", phi, model.width, model.depth, model.resolution,
                                    model.dropout, counts.params, counts.macs, counts.macs / base_macs, layout))
    return members

"""The networks that check whether a study's answer holds when scaled up, matched in compute where priced and trained.

A study picks (α, β, γ) at a small φ. The EfficientNet paper's check (its Figure 3 and Table 3)
is to scale further, to φ = 2 or more, and compare the compound member with members that scale
one dimension only. :func:`scale_up_members` builds the five networks such a check trains:

* ``study``: the study's best coefficients at the larger φ; its cost is the one to match;
* ``paper``: the paper's (1.2, 1.1, 1.15) at that φ, with its own cost (nothing is tuned to match);
  only when the study's base is EfficientNet-B0, the one base the paper's point was found for;
* ``depth-only``, ``width-only``, ``resolution-only``: (a, 1, 1), (1, b, 1), (1, 1, g) at that φ,
  each coefficient found on a fine 1-D grid in closed form (:func:`matching_single_dimension`):
  among the values whose cost lies within the study's tolerance of the *study member's* at the
  cost scale, the one whose proxy network's cost is nearest the study member's proxy network's.

Each member is priced twice, with the same counter: at the study's cost scale (``cost_resolution``
px, ``cost_classes`` classes, the resolution rounded to ``resolution_multiple``: ``macs``,
``cost_ratio``, ``matched``) and where it trains, the proxy network (``proxy_layout``: the study's
base resolution and classes scaled at the larger φ: ``proxy_macs``, ``proxy_ratio``,
``proxy_matched``). The two can disagree a lot — at a 32 px proxy one more pixel can double a
network's last feature maps —, so a member matched at the cost scale may still train with far less
compute than the study member. Only a member matched at both (``comparable``) may have its accuracy
compared with the study member's; any other is kept, trained and shown, but not judged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal, get_args

from scaling_search.coefficients.grid import GridSpec, within
from scaling_search.coefficients.grid_checks import axis_values
from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.cost_kind import counted_cost
from scaling_search.counting.counter import Counter
from scaling_search.errors import InputError
from scaling_search.models.scaling import MAX_MULTIPLIER, MAX_RESOLUTION, Layout, compound_layout

MemberKind = Literal["study", "paper", "depth-only", "width-only", "resolution-only"]
MEMBER_KINDS: tuple[MemberKind, ...] = get_args(MemberKind)
SINGLE_KINDS: tuple[MemberKind, ...] = ("depth-only", "width-only", "resolution-only")
SEARCH_STEP = 0.005
"""Step of the 1-D search for a single-dimension coefficient (per unit of φ), as in grid.single_dimension."""


@dataclass(frozen=True)
class ScaleUpMember:
    """One network of a scale-up check: its coefficients at ``phi``, its cost at the cost scale and where it trains.

    ``macs`` is counted at the cost scale (``cost_resolution`` px), in the study's cost (MACs unless
    the study is held to activations, whose count it then holds); ``cost_ratio`` is ``macs`` over
    the study member's (1.0 for the study member itself); ``matched`` says whether that ratio lies
    within the study's tolerance of 1. ``proxy_layout`` (``proxy_resolution`` px) is the network
    that is trained; ``proxy_macs`` its cost, counted with the same counter; ``proxy_ratio`` that
    over the study member's proxy MACs and ``proxy_matched`` whether it lies within the same
    tolerance of 1. ``comparable`` (both) says whether the member's accuracy may be compared with
    the study member's. The member checks itself when built and raises InputError for values it
    cannot take.

    Example:
        >>> from scaling_search.coefficients.grid import GridSpec
        >>> from scaling_search.counting.analytic import analytic_counts
        >>> from scaling_search.coefficients.scaleup import scale_up_members
        >>> spec = GridSpec(base_resolution=32, num_classes=10)
        >>> study = scale_up_members(spec, (1.0, 1.2, 1.1), 2, analytic_counts)[0]
        >>> study.kind, study.coefficients, study.cost_resolution, study.proxy_resolution, study.cost_ratio
        ('study', (1.0, 1.2, 1.1), 272, 40, 1.0)
        >>> study.proxy_ratio, study.comparable
        (1.0, True)
        >>> sorted(study.to_dict())[:4]
        ['coefficients', 'comparable', 'cost_ratio', 'cost_resolution']
    """

    kind: MemberKind
    coefficients: tuple[float, float, float]
    phi: float
    macs: int
    cost_ratio: float
    matched: bool
    proxy_layout: Layout
    cost_resolution: int
    proxy_resolution: int
    proxy_macs: int
    proxy_ratio: float
    proxy_matched: bool

    @property
    def comparable(self) -> bool:
        """Matched in compute at the cost scale and where it trains: its accuracy may be set against the study's."""
        return self.matched and self.proxy_matched

    def __post_init__(self) -> None:
        if self.kind not in MEMBER_KINDS:
            raise InputError(f"member kind must be one of {', '.join(MEMBER_KINDS)}, not {self.kind!r}")
        if len(self.coefficients) != 3 or not all(value > 0 and math.isfinite(value) for value in self.coefficients):
            raise InputError(f"coefficients must be three positive numbers (alpha, beta, gamma), "
                             f"got {self.coefficients}")
        if not (self.phi > 0 and math.isfinite(self.phi)):
            raise InputError(f"phi must be a positive number, got {self.phi}")
        if isinstance(self.macs, bool) or not isinstance(self.macs, int) or self.macs <= 0:
            raise InputError(f"macs must be a positive integer, got {self.macs!r}")
        if isinstance(self.proxy_macs, bool) or not isinstance(self.proxy_macs, int) or self.proxy_macs <= 0:
            raise InputError(f"proxy macs must be a positive integer, got {self.proxy_macs!r}")
        for name, ratio in (("cost ratio", self.cost_ratio), ("proxy ratio", self.proxy_ratio)):
            if not (ratio > 0 and math.isfinite(ratio)):
                raise InputError(f"{name} must be a positive number, got {ratio}")
        if self.proxy_resolution != self.proxy_layout.resolution:
            raise InputError(f"proxy resolution {self.proxy_resolution} is not the proxy layout's "
                             f"{self.proxy_layout.resolution}")

    def to_dict(self) -> dict[str, object]:
        """The member as a JSON-ready dict, without the layout, with ``comparable``."""
        row = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "proxy_layout"}
        return row | {"coefficients": list(self.coefficients), "comparable": self.comparable}


def scale_up_members(spec: GridSpec, best: tuple[float, float, float], phi: float, counter: Counter
                     ) -> list[ScaleUpMember]:
    """The study, paper, depth-only, width-only and resolution-only members at ``phi``, priced where costed and trained.

    ``spec`` is the study's grid: its base network (no paper member unless it is B0), cost scale,
    proxy resolution and classes, and tolerance;
    ``best`` the study's coefficients. ``phi`` must be larger than the study's ``spec.phi``. Each
    single-dimension coefficient is searched in closed form (:func:`matching_single_dimension`);
    every member is then counted with ``counter`` at the cost scale and at the proxy. The paper
    member keeps its own cost and is flagged when outside tolerance.

    Example: a study that picked (1.0, 1.2, 1.1) at φ = 1, checked at φ = 2 from a 32 px proxy —
    matched at the cost scale, but the study member's 40 px network trains with far more compute
    than the single-dimension members' 32–56 px ones, so none of them is comparable

        >>> from scaling_search.coefficients.grid import GridSpec
        >>> from scaling_search.counting.analytic import analytic_counts
        >>> from scaling_search.coefficients.scaleup import scale_up_members
        >>> spec = GridSpec(base_resolution=32, num_classes=10)
        >>> for m in scale_up_members(spec, (1.0, 1.2, 1.1), 2, analytic_counts):
        ...     print(m.kind, m.coefficients, round(m.cost_ratio, 3), m.matched, round(m.proxy_ratio, 3),
        ...           m.comparable)
        study (1.0, 1.2, 1.1) 1.0 True 1.0 True
        paper (1.2, 1.1, 1.15) 1.556 False 1.336 False
        depth-only (1.66, 1.0, 1.0) 1.013 True 0.627 False
        width-only (1.0, 1.35, 1.0) 1.043 True 0.635 False
        resolution-only (1.0, 1.0, 1.31) 0.971 True 0.702 False
    """
    if spec.cost == "latency":
        raise InputError("the scale-up members are matched to the study member's cost in closed form, which latency "
                         "has not: a latency study cannot be scaled up yet (docs/costs.md)")
    if not (math.isfinite(phi) and phi > spec.phi):
        raise InputError(f"scale-up phi must be larger than the study's phi {spec.phi:g}, got {phi}")
    if phi <= 0:
        raise InputError(f"scale-up phi must be positive (it scales the network up), got {phi}")
    if len(best) != 3:
        raise InputError(f"the study's best must be three coefficients (alpha, beta, gamma), got {best}")
    alpha, beta, gamma = best
    study = (float(alpha), float(beta), float(gamma))
    study_macs = counted_cost(counter(cost_layout_at(spec, study, phi)), spec.cost)
    study_proxy_macs = counted_cost(counter(proxy_layout_at(spec, study, phi)), spec.cost)
    points: list[tuple[MemberKind, tuple[float, float, float]]] = [("study", study)]
    if spec.paper_point is not None:
        points.append(("paper", spec.paper_point))
    targets = (counted_cost(analytic_counts(cost_layout_at(spec, study, phi)), spec.cost),
               counted_cost(analytic_counts(proxy_layout_at(spec, study, phi)), spec.cost))
    points += [(kind, matching_single_dimension(spec, kind, phi, *targets)) for kind in SINGLE_KINDS]
    members = []
    for kind, coefficients in points:
        cost = cost_layout_at(spec, coefficients, phi)
        proxy = proxy_layout_at(spec, coefficients, phi)
        macs, proxy_macs = ((study_macs, study_proxy_macs) if kind == "study" else
                            (counted_cost(counter(cost), spec.cost), counted_cost(counter(proxy), spec.cost)))
        ratio, proxy_ratio = macs / study_macs, proxy_macs / study_proxy_macs
        members.append(ScaleUpMember(kind, coefficients, phi, macs, ratio, within(ratio, 1.0, spec.tolerance), proxy,
                                     cost.resolution, proxy.resolution, proxy_macs, proxy_ratio,
                                     within(proxy_ratio, 1.0, spec.tolerance)))
    return members


def cost_layout_at(spec: GridSpec, coefficients: tuple[float, float, float], phi: float) -> Layout:
    """``coefficients`` at ``phi`` realised at the study's cost scale."""
    return compound_layout(*coefficients, phi, spec.cost_resolution, spec.cost_classes, spec.resolution_multiple,
                           base=spec.base)


def proxy_layout_at(spec: GridSpec, coefficients: tuple[float, float, float], phi: float) -> Layout:
    """``coefficients`` at ``phi`` realised at the study's proxy: the network a scale-up run trains."""
    return compound_layout(*coefficients, phi, spec.base_resolution, spec.num_classes, spec.resolution_multiple,
                           base=spec.base)


def matching_single_dimension(spec: GridSpec, kind: MemberKind, phi: float, macs: int, proxy_macs: int
                              ) -> tuple[float, float, float]:
    """The single-dimension coefficient at ``phi`` matched to ``macs`` at the cost scale and, if it can, ``proxy_macs``.

    The 1-D grid runs from 1 in steps of :data:`SEARCH_STEP` to well past the nominal value
    (twice the ratio for depth, which moves in whole blocks), stopping short of what a layout
    allows (a multiplier of :data:`MAX_MULTIPLIER`, :data:`MAX_RESOLUTION` px). Among its values
    whose closed-form cost at the cost scale lies within the study's tolerance of ``macs``, the one
    whose proxy network's cost is nearest ``proxy_macs`` is kept (ties: the nearer cost at the cost
    scale, then the smaller value). The preference never trades the cost-scale match away; it
    only picks, among equally admissible members, the one that trains with the compute nearest
    the study member's — which at a low-resolution proxy may still be far from it. When no value
    lies within tolerance, the smallest value with the nearest cost at the cost scale is kept.
    """
    axis = SINGLE_KINDS.index(kind)
    base_macs = counted_cost(analytic_counts(cost_layout_at(spec, (1.0, 1.0, 1.0), phi)), spec.cost)
    reach = max(1.0, macs / base_macs) * (2 if axis == 0 else 1)
    nominal = reach if axis == 0 else math.sqrt(reach)
    most = MAX_MULTIPLIER if axis < 2 else (MAX_RESOLUTION - spec.resolution_multiple) / spec.cost_resolution
    values = axis_values((1.0, max(1.0, min(nominal ** (1 / phi) * 1.5, most ** (1 / phi) - SEARCH_STEP))),
                         SEARCH_STEP)

    def point(value: float) -> tuple[float, float, float]:
        return (value, 1.0, 1.0) if axis == 0 else (1.0, value, 1.0) if axis == 1 else (1.0, 1.0, value)

    miss = {value: abs(counted_cost(analytic_counts(cost_layout_at(spec, point(value), phi)), spec.cost) - macs)
            for value in values}
    admissible = [value for value in values if miss[value] <= spec.tolerance * macs]
    if admissible:
        proxy_miss = {value: abs(counted_cost(analytic_counts(proxy_layout_at(spec, point(value), phi)), spec.cost)
                                 - proxy_macs) for value in admissible}
        value = min(admissible, key=lambda v: (proxy_miss[v], miss[v], v))
    else:
        value = min(values, key=lambda v: (miss[v], v))
    return point(round(value, 6))

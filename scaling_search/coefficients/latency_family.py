"""A derived family's latency, member by member: how fast it grows per φ in the time it takes on a device.

``scaling-search derive --cost latency`` uses it. Each member is timed against the φ = 0 member (the
base network at the derivation's resolution) with :func:`~scaling_search.counting.latency.latency_ratio`,
as a latency grid times its growth members: to φ times a quarter of the growth tolerance (so that
its cost *per φ*, ratio^(1/φ), is known to a quarter; members below φ = 1 to a quarter), or it is not
measurable, with the reason. Members are timed in increasing φ, and one whose call the last timed
member predicts (scaled by their MACs) to take longer than the growth budget is not timed, nor any
larger one: a φ = 7 member on one CPU thread can take seconds per image. Growth per φ is taken at the
largest integer φ ≤ 7 that was timed, and says which.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from scaling_search.coefficients.family import FamilyGrowth, FamilyMember
from scaling_search.coefficients.growth import GROWTH_PHI, Growth
from scaling_search.coefficients.latency_grid import (
    GROWTH_PRECISION_CAP,
    PRECISION_SHARE,
    LatencyBook,
    LatencyTiming,
)
from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.latency import device_name
from scaling_search.errors import InputError
from scaling_search.models.layout import Layout


@dataclass(frozen=True)
class MemberLatency:
    """One member's latency over the base's: the ratio and its ~95 % interval, its own median time per call, or
    (all None) the ``note`` saying why it was not timed or could not be pinned down."""

    phi: float
    latency_ratio: float | None
    latency_low: float | None
    latency_high: float | None
    latency_ms: float | None
    latency_note: str | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class FamilyLatency:
    """A family's members timed on ``device``, and its growth per φ in latency (None when no integer φ ≥ 1 was timed:
    ``growth_note`` says why)."""

    members: tuple[MemberLatency, ...]
    growth: FamilyGrowth | None
    growth_note: str | None
    device: str


def family_latency(members: Sequence[FamilyMember], base: Layout, timing: LatencyTiming, *, target: float,
                   tolerance: float, progress: Callable[[str], None] | None = None) -> FamilyLatency:
    """Time ``members`` (a derived family, any φ) against ``base`` on ``timing``'s device (module docstring).

    ``target`` and ``tolerance`` are the growth per φ the family is judged against and its relative tolerance.
    Raises InputError when the base itself cannot be timed on this machine.
    """
    book = LatencyBook(timing, PRECISION_SHARE * tolerance, progress)
    base_time = book.ratio(base, base).latency
    if base_time is None:
        raise InputError(f"the base network cannot be timed on {device_name(timing.settings)}")
    last_ms, last_macs = base_time.median_ms, analytic_counts(base).macs
    timed: dict[float, MemberLatency] = {}
    over_budget: str | None = None
    for member in sorted(members, key=lambda m: m.phi):
        if over_budget is not None:
            timed[member.phi] = MemberLatency(member.phi, None, None, None, None, over_budget)
            continue
        macs = analytic_counts(member.layout).macs
        predicted_ms = last_ms * macs / last_macs
        if predicted_ms > timing.growth_budget_ms:
            over_budget = (f"not timed: a call predicted to take about {predicted_ms:.0f} ms, over the "
                           f"{timing.growth_budget_ms:.0f} ms budget")
            timed[member.phi] = MemberLatency(member.phi, None, None, None, None, over_budget)
            continue
        precision = min(GROWTH_PRECISION_CAP, max(1.0, member.phi) * PRECISION_SHARE * tolerance)
        book.where = f"member phi = {member.phi:g}"
        measured = book.ratio(member.layout, base, precision)
        latency = measured.latency
        timed[member.phi] = MemberLatency(member.phi, measured.ratio, measured.low, measured.high,
                                          None if latency is None else latency.median_ms, measured.reason)
        if latency is not None:
            last_ms, last_macs = latency.median_ms, macs
    at = [phi for phi, m in timed.items() if m.latency_ratio is not None and phi >= 1 and phi == int(phi)
          and phi <= GROWTH_PHI]
    ordered = tuple(timed[m.phi] for m in members)
    name = device_name(timing.settings)
    if not at:
        tried = any(m.latency_ms is not None for phi, m in timed.items() if phi >= 1)
        why = ("could be pinned down (each member's latency_note says how far it got)" if tried else
               "was timed: ask for one (--phis 0-7) with a call that fits the budget")
        return FamilyLatency(ordered, None, f"no member at an integer phi from 1 to 7 {why}", name)
    phi = max(at)
    ratio = timed[phi].latency_ratio
    assert ratio is not None
    growth = FamilyGrowth(Growth(math.exp(math.log(ratio) / phi), int(phi), "latency"), target, tolerance)
    return FamilyLatency(ordered, growth, None, name)

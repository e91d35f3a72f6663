"""Derive a B0..B7-style family from (α, β, γ), next to the released family.

The derived member at φ has depth α^φ, width β^φ and resolution round(base · γ^φ). The
released family does not follow one φ-rule (B1 is width 1.0, depth 1.1 at 240 px, which no
single φ of (1.2, 1.1, 1.15) gives), so both are listed, labelled, each with its own
measured params and MACs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from scaling_search.counting.counter import Counter
from scaling_search.errors import InputError
from scaling_search.models.architecture import EFFICIENTNET_B0, RELEASED_FAMILY
from scaling_search.models.scaling import Layout, compound_layout, released_layout


@dataclass(frozen=True)
class FamilyMember:
    name: str
    source: str  # "derived" or "released"
    phi: float
    width: float
    depth: float
    resolution: int
    dropout: float
    params: int
    macs: int
    macs_ratio: float  # MACs over the base network's (B0 at its base resolution)
    layout: Layout

    def to_dict(self) -> dict:
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
    if len(phis) > 64:
        raise InputError(f"{len(phis)} phis asked for; at most 64")
    return phis


def member_name(phi: float) -> str:
    return f"b{int(phi)}" if float(phi).is_integer() and phi >= 0 else f"phi={phi:g}"


def derive_family(
    alpha: float,
    beta: float,
    gamma: float,
    phis: Sequence[float],
    counter: Counter,
    base_resolution: int = EFFICIENTNET_B0.base_resolution,
    resolution_multiple: int = 1,
    num_classes: int = 1000,
) -> list[FamilyMember]:
    """The derived members at each φ, measured with ``counter``."""
    base_macs = counter(compound_layout(1, 1, 1, 0, base_resolution, num_classes)).macs
    members = []
    for phi in phis:
        layout = compound_layout(alpha, beta, gamma, phi, base_resolution, num_classes, resolution_multiple)
        counts = counter(layout)
        members.append(FamilyMember(member_name(phi), "derived", phi, layout.width, layout.depth, layout.resolution,
                                    layout.dropout, counts.params, counts.macs, counts.macs / base_macs, layout))
    return members


def released_family(counter: Counter, num_classes: int = 1000) -> list[FamilyMember]:
    """The released B0..B7 with their published coefficients, measured with ``counter``."""
    members = []
    base_macs = None
    for index, model in enumerate(RELEASED_FAMILY):
        layout = released_layout(model, num_classes)
        counts = counter(layout)
        base_macs = base_macs or counts.macs
        members.append(FamilyMember(model.name, "released", float(index), model.width, model.depth, model.resolution,
                                    model.dropout, counts.params, counts.macs, counts.macs / base_macs, layout))
    return members

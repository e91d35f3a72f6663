"""How fast a family grows: the cost per unit of φ that (α, β, γ) realises when scaled up to B7's size.

The compound constraint is checked at one φ (the study's, usually 1), where rounding of repeats,
channels and resolution can meet it for coefficients whose nominal α·β²·γ² is far from the
target. Such a point does not grow into a family that doubles per φ: (1.05, 1.05, 1.05) meets 2×
at φ = 1 by rounding and costs 6.5× B0 at φ = 7, not 2^7 = 128×. The growth per φ is therefore
measured where the family is used, at its largest member:

    growth_per_phi = (cost of the φ = 7 member / cost of the base) ^ (1 / 7)

both counted at the cost scale (its resolution, classes and resolution rounding). When the φ = 7
member cannot be built (a coefficient past the largest multiplier, or a resolution past the
largest allowed), the largest integer φ below 7 that can be is used and said (``phi``).

Example: the paper's point grows by 1.938 per φ; (1.05, 1.05, 1.05) by far less than 2

    >>> from scaling_search.coefficients.growth import family_growth
    >>> round(family_growth((1.2, 1.1, 1.15)).per_phi, 3)
    1.938
    >>> slow = family_growth((1.05, 1.05, 1.05))
    >>> round(slow.per_phi, 2), slow.phi, slow.on_growth(2.0, 0.05)
    (1.31, 7, False)
"""

from __future__ import annotations

from dataclasses import dataclass

from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.cost_kind import CostKind, counted_cost
from scaling_search.errors import InputError
from scaling_search.models.architecture import EFFICIENTNET_B0, IMAGENET_CLASSES, RESOLUTION_MULTIPLE, BaseArchitecture
from scaling_search.models.scaling import base_layout, compound_layout

GROWTH_PHI = 7
"""The φ growth is measured at: B7's, the largest member of the paper's family (Tan & Le 2019, Table 2)."""


@dataclass(frozen=True)
class Growth:
    """The cost per unit of φ a family realises, measured at its member at ``phi`` (``GROWTH_PHI`` when buildable),
    in the cost named by ``cost``."""

    per_phi: float
    phi: int
    cost: CostKind = "macs"

    def on_growth(self, target: float, tolerance: float) -> bool:
        """Whether the growth per φ lies within ``tolerance`` (relative) of ``target``."""
        return abs(self.per_phi - target) <= tolerance * target

    @property
    def reduced(self) -> bool:
        """Whether the φ = 7 member could not be built and a smaller φ was used."""
        return self.phi < GROWTH_PHI


def family_growth(
    coefficients: tuple[float, float, float],
    *,
    cost_resolution: int | None = None,
    cost_classes: int = IMAGENET_CLASSES,
    resolution_multiple: int = RESOLUTION_MULTIPLE,
    base: BaseArchitecture = EFFICIENTNET_B0,
    cost: CostKind = "macs",
) -> Growth:
    """The growth per φ of ``coefficients``' family from ``base``, counted in closed form at the cost scale.

    Closed-form counts equal fvcore's on every built-in base (``docs/conventions.md``), and they
    do not build the φ = 7 network, which at 600 px would take fvcore seconds per candidate.
    ``cost_resolution`` defaults to the base's own (224 px for B0); ``cost`` is the counted cost
    that grows ("macs" or "activations"). Raises InputError when not even the φ = 1 member can be built.
    """
    resolution = base.base_resolution if cost_resolution is None else cost_resolution
    unscaled = base_layout(resolution, cost_classes, resolution_multiple, base=base)
    base_cost = counted_cost(analytic_counts(unscaled), cost)
    for phi in range(GROWTH_PHI, 0, -1):
        try:
            layout = compound_layout(*coefficients, phi, resolution, cost_classes, resolution_multiple, base=base)
            member_cost = counted_cost(analytic_counts(layout), cost)
        except InputError:
            continue
        return Growth((member_cost / base_cost) ** (1 / phi), phi, cost)
    raise InputError(f"no member of the family of {coefficients} can be built, not even at phi = 1")

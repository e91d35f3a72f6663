"""How many candidates each condition keeps, and whether resolution can be searched at the proxy at all.

``candidates`` and ``run`` both say it in one line each (:func:`count_line`, :func:`resolution_note`),
from the same counts (:class:`Contention`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scaling_search.coefficients.grid import Candidate, GridSpec
from scaling_search.counting.cost_kind import COST_WORDS

FAITHFUL_HINT = ("a proxy of 160 px or more (--base-resolution; scaling-search proxy shows where for this base), a "
                 "finer --step or a looser --tolerance")
"""What lets γ > 1 contend where a small proxy keeps it out (docs/proxy.md has the measurements)."""


@dataclass(frozen=True)
class Contention:
    """The grid points listed (``listed``: on the constraint or growing as promised), how many meet each condition,
    and what the contenders train at.

    Example:
        >>> from scaling_search.coefficients.grid import GridSpec, candidates
        >>> spec = GridSpec(base_resolution=32, num_classes=10)
        >>> counts = Contention.of(candidates(spec, "analytic"), spec)
        >>> counts.on_constraint, counts.on_growth, counts.contenders, counts.trained_resolutions
        (57, 103, 12, (32,))
    """

    listed: int
    on_constraint: int
    on_growth: int
    contenders: int
    trained_resolutions: tuple[int, ...]
    base_resolution: int

    @classmethod
    def of(cls, candidates: Sequence[Candidate], spec: GridSpec) -> Contention:
        grid = [c for c in candidates if c.kind == "compound"]
        contending = [c for c in grid if c.contender]
        return cls(len(grid), sum(c.on_constraint for c in grid), sum(c.on_growth for c in grid), len(contending),
                   tuple(sorted({c.resolution for c in contending})), spec.base_layout().resolution)

    @property
    def resolution_searched(self) -> bool:
        """Whether the contenders train at more than one resolution, so the search can compare values of γ."""
        return len(self.trained_resolutions) > 1


def count_line(counts: Contention, spec: GridSpec) -> str:
    """One line: how many grid points each condition kept."""
    return (f"grid: {counts.on_constraint} points meet the cost constraint at the cost scale, {counts.on_growth} grow "
            f"within {spec.growth_tolerance_used:.0%} of {spec.target:g}x per phi, and {counts.contenders} of those "
            f"{proxy_condition(spec, counts.base_resolution)}: {counts.contenders} contenders")


def proxy_condition(spec: GridSpec, base_resolution: int) -> str:
    """The contender rule's condition at the proxy, in words: the target in the chosen counted cost, or (latency)
    the MACs the network costs at the cost scale, which a proxy trains with (see
    :mod:`scaling_search.coefficients.latency_grid`)."""
    if spec.cost == "latency":
        return (f"train at the {base_resolution} px proxy within {spec.tolerance:.0%} of the compute (MACs) they cost "
                "at the cost scale")
    return (f"train within {spec.tolerance:.0%} of {spec.target_ratio:.3g}x the base's {COST_WORDS[spec.cost]} at "
            f"the {base_resolution} px proxy")


def resolution_note(counts: Contention) -> str | None:
    """One line when the contenders all train at one resolution (γ cannot be searched there), else None."""
    if counts.resolution_searched or not counts.contenders:
        return None
    (resolution,) = counts.trained_resolutions
    return (f"resolution cannot be searched at this proxy: every contender trains at {resolution} px, because no "
            "larger gamma trains with the target compute there (one more pixel adds whole rows of the last feature "
            f"maps), so gamma stays 1 in effect; {FAITHFUL_HINT} would change that")

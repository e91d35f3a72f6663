"""Whether a winner really won: Welch's t-test on per-seed validation accuracies."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

ALPHA = 0.05


@dataclass(frozen=True)
class Separation:
    """The outcome of comparing two candidates' seeds."""

    verdict: str  # "separable", "not separable" or "cannot tell"
    p_value: float | None
    difference: float
    sentence: str


def welch_p_value(first: Sequence[float], second: Sequence[float]) -> float:
    """Two-sided p-value of Welch's t-test (unequal variances)."""
    from scipy import stats

    if _variance(first) == 0 and _variance(second) == 0:
        return 0.0 if _mean(first) != _mean(second) else 1.0
    return float(stats.ttest_ind(first, second, equal_var=False).pvalue)


def separation(winner: Sequence[float], other: Sequence[float], winner_name: str, other_name: str) -> Separation:
    """Say in words whether ``winner``'s seeds beat ``other``'s beyond seed noise (Welch's t-test, 5 %)."""
    difference = _mean(winner) - _mean(other)
    gap = f"{difference * 100:+.2f} points"
    if len(winner) < 2 or len(other) < 2:
        return Separation("cannot tell", None, difference,
                          f"{winner_name} vs {other_name}: {gap}; with a single seed on either side the seed noise "
                          "is unknown, so this cannot tell whether the difference is real "
                          "(run with --seeds 2 or more).")
    p_value = welch_p_value(winner, other)
    if p_value < ALPHA:
        return Separation("separable", p_value, difference,
                          f"{winner_name} vs {other_name}: {gap}, separable from seed noise "
                          f"(Welch's t-test, p = {p_value:.3g} < {ALPHA}).")
    return Separation("not separable", p_value, difference,
                      f"{winner_name} vs {other_name}: {gap}, not separable from seed noise "
                      f"(Welch's t-test, p = {p_value:.3g} ≥ {ALPHA}); treat them as tied.")


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _variance(values: Sequence[float]) -> float:
    if len(values) < 2:
        return math.nan
    mean = _mean(values)
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1)

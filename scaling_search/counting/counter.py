"""Choosing how cost is counted: fvcore on a real forward pass (default) or the closed form."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from scaling_search.counting.analytic import Counts, analytic_counts
from scaling_search.models.scaling import Layout

CounterName = Literal["fvcore", "analytic"]
COUNTERS: tuple[CounterName, ...] = ("fvcore", "analytic")
Counter = Callable[[Layout], Counts]


def make_counter(name: CounterName = "fvcore", cache_dir: Path | None = None) -> Counter:
    """A function layout → counts. fvcore is imported only when asked for."""
    if name == "analytic":
        return analytic_counts
    if name == "fvcore":
        from scaling_search.counting.measured import measured_counts

        return lambda layout: measured_counts(layout, cache_dir)
    raise ValueError(f"unknown counter {name!r}; choose one of {', '.join(COUNTERS)}")

"""Choosing how cost is counted: fvcore on a real forward pass or the closed form, one network or many."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from scaling_search.counting.analytic import Counts, analytic_counts
from scaling_search.errors import InputError
from scaling_search.models.layout import Layout, StructureKey
from scaling_search.support.machine import available_cores, memory_fit

CounterName = Literal["fvcore", "analytic"]
COUNTERS: tuple[CounterName, ...] = ("fvcore", "analytic")
Counter = Callable[[Layout], Counts]
CountProgress = Callable[[int, int], None]
"""``progress(measured, total)`` while layouts are being measured."""

PARALLEL_FROM = 24
"""Uncached layouts worth starting worker processes for: each worker first imports torch and fvcore, which costs
more than measuring a few networks here (docs/benchmarks.md)."""


@dataclass(frozen=True)
class MeasuredCounter:
    """fvcore's counts on a real forward pass, cached on disk (``cache_dir``, default the user cache)."""

    cache_dir: Path | None = None

    def __call__(self, layout: Layout) -> Counts:
        from scaling_search.counting.measured import measured_counts

        return measured_counts(layout, self.cache_dir)


def count(layout: Layout, counter: CounterName = "analytic", cache_dir: Path | None = None) -> Counts:
    """Parameters, multiply-adds (MACs) and activations of ``layout`` for one image at its resolution.

    ``"analytic"`` is the closed form: instant, no forward pass. ``"fvcore"`` measures a real
    forward pass with fvcore and caches the counts in ``cache_dir`` (default: the user cache, see
    :func:`scaling_search.support.cache.default_cache_dir`). Both use the paper's convention (conv and
    linear layers) and agree to within 0.5 %.

    Example:
        >>> from scaling_search.counting.counter import count
        >>> from scaling_search.models.scaling import scale
        >>> counts = count(scale(), "analytic")  # B0 at 224 px
        >>> counts.params, round(counts.macs / 1e6, 1), round(counts.activations / 1e6, 2)
        (5288548, 385.8, 6.75)
    """
    return make_counter(counter, cache_dir)(layout)


def make_counter(name: CounterName, cache_dir: Path | None = None) -> Counter:
    """A function layout → counts. fvcore is imported only when asked for."""
    if name == "analytic":
        return analytic_counts
    if name == "fvcore":
        return MeasuredCounter(cache_dir)
    raise InputError(f"unknown counter {name!r}; choose one of {', '.join(COUNTERS)}")


def count_all(counter: Counter, layouts: Iterable[Layout], progress: CountProgress | None = None,
              workers: int | None = None) -> dict[StructureKey, Counts]:
    """The counts of every distinct layout, by ``Layout.structure_key()``.

    For a :class:`MeasuredCounter`, layouts not in its cache are measured — in ``workers``
    processes (default: one per core this process may use, each on one thread, as one trace
    barely uses more) when there are many, else here one after another — and then cached.
    ``progress`` hears how many of those uncached layouts are done.
    """
    distinct = {layout.structure_key(): layout for layout in layouts}
    if not isinstance(counter, MeasuredCounter):
        return {key: counter(layout) for key, layout in distinct.items()}
    from scaling_search.counting.measured import cached_counts, fvcore_counts, store_counts

    cached = {key: cached_counts(layout, counter.cache_dir) for key, layout in distinct.items()}
    counts = {key: value for key, value in cached.items() if value is not None}
    missing = [key for key in distinct if key not in counts]
    workers = min(workers or available_cores(), len(missing), memory_bound_workers(distinct[k] for k in missing))
    if progress is not None and missing:
        progress(0, len(missing))
    pool = None
    try:
        if workers < 2 or len(missing) < PARALLEL_FROM:
            results: Iterable[tuple[StructureKey, Counts]] = ((key, fvcore_counts(distinct[key])) for key in missing)
        else:  # spawn: a forked child of a process whose OpenMP threads have run can deadlock
            pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=one_thread)
            futures = {pool.submit(fvcore_counts, distinct[key]): key for key in missing}
            results = ((futures[future], result_of(future)) for future in as_completed(futures))
        for done, (key, measured) in enumerate(results, start=1):
            counts[key] = measured
            store_counts(distinct[key], measured, counter.cache_dir)
            if progress is not None:
                progress(done, len(missing))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return counts


def result_of(future: Future) -> Counts:
    try:
        return future.result()
    except BrokenProcessPool:
        raise InputError("a process measuring candidates died (out of memory?); measure fewer or smaller "
                         "networks, or use --counter analytic") from None


def memory_bound_workers(layouts: Iterable[Layout]) -> int:
    """How many networks as large as the largest of ``layouts`` fit in memory at once (at least 1)."""
    from scaling_search.counting.measured import MEASURING_SHARE, measuring_bytes

    largest = max((measuring_bytes(layout) for layout in layouts), default=0)
    fit = memory_fit(largest, MEASURING_SHARE)
    return max(1, fit.copies) if fit is not None and largest else 1 << 30


def one_thread() -> None:
    import torch

    torch.set_num_threads(1)

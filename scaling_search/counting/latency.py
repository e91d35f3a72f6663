"""Latency as a cost: the time one step of a network takes on a device, measured properly and cached on disk.

One timing says little: the first calls fill caches and allocators, and the machine's other work,
its clock and its scheduler move any single run by several per cent. So a measurement here is

1. **warm-up**: the network is built, put on the device in the settings' dtype and memory format
   (compiled, if asked) and run at least :data:`WARMUP_CALLS` times and :data:`WARMUP_S` seconds;
2. **blocks**: it runs in blocks of a fixed number of calls (about :data:`BLOCK_S` seconds, one
   call at least), timed as ``torch.utils.benchmark`` times (``timeit``, the device synchronised
   before each clock reading); a block's time is the mean time of one call in it;
3. **rounds**: blocks come in rounds of :data:`ROUND_BLOCKS`, and a round's median block is one
   observation. Blocks in a row are not independent: a shared machine's speed wanders over tenths
   of a second to seconds, so the blocks of one round move together, and an interval that counted
   them as independent would be several times too narrow (docs/costs.md has the measurements);
4. **median, IQR and an interval**: the median of the round medians (robust to a round another
   process interrupted), the interquartile range of all blocks, and a distribution-free ~95 %
   interval of the median from order statistics of the rounds; rounds are added until that
   interval is within the precision asked for, or a budget of rounds is spent.

A latency *ratio* (a candidate over the base, :func:`latency_ratio`) is measured in paired rounds,
the two networks one after the other (their order alternating), so that what the machine does
during a round hits both alike; each round gives one log ratio, and the interval is the
Hodges–Lehmann/Wilcoxon one on those (:func:`paired_ratio_interval`). A ratio that is still too
wide when the budget is spent is returned as not measurable, with the reason, never as a number.
docs/costs.md says why each choice was made.

Round times are cached under ``<cache>/latency``, keyed by what sets them: the network's structure
(and activation), the device's name, torch's version and the settings, and for a ratio the pair of
networks; a later call that needs more precision adds rounds to the cached ones, and one whose
cached rounds suffice measures nothing.

Never measure while trials train on the same device: their load would be in every block. A study
measures latency before its training starts. torch only: no Ray, Optuna or fvcore.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import multiprocessing
import platform
import re
import statistics
import time
import timeit
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from scaling_search.counting.analytic import analytic_counts
from scaling_search.errors import InputError
from scaling_search.models import checks
from scaling_search.models.layout import Layout
from scaling_search.models.network import build
from scaling_search.support.cache import default_cache_dir, read_json, write_atomic
from scaling_search.support.formatting import describe
from scaling_search.support.machine import GIB, available_cores, memory_fit

Dtype = Literal["float32", "bfloat16", "float16"]
DTYPES: tuple[Dtype, ...] = ("float32", "bfloat16", "float16")
Mode = Literal["inference", "train"]
MODES: tuple[Mode, ...] = ("inference", "train")
DEVICE_FORM = re.compile(r"cpu|cuda(?::[0-9]+)?")
MAX_BATCH = 4096
MAX_THREADS = 1024
"""Most threads a setting may name; on a CPU, the cores of the process that measures bound it too."""

CACHE_VERSION = 2
"""2: times cached as rounds of blocks, and a ratio's rounds as pairs (1 kept a flat list of blocks)."""
CONFIDENCE = 0.95
"""Coverage of every interval here: the median's and the ratio's."""
WARMUP_CALLS = 3
WARMUP_S = 0.25
"""A network runs at least WARMUP_CALLS times and WARMUP_S seconds before any block is timed."""
ROUND_BLOCKS = 5
"""Blocks of one network in a round; the round's median block is one observation, and the precision is checked
after each round."""
BLOCK_S = 0.05
"""A block lasts about this long (one call when a call takes longer): the clock's overhead is nil, and a block that
another process interrupted is one outlier among many, which the median ignores."""
MIN_ROUNDS = 6
MAX_ROUNDS = 40
LEAST_PROCESSES = 6
"""The fewest fresh processes a measurement across processes may use: 95 % needs 6 observations (sign test)."""
MAX_PROCESSES = 100
LEAST_ROUNDS = 6
"""The fewest rounds ``min_rounds`` may be: with fewer, neither the order-statistic interval of the median nor the
signed-rank interval of a ratio reaches 95 %."""
MEDIAN_PRECISION = 0.025
"""Relative half-width a single network's median should be known to (``scaling-search flops --cost latency``)."""
MEMORY_SHARE = 0.5
"""Share of this machine's RAM one latency measurement on the CPU may take."""
SGD_LR = 1e-3
"""Learning rate of the train-mode step: small, so that weights stay ordinary numbers however long it runs."""


@dataclass(frozen=True)
class LatencySettings:
    """How latency is measured: the device, batch, precision, threads, memory format, compilation and mode.

    ``device`` is ``cpu``, ``cuda`` or ``cuda:N``. ``threads`` is torch's intra-op thread count while
    measuring on a CPU (restored after); at most the cores the measuring process may use. That the
    machine measuring has the device and the cores is checked when it measures
    (:func:`check_measurable_here`), as a study on a Ray cluster times on another node. ``dtype``
    float16 runs only on CUDA. ``mode`` inference: ``eval()`` and a forward pass under
    ``torch.inference_mode`` in ``dtype``; train: one forward, backward and SGD step on random
    labels, float32 weights under autocast to ``dtype``, on batches of 2 or more (BatchNorm).
    ``channels_last`` puts the network and its input in NHWC; ``compile`` runs ``torch.compile`` on
    the network before it is timed.

    Example:
        >>> from scaling_search.counting.latency import LatencySettings
        >>> LatencySettings(batch_size=8).to_dict()
        {'device': 'cpu', 'batch_size': 8, 'dtype': 'float32', 'threads': 1, 'channels_last': False,
         'compile': False, 'mode': 'inference'}
        >>> LatencySettings(dtype="float16")
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: latency dtype float16 runs only on CUDA; on cpu use float32 or bfloat16
    """

    device: str = "cpu"
    batch_size: int = 1
    dtype: Dtype = "float32"
    threads: int = 1
    channels_last: bool = False
    compile: bool = False
    mode: Mode = "inference"

    def __post_init__(self) -> None:
        check_device_form(self.device)
        checks.integer("latency batch size", self.batch_size, 1, MAX_BATCH)
        checks.choice("latency dtype", self.dtype, DTYPES)
        if self.dtype == "float16" and self.device == "cpu":
            raise InputError("latency dtype float16 runs only on CUDA; on cpu use float32 or bfloat16")
        checks.integer("latency threads", self.threads, 1, MAX_THREADS)
        checks.boolean("channels_last", self.channels_last)
        checks.boolean("compile", self.compile)
        checks.choice("latency mode", self.mode, MODES)
        if self.mode == "train" and self.batch_size < 2:
            raise InputError("latency mode train needs a batch size of 2 or more (BatchNorm trains on more than one "
                             "value per channel)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_device_form(name: object) -> None:
    """``cpu``, ``cuda`` or ``cuda:N``; else one InputError line."""
    if not isinstance(name, str) or not DEVICE_FORM.fullmatch(name):
        raise InputError(f"latency device must be cpu, cuda or cuda:N, got {name!r}")


def check_measurable_here(settings: LatencySettings) -> None:
    """This machine has the settings' device, and on a CPU the cores for its threads; else one InputError line."""
    name = settings.device
    if name == "cpu":
        cores = available_cores()
        if settings.threads > cores:
            raise InputError(f"latency threads must be an integer in [1, {cores}] (the cores this process may "
                             f"use), got {settings.threads!r}")
        return
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    index = int(name.partition(":")[2] or 0)
    if index >= count:
        has = "no CUDA device" if count == 0 else f"{count} CUDA device(s), cuda:0 to cuda:{count - 1}"
        raise InputError(f"latency device {name}: this machine has {has}")


def device_name(settings: LatencySettings) -> str:
    """A stable human name of the device latency is measured on: the GPU's, or the CPU's model.

    Every measurement starts here, so a device this machine lacks is refused here, in one line.

    Example:
        >>> from scaling_search.counting.latency import LatencySettings, device_name
        >>> isinstance(device_name(LatencySettings()), str)
        True
    """
    check_measurable_here(settings)
    if settings.device != "cpu":
        return torch.cuda.get_device_name(torch.device(settings.device))
    return cpu_model()


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what the platform says."""
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
        for line in info:
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    return platform.processor() or platform.machine() or "unknown CPU"


@dataclass(frozen=True)
class Latency:
    """One network's latency: the median over timed rounds, the blocks' spread, and what it was measured on.

    ``median_ms`` is the median of the rounds' median blocks (one call: a batch of
    ``settings.batch_size`` images); ``iqr_ms`` the interquartile range of all block times;
    ``low_ms``/``high_ms`` the median's distribution-free ~95 % interval from the rounds (None with
    too few); ``rounds`` and ``blocks`` how many were timed. Measured in ``processes`` > 1 fresh
    processes (:func:`measure_latency`), the median and its interval are over the processes' own
    medians instead, so they take in the state each process lands in. ``peak_memory_bytes`` what the
    measurement added to the CUDA device's peak allocation (weights, activations, and in train mode
    gradients and optimizer state), None on a CPU or when an injected timer measured;
    ``from_cache`` is true when every round came from the disk cache.
    """

    median_ms: float
    iqr_ms: float
    low_ms: float | None
    high_ms: float | None
    rounds: int
    blocks: int
    processes: int
    peak_memory_bytes: int | None
    device_name: str
    settings: LatencySettings
    torch_version: str
    from_cache: bool

    @property
    def half_width(self) -> float:
        """The median's interval as a share of the median, on its wider side: 0.02 means ±2 %; inf without one."""
        if self.low_ms is None or self.high_ms is None:
            return math.inf
        return relative_half_width(self.median_ms, self.low_ms, self.high_ms)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LatencyRatio:
    """A candidate's latency over the base's, known to a stated precision, or why it could not be.

    ``ratio`` is the Hodges–Lehmann estimate from the paired rounds' log ratios and ``low``/``high``
    its ~95 % interval (:func:`paired_ratio_interval`); all three are None when ``measurable`` is
    false, and ``reason`` says why in one line. ``latency`` and ``base_latency`` are each network's
    own measurement over the rounds used.
    """

    ratio: float | None
    low: float | None
    high: float | None
    measurable: bool
    reason: str | None
    latency: Latency | None
    base_latency: Latency | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


BlockTimer = Callable[[Layout, LatencySettings, int], list[float]]
"""``timer(layout, settings, blocks)`` → at least ``blocks`` block times of ``layout`` in ms, each the mean of one
call in its block. The real one is :class:`TorchTimer`; tests inject fakes."""
LatencyProgress = Callable[[int, float], None]
"""``progress(rounds, half_width)`` after each round: the rounds so far, and the relative half-width of the ~95 %
interval (of the median, or of the ratio; inf while there are too few rounds)."""
Rounds = list[list[float]]
"""Block times in ms, by round."""


def measure_latency(layout: Layout, settings: LatencySettings | None = None, *, precision: float = MEDIAN_PRECISION,
                    cache_dir: Path | None = None, use_cache: bool = True, timer: BlockTimer | None = None,
                    min_rounds: int = MIN_ROUNDS, max_rounds: int = MAX_ROUNDS, processes: int = 1,
                    progress: LatencyProgress | None = None) -> Latency:
    """The latency of ``layout`` under ``settings`` (default: CPU, batch 1, float32, one thread, inference).

    With ``processes`` ≥ :data:`LEAST_PROCESSES`, :func:`measure_in_processes` measures instead: the
    same rounds in that many fresh processes, one after another, for a latency whose interval
    covers what differs between processes too (docs/costs.md); ``precision`` then only sets what
    counts as pinned, and ``max_rounds`` is not used.

    Rounds of :data:`ROUND_BLOCKS` blocks are added until there are ``min_rounds`` and the median's
    ~95 % interval is within ``precision`` of it (relative half-width), or there are ``max_rounds``;
    the result then says how wide the interval still is (:attr:`Latency.half_width`). Rounds
    cached by an earlier call (in ``cache_dir``, default the user cache) count: enough of them and
    nothing is measured (``from_cache``); ``use_cache=False`` ignores them and replaces them with
    the new ones. ``timer`` replaces the real one (:class:`TorchTimer`). Do not measure while
    anything else runs on the device, training least of all.

    Example:
        >>> from scaling_search.counting.latency import measure_latency
        >>> from scaling_search.models.scaling import scale
        >>> def steady(layout, settings, blocks):  # a fake timer: 4 ms with a little jitter
        ...     return [4.0 + 0.01 * (i % 3) for i in range(blocks)]
        >>> latency = measure_latency(scale(resolution=32), timer=steady, use_cache=False)
        >>> latency.median_ms, latency.rounds, latency.blocks, latency.from_cache
        (4.01, 6, 30, False)
    """
    settings = settings or LatencySettings()
    check_budget(precision, min_rounds, max_rounds)
    if processes != 1:
        return measure_in_processes(layout, settings, processes=processes, rounds=min_rounds, cache_dir=cache_dir,
                                    use_cache=use_cache, timer=timer, progress=progress)
    own, timing = timers(timer)
    name = device_name(settings)
    record = SingleRecord(cache_path(latency_key(layout, settings, name), cache_dir), use_cache)
    while len(record.rounds) < max_rounds and not (len(record.rounds) >= min_rounds
                                                    and median_half_width(record.rounds) <= precision):
        record.rounds.append(timed_round(timing, layout, settings))
        record.measured = True
        if progress is not None:
            progress(len(record.rounds), median_half_width(record.rounds))
    if own is not None and record.measured:
        record.peak_memory_bytes = own.peak_memory_bytes(layout, settings)
    record.store(network_record(layout, settings, name))
    return summarise(record.rounds, record.peak_memory_bytes, name, settings, from_cache=not record.measured)


def latency_ratio(layout: Layout, base: Layout, settings: LatencySettings | None = None, *, precision: float,
                  cache_dir: Path | None = None, use_cache: bool = True, timer: BlockTimer | None = None,
                  min_rounds: int = MIN_ROUNDS, max_rounds: int = MAX_ROUNDS, round_blocks: int = ROUND_BLOCKS,
                  outside: tuple[float, float] | None = None,
                  progress: LatencyProgress | None = None) -> LatencyRatio:
    """``layout``'s latency over ``base``'s, to within ``precision`` (relative half-width of its ~95 % interval).

    The two networks are timed in paired rounds, ``round_blocks`` blocks of each (candidate first,
    then base first, and so on), so that a machine that slows down or speeds up does so for both,
    until there are ``min_rounds`` and the interval of the ratio (:func:`paired_ratio_interval`) is
    within ``precision`` of it. When ``max_rounds`` are spent first, the ratio is not measurable and
    ``reason`` says how well it is known. Cached rounds of the same pair count, as in
    :func:`measure_latency` (rounds of other lengths included: each is one observation); the same
    network as the base is exactly 1. A grid search passes its tolerance / 4 as ``precision``, and
    measures before any training starts.

    ``outside`` = (low, high) stops early, as soon as the ratio's whole interval lies below ``low``
    or above ``high``: a grid asks only whether a point can meet its constraint's band, and a point
    plainly off it needs no more rounds. Such a ratio comes back measurable with its wider interval.
    Fewer ``round_blocks`` (1) make a round a fifth as long for a noisier observation: cheaper when
    the precision asked is loose.

    Example:
        >>> from scaling_search.counting.latency import latency_ratio
        >>> from scaling_search.models.scaling import scale
        >>> def twice_as_slow_when_wider(layout, settings, blocks):  # a fake timer
        ...     return [(2.0 if layout.width > 1 else 1.0) * (1 + 0.002 * (i % 5)) for i in range(blocks)]
        >>> result = latency_ratio(scale(width=1.5, resolution=32), scale(resolution=32), precision=0.0125,
        ...                        timer=twice_as_slow_when_wider, use_cache=False)
        >>> result.measurable, round(result.ratio, 3), result.low <= 2.0 <= result.high
        (True, 2.0, True)
    """
    settings = settings or LatencySettings()
    check_budget(precision, min_rounds, max_rounds)
    checks.integer("blocks per round", round_blocks, 1, 1_000)
    name = device_name(settings)
    key, base_key = latency_key(layout, settings, name), latency_key(base, settings, name)
    if key == base_key:
        same = measure_latency(base, settings, precision=precision, cache_dir=cache_dir, use_cache=use_cache,
                               timer=timer, min_rounds=min_rounds, max_rounds=max_rounds, progress=progress)
        return LatencyRatio(1.0, 1.0, 1.0, True, None, same, same)
    own, timing = timers(timer)
    record = PairRecord(cache_path(f"{key}-{base_key}", cache_dir), use_cache)
    while True:
        n = len(record.rounds)
        interval = paired_ratio_interval(record.rounds, record.base_rounds) if n >= min_rounds else None
        width = math.inf if interval is None else relative_half_width(*interval)
        if record.measured and progress is not None:
            progress(n, width)
        if width <= precision or n >= max_rounds or lies_outside(interval, outside):
            break
        if n % 2 == 0:
            record.rounds.append(timed_round(timing, layout, settings, round_blocks))
            record.base_rounds.append(timed_round(timing, base, settings, round_blocks))
        else:
            record.base_rounds.append(timed_round(timing, base, settings, round_blocks))
            record.rounds.append(timed_round(timing, layout, settings, round_blocks))
        record.measured = True
    if own is not None and record.measured:
        record.peak_memory_bytes = own.peak_memory_bytes(layout, settings)
        record.base_peak_memory_bytes = own.peak_memory_bytes(base, settings)
    record.store({"candidate": network_record(layout, settings, name), "base": network_record(base, settings, name)})
    latency = summarise(record.rounds, record.peak_memory_bytes, name, settings, from_cache=not record.measured)
    base_latency = summarise(record.base_rounds, record.base_peak_memory_bytes, name, settings,
                             from_cache=not record.measured)
    if interval is not None and (width <= precision or lies_outside(interval, outside)):
        return LatencyRatio(*interval, True, None, latency, base_latency)
    advice = "close other work or use fewer threads" if settings.device == "cpu" else "close other work on the GPU"
    reason = (f"ratio known only to ±{100 * width:.1f} % after {len(record.rounds)} paired rounds "
              f"({latency.blocks} blocks of each network), ±{100 * precision:.1f} % needed; the machine is too "
              f"noisy: {advice}")
    return LatencyRatio(None, None, None, False, reason, latency, base_latency)


def lies_outside(interval: tuple[float, float, float] | None, band: tuple[float, float] | None) -> bool:
    """Whether a ratio's (estimate, low, high) lies wholly below or above ``band`` (never without both)."""
    if interval is None or band is None:
        return False
    _, low, high = interval
    return high < band[0] or low > band[1]


def measure_in_processes(layout: Layout, settings: LatencySettings, *, processes: int, rounds: int = MIN_ROUNDS,
                         cache_dir: Path | None = None, use_cache: bool = True, timer: BlockTimer | None = None,
                         progress: LatencyProgress | None = None) -> Latency:
    """``layout``'s latency from ``rounds`` rounds in each of ``processes`` fresh processes, run one after another.

    A process lands in a state that lasts as long as it does — on a shared VM, B0's median moved
    by up to 30 % from one fresh process to the next while each one's rounds agreed to ±2 %
    (docs/benchmarks.md). So each process's median of its round medians is one observation, and
    the latency is the median of those with their order-statistic interval (at least
    :data:`LEAST_PROCESSES` for 95 %). Processes are spawned (a fresh interpreter, nothing
    inherited) and never overlap. The processes' rounds are cached apart from in-process ones,
    under the same key; cached processes count, and ``use_cache=False`` replaces them.
    ``progress(processes so far, half-width)`` hears after each process.

    Example:
        >>> from scaling_search.counting.latency import measure_in_processes
        >>> from scaling_search.models.scaling import scale
        >>> latency = measure_in_processes(scale(resolution=32), LatencySettings(), processes=6,
        ...                                use_cache=False)  # doctest: +SKIP
        >>> latency.processes, latency.rounds  # doctest: +SKIP
        (6, 36)
    """
    if isinstance(processes, bool) or not isinstance(processes, int) or not (
            LEAST_PROCESSES <= processes <= MAX_PROCESSES):
        raise InputError(f"latency processes must be 1 (this process) or {LEAST_PROCESSES} to {MAX_PROCESSES} "
                         f"(a 95 % interval needs {LEAST_PROCESSES}), got {processes!r}")
    checks.integer("rounds per process", rounds, LEAST_ROUNDS, 1_000_000)
    name = device_name(settings)
    record = SessionsRecord(cache_path(f"{latency_key(layout, settings, name)}-processes", cache_dir), use_cache)
    if len(record.sessions) < processes:
        spawn = multiprocessing.get_context("spawn")
        while len(record.sessions) < processes:
            with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:  # one fresh process each
                session, peak = pool.submit(session_rounds, layout, settings, rounds, timer).result()
            record.sessions.append(session)
            record.peak_memory_bytes = peak
            record.measured = True
            if progress is not None:
                progress(len(record.sessions), relative_half_width_of(session_medians(record.sessions)))
    record.store(network_record(layout, settings, name))
    medians = session_medians(record.sessions)
    latency = summarise([r for session in record.sessions for r in session], record.peak_memory_bytes, name,
                        settings, from_cache=not record.measured)
    interval = median_interval(medians)
    low, high = (None, None) if interval is None else interval
    return replace(latency, median_ms=statistics.median(medians), low_ms=low, high_ms=high,
                   processes=len(record.sessions))


def session_rounds(layout: Layout, settings: LatencySettings, rounds: int,
                   timer: BlockTimer | None) -> tuple[Rounds, int | None]:
    """One fresh process's rounds of ``layout`` and its peak memory (the body of :func:`measure_in_processes`)."""
    own, timing = timers(timer)
    measured = [timed_round(timing, layout, settings) for _ in range(rounds)]
    return measured, None if own is None else own.peak_memory_bytes(layout, settings)


def session_medians(sessions: list[Rounds]) -> list[float]:
    return [statistics.median(round_medians(rounds)) for rounds in sessions]


def relative_half_width_of(values: list[float]) -> float:
    """The relative half-width of the median's order-statistic interval of ``values``; inf without one."""
    interval = median_interval(values)
    return math.inf if interval is None else relative_half_width(statistics.median(values), *interval)


def timers(timer: BlockTimer | None) -> tuple[TorchTimer | None, BlockTimer]:
    """(the real timer or None, the timer to use): ``timer``, else a new :class:`TorchTimer`; a real one passed in
    is used as it is, and measures memory too."""
    if isinstance(timer, TorchTimer):
        return timer, timer
    if timer is not None:
        return None, timer
    own = TorchTimer()
    return own, own


def check_budget(precision: float, min_rounds: int, max_rounds: int) -> None:
    checks.number("latency precision", precision, 0.0, 1.0)
    checks.integer("min_rounds", min_rounds, LEAST_ROUNDS, 1_000_000)
    checks.integer("max_rounds", max_rounds, min_rounds, 1_000_000)


def timed_round(timer: BlockTimer, layout: Layout, settings: LatencySettings, blocks: int = ROUND_BLOCKS
                ) -> list[float]:
    """One round: ``blocks`` block times of ``layout``; a timer that breaks its contract is a bug."""
    times = timer(layout, settings, blocks)
    if len(times) < blocks or not valid_times(times):
        raise ValueError(f"a block timer returned {times!r} for {blocks} blocks: it must return at least that "
                         "many positive, finite times")
    return [float(t) for t in times]


def round_medians(rounds: Rounds) -> list[float]:
    return [statistics.median(blocks) for blocks in rounds]


def median_half_width(rounds: Rounds) -> float:
    return relative_half_width_of(round_medians(rounds))


def summarise(rounds: Rounds, peak_memory_bytes: int | None, device: str, settings: LatencySettings, *,
              from_cache: bool) -> Latency:
    """A :class:`Latency` from ``rounds`` of block times."""
    medians = round_medians(rounds)
    blocks = [t for times in rounds for t in times]
    interval = median_interval(medians)
    low, high = (None, None) if interval is None else interval
    quartiles = statistics.quantiles(blocks, n=4, method="inclusive") if len(blocks) > 1 else [0.0, 0.0]
    return Latency(median_ms=statistics.median(medians), iqr_ms=quartiles[-1] - quartiles[0], low_ms=low,
                   high_ms=high, rounds=len(rounds), blocks=len(blocks), processes=1,
                   peak_memory_bytes=peak_memory_bytes,
                   device_name=device, settings=settings, torch_version=torch.__version__, from_cache=from_cache)


def median_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """A distribution-free interval of the median the ``values`` were drawn from: two order statistics.

    With n values, the j-th smallest and the j-th largest bound the median with probability at
    least ``confidence`` when j is the largest rank with P(Binomial(n, ½) < j) ≤ (1 − confidence)/2,
    whatever the distribution of independent values. None when n is too small for any such j
    (below 6 at 95 %).

    Example:
        >>> from scaling_search.counting.latency import median_interval
        >>> median_interval([float(t) for t in range(1, 11)])
        (2.0, 9.0)
    """
    n = len(values)
    tail = (1 - confidence) / 2
    rank, below = 0, 0.0
    while rank < n and below + math.comb(n, rank) / 2**n <= tail:
        below += math.comb(n, rank) / 2**n
        rank += 1
    if rank == 0:
        return None
    ordered = sorted(values)
    return ordered[rank - 1], ordered[n - rank]


def paired_ratio_interval(rounds: Rounds, base_rounds: Rounds,
                          confidence: float = CONFIDENCE) -> tuple[float, float, float] | None:
    """(estimate, low, high) of the ratio of two networks' typical block times, from paired rounds.

    Round i of each network was timed back to back, so the log of the ratio of their median
    blocks, d_i, is free of whatever the machine did at that time. The estimate is Hodges–Lehmann's
    (the median of the Walsh averages (d_i + d_j)/2, i ≤ j); the interval is the k-th smallest and
    k-th largest Walsh average, k from the exact null distribution of Wilcoxon's signed-rank
    statistic. It covers the true ratio with probability ``confidence`` whenever the d_i are
    independent and symmetric about it, however heavy their tails. None with fewer than 6 pairs.

    Example:
        >>> from scaling_search.counting.latency import paired_ratio_interval
        >>> rounds = [[2.0, 2.1], [2.3, 2.2], [1.9, 2.0], [2.2, 2.2], [2.0, 2.1], [2.5, 2.4]]
        >>> base = [[1.0, 1.0], [1.1, 1.2], [0.9, 1.0], [1.1, 1.1], [1.0, 1.0], [1.2, 1.3]]
        >>> estimate, low, high = paired_ratio_interval(rounds, base)
        >>> round(estimate, 2), low < 2.0 < high
        (2.0, True)
    """
    if len(rounds) != len(base_rounds):
        raise ValueError(f"paired rounds differ in number: {len(rounds)} and {len(base_rounds)}")
    logs = np.log(round_medians(rounds)) - np.log(round_medians(base_rounds))
    n = len(logs)
    rank = signed_rank_critical(n, confidence)
    if rank == 0:
        return None
    upper = np.triu_indices(n)
    walsh = np.sort((logs[:, None] + logs[None, :])[upper] / 2)
    return (math.exp(float(np.median(walsh))), math.exp(float(walsh[rank - 1])),
            math.exp(float(walsh[len(walsh) - rank])))


@functools.lru_cache(maxsize=256)
def signed_rank_critical(n: int, confidence: float) -> int:
    """The largest k with P(T ≤ k − 1) ≤ (1 − confidence)/2 for Wilcoxon's signed-rank statistic T of n pairs.

    0 when there is none (n < 6 at 95 %). T's exact null distribution: the number of subsets of
    {1, …, n} with each sum, over 2^n.
    """
    ways = [1] + [0] * (n * (n + 1) // 2)
    for rank in range(1, n + 1):
        for total in range(len(ways) - 1, rank - 1, -1):
            ways[total] += ways[total - rank]
    tail, below, k = (1 - confidence) / 2, 0.0, 0
    while k < len(ways) and below + ways[k] / 2**n <= tail:
        below += ways[k] / 2**n
        k += 1
    return k


def relative_half_width(estimate: float, low: float, high: float) -> float:
    """The wider side of [low, high] as a share of ``estimate``: 0.02 means ±2 %."""
    return max(high / estimate - 1, 1 - low / estimate)


def latency_key(layout: Layout, settings: LatencySettings, device: str) -> str:
    """The cache key of ``layout``'s block times: what sets them, and nothing else.

    The layout's structure (as for counts) and its activation; in train mode its dropout and drop
    path too, which cost time there; the device's name, torch's version and every setting.
    """
    form: list[object] = [layout.activation]
    if settings.mode == "train":
        form += [layout.dropout, layout.drop_path]
    payload = json.dumps([CACHE_VERSION, layout.structure_key(), form, device, torch.__version__, settings.to_dict()],
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def cache_path(key: str, cache_dir: Path | None) -> Path:
    """Where the rounds under ``key`` (a network's :func:`latency_key`, or a pair's two joined by '-') are cached."""
    return (cache_dir or default_cache_dir()) / "latency" / f"{key}.json"


def network_record(layout: Layout, settings: LatencySettings, device: str) -> dict[str, Any]:
    """What a cache entry says about the network it holds, for a person reading the cache."""
    return {"device_name": device, "torch_version": torch.__version__, "settings": settings.to_dict(),
            "network": {"base": layout.base, "width": layout.width, "depth": layout.depth,
                        "resolution": layout.resolution}}


def write_cache(path: Path, record: dict[str, Any]) -> None:
    """Write a cache entry; an unusable cache is a warning, as it costs only time."""
    try:
        write_atomic(path, json.dumps(record).encode())
    except OSError as err:
        warnings.warn(f"could not cache latency in {path.parent} (set SCALING_SEARCH_CACHE to move the cache): "
                      f"{err.strerror or err}", stacklevel=4)


class SingleRecord:
    """One network's cached rounds (a missing, unreadable or foreign entry is a miss), added to while measuring."""

    def __init__(self, path: Path, use_cache: bool) -> None:
        self.path = path
        cached = read_json(path) if use_cache else None
        if not (isinstance(cached, dict) and valid_rounds(cached.get("rounds_ms"))
                and valid_peak(cached.get("peak_memory_bytes"))):
            cached = {"rounds_ms": [], "peak_memory_bytes": None}
        self.rounds: Rounds = [[float(t) for t in times] for times in cached["rounds_ms"]]
        self.peak_memory_bytes: int | None = cached["peak_memory_bytes"]
        self.measured = False

    def store(self, about: dict[str, Any]) -> None:
        if self.measured:
            write_cache(self.path, {"rounds_ms": self.rounds, "peak_memory_bytes": self.peak_memory_bytes, **about})


class SessionsRecord:
    """One network's cached rounds from fresh processes, by process, added to while measuring."""

    def __init__(self, path: Path, use_cache: bool) -> None:
        self.path = path
        cached = read_json(path) if use_cache else None
        if not (isinstance(cached, dict) and isinstance(cached.get("sessions_ms"), list)
                and all(valid_rounds(session) and session for session in cached["sessions_ms"])
                and valid_peak(cached.get("peak_memory_bytes"))):
            cached = {"sessions_ms": [], "peak_memory_bytes": None}
        self.sessions: list[Rounds] = [[[float(t) for t in times] for times in session]
                                       for session in cached["sessions_ms"]]
        self.peak_memory_bytes: int | None = cached["peak_memory_bytes"]
        self.measured = False

    def store(self, about: dict[str, Any]) -> None:
        if self.measured:
            write_cache(self.path, {"sessions_ms": self.sessions, "peak_memory_bytes": self.peak_memory_bytes,
                                    **about})


class PairRecord:
    """A ratio's cached paired rounds (candidate, base), added to while measuring."""

    def __init__(self, path: Path, use_cache: bool) -> None:
        self.path = path
        cached = read_json(path) if use_cache else None
        if not (isinstance(cached, dict) and valid_rounds(cached.get("rounds_ms"))
                and valid_rounds(cached.get("base_rounds_ms"))
                and len(cached["rounds_ms"]) == len(cached["base_rounds_ms"])
                and valid_peak(cached.get("peak_memory_bytes")) and valid_peak(cached.get("base_peak_memory_bytes"))):
            cached = {"rounds_ms": [], "base_rounds_ms": [], "peak_memory_bytes": None,
                      "base_peak_memory_bytes": None}
        self.rounds: Rounds = [[float(t) for t in times] for times in cached["rounds_ms"]]
        self.base_rounds: Rounds = [[float(t) for t in times] for times in cached["base_rounds_ms"]]
        self.peak_memory_bytes: int | None = cached["peak_memory_bytes"]
        self.base_peak_memory_bytes: int | None = cached["base_peak_memory_bytes"]
        self.measured = False

    def store(self, about: dict[str, Any]) -> None:
        if self.measured:
            write_cache(self.path, {"rounds_ms": self.rounds, "base_rounds_ms": self.base_rounds,
                                    "peak_memory_bytes": self.peak_memory_bytes,
                                    "base_peak_memory_bytes": self.base_peak_memory_bytes, **about})


def valid_times(times: object) -> bool:
    return isinstance(times, list) and all(
        isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) and t > 0 for t in times)


def valid_rounds(rounds: object) -> bool:
    return isinstance(rounds, list) and all(valid_times(times) and times for times in rounds)


def valid_peak(peak: object) -> bool:
    return peak is None or (isinstance(peak, int) and not isinstance(peak, bool) and peak >= 0)


@dataclass(frozen=True)
class Prepared:
    """A network ready to time: one call of it, a block of calls, and its memory peak."""

    step: Callable[[], None]
    block: timeit.Timer
    calls: int
    """Calls per block: enough for :data:`BLOCK_S` seconds, at least one."""
    peak_memory_bytes: int | None


class TorchTimer:
    """The real :data:`BlockTimer`: blocks of a fixed number of calls of a warmed-up network, timed by ``timeit``.

    The clock is the one ``torch.utils.benchmark.Timer`` uses (``timeit`` with garbage collection
    off; on CUDA, the device synchronised before each reading), but the number of calls per block
    is fixed once per network after its warm-up, so every block of a network is alike and a request
    for k blocks times k blocks. (``blocked_autorange`` picks the block size again on every call, by
    powers of ten, which made a round ask for 5 blocks and get 50.) Each network is built, warmed
    up (and compiled, when asked) once and kept for the calls that follow, so the alternating rounds
    of a ratio prepare each only once; drop the timer to free them. Each call runs the network once
    untimed before its blocks, as the other network of a ratio ran last. On CUDA, the device's peak
    allocation statistics are reset when a network is prepared. ``keep`` bounds how many prepared
    networks are kept (the least recently timed is dropped first; None: all), for a grid that times
    hundreds one after another against the same base.
    """

    def __init__(self, keep: int | None = None) -> None:
        if keep is not None:
            checks.integer("prepared networks kept", keep, 1, 1_000_000)
        self.keep = keep
        self.prepared: dict[str, Prepared] = {}

    def __call__(self, layout: Layout, settings: LatencySettings, blocks: int) -> list[float]:
        key = latency_key(layout, settings, settings.device)
        with measuring_on(settings), out_of_memory_is_input(layout, settings):
            prepared = self.prepared.pop(key, None) or prepare(layout, settings)
            self.prepared[key] = prepared  # the most recently timed last
            while self.keep is not None and len(self.prepared) > self.keep:
                del self.prepared[next(iter(self.prepared))]
            prepared.step()  # untimed: the other network of a ratio may have just filled the caches
            return [prepared.block.timeit(prepared.calls) / prepared.calls * 1e3 for _ in range(blocks)]

    def peak_memory_bytes(self, layout: Layout, settings: LatencySettings) -> int | None:
        """What preparing and warming up ``layout`` added to the CUDA device's peak allocation; None on a CPU."""
        prepared = self.prepared.get(latency_key(layout, settings, settings.device))
        return None if prepared is None else prepared.peak_memory_bytes


@contextlib.contextmanager
def measuring_on(settings: LatencySettings) -> Iterator[None]:
    """The settings' threads on a CPU (the previous count restored after), the settings' CUDA device on a GPU."""
    if settings.device != "cpu":
        with torch.cuda.device(torch.device(settings.device)):
            yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def out_of_memory_is_input(layout: Layout, settings: LatencySettings) -> Iterator[None]:
    try:
        yield
    except torch.cuda.OutOfMemoryError:
        raise InputError(f"{layout.base} at {layout.resolution} px with batch {settings.batch_size} does not fit in "
                         f"{settings.device}'s memory; measure a smaller batch") from None


def prepare(layout: Layout, settings: LatencySettings) -> Prepared:
    """Build ``layout`` for ``settings``, warm it up, and size its blocks."""
    device = torch.device(settings.device)
    if device.type == "cpu":
        check_fits(layout, settings)
        before = 0
    else:
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
    step = make_step(layout, settings, device)
    try:
        call_s = warm_up(step, device)
    except torch.cuda.OutOfMemoryError:
        raise
    except Exception as err:  # a compiler missing or failing on this machine: the user's to change, not a bug
        if not settings.compile:
            raise
        raise InputError(f"torch.compile failed on this network ({describe(err)}); measure without compile") from None
    peak = None if device.type == "cpu" else torch.cuda.max_memory_allocated(device) - before
    block = timeit.Timer(step, timer=functools.partial(synchronized_clock, device))
    return Prepared(step, block, max(1, round(BLOCK_S / call_s)), peak)


def check_fits(layout: Layout, settings: LatencySettings) -> None:
    """Refuse, in one line, a network whose weights and activations at this batch would not fit in half the RAM."""
    counts = analytic_counts(layout)
    copies = 4 if settings.mode == "train" else 1  # weights, gradients, momentum; activations kept for backward
    needed = 4 * (copies * counts.params + 2 * settings.batch_size * counts.activations)
    fit = memory_fit(needed, MEMORY_SHARE)
    if fit is not None and not fit.copies:
        raise InputError(f"measuring the latency of this network at batch {settings.batch_size} needs about "
                         f"{needed / GIB:.1f} GiB, more than half this machine's {fit.total / GIB:.1f} GiB; "
                         "measure a smaller batch or network")


def make_step(layout: Layout, settings: LatencySettings, device: torch.device) -> Callable[[], None]:
    """One call to time: a forward pass (inference) or a forward, backward and SGD step (train)."""
    memory_format = torch.channels_last if settings.channels_last else torch.contiguous_format
    dtype = getattr(torch, settings.dtype)
    model = build(layout).to(device).to(memory_format=memory_format)
    x = torch.randn(settings.batch_size, 3, layout.resolution, layout.resolution, device=device)
    x = x.contiguous(memory_format=memory_format)
    if settings.mode == "inference":
        model.eval().to(dtype)
        x = x.to(dtype)
        forward = torch.compile(model) if settings.compile else model

        def infer() -> None:
            with torch.inference_mode():
                forward(x)

        return infer
    labels = torch.randint(layout.num_classes, (settings.batch_size,), device=device)
    optimizer = torch.optim.SGD(model.train().parameters(), lr=SGD_LR, momentum=0.9)
    forward = torch.compile(model) if settings.compile else model

    def train() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32):
            loss = torch.nn.functional.cross_entropy(forward(x), labels)
        loss.backward()
        optimizer.step()

    return train


def warm_up(step: Callable[[], None], device: torch.device) -> float:
    """Run ``step`` at least :data:`WARMUP_CALLS` times and :data:`WARMUP_S` seconds; the seconds of its last call."""
    started = time.perf_counter()
    calls = 0
    while True:
        began = synchronized_clock(device)
        step()
        last = synchronized_clock(device) - began
        calls += 1
        if calls >= WARMUP_CALLS and time.perf_counter() - started >= WARMUP_S:
            return last


def synchronized_clock(device: torch.device) -> float:
    """Seconds by the performance counter, once the device's queued work is done."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()

"""Cost measured by fvcore on a real forward pass, cached on disk.

fvcore traces the network (a second or more per network), so results are cached as small
JSON files keyed by the realised layout and resolution: many grid points share a layout,
and a repeated query is a file read. The op handles are set explicitly so that only conv
and linear layers count, as in the paper; BatchNorm, pooling, activations and the SE
multiply are ignored, and fvcore's unsupported-op and TorchScript warnings stay quiet.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import torch

from scaling_search.compat.fvcore import Handle, default_op_handles
from scaling_search.counting.analytic import Counts, analytic_counts
from scaling_search.errors import InputError
from scaling_search.models.network import build, count_parameters
from scaling_search.models.scaling import Layout
from scaling_search.support.cache import default_cache_dir, read_json, write_atomic
from scaling_search.support.machine import GIB, memory_fit

CACHE_VERSION = 1
BYTES_PER_VALUE = 4  # float32 weights and activations
COUNTED_OPS = ("aten::_convolution", "aten::addmm", "aten::linear", "aten::matmul")
"""The ops whose multiply-adds count: conv and linear layers, as in the paper."""
MEASURING_SHARE = 0.5
"""Share of the RAM measurements may take, one network or many in parallel: the rest is the machine's."""


def cache_key(layout: Layout) -> str:
    payload = json.dumps([CACHE_VERSION, layout.structure_key()], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def fvcore_counts(layout: Layout) -> Counts:
    """Measure ``layout`` with fvcore (no cache): one traced forward pass of a single image."""
    check_measurable(layout)
    model = build(layout).eval()
    macs, activations = fvcore_model_counts(model, torch.zeros(1, 3, layout.resolution, layout.resolution))
    return Counts(count_parameters(model), macs, activations)


def check_measurable(layout: Layout) -> None:
    """Refuse, in one line, a network whose weights and one image's activations would not fit in memory.

    Widths up to the allowed 64× make networks of billions of parameters; building one would end
    in an allocation failure (or the OOM killer). The closed form counts it without building it.
    """
    needed = measuring_bytes(layout)
    fit = memory_fit(needed, MEASURING_SHARE)
    if fit is not None and not fit.copies:
        raise InputError(f"measuring this network with fvcore needs about {needed / GIB:.1f} GiB "
                         f"({analytic_counts(layout).params:,} parameters), more than half this machine's "
                         f"{fit.total / GIB:.1f} GiB; use --counter analytic, which gives the same counts without "
                         "building it")


def measuring_bytes(layout: Layout) -> int:
    """Memory one fvcore measurement of ``layout`` needs, roughly: its weights and one image's activations, twice."""
    expected = analytic_counts(layout)
    return BYTES_PER_VALUE * (expected.params + 2 * expected.activations)


def fvcore_model_counts(model: torch.nn.Module, inputs: torch.Tensor) -> tuple[int, int]:
    """(MACs, activations) of any module in the paper's convention: only conv and linear layers count.

    fvcore's FLOP (one fused multiply-add = one FLOP, i.e. MACs) and activation handles run on a
    single trace: each counted op reports both, and ``by_operator`` separates them again.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fvcore.nn.jit_analysis import JitModelAnalysis

        defaults = default_op_handles(model, inputs)
        handles = {"macs": {op: defaults["macs"][op] for op in COUNTED_OPS}, "activations": defaults["activations"]}
        analysis = JitModelAnalysis(model, inputs)
        analysis.set_op_handle(**{op: both_counts(op, handles) for op in {*handles["macs"], *handles["activations"]}})
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        fvcore_logger = logging.getLogger("fvcore")
        previous = fvcore_logger.level
        fvcore_logger.setLevel(logging.ERROR)
        try:
            with torch.no_grad():
                totals = analysis.by_operator()
        finally:
            fvcore_logger.setLevel(previous)
    return int(totals.get("macs", 0)), int(totals.get("activations", 0))


def both_counts(op: str, handles: dict[str, dict[str, Handle]]) -> Callable[[list, list], Counter]:
    """An fvcore op handle reporting ``{"macs": …, "activations": …}`` for ``op`` from each kind's own handle."""

    def handle(inputs: list, outputs: list) -> Counter:
        counts: Counter = Counter()
        for kind, kind_handles in handles.items():
            if op in kind_handles:
                value = kind_handles[op](inputs, outputs)
                counts[kind] += sum(value.values()) if isinstance(value, Counter) else value
        return counts

    return handle


def cache_path(layout: Layout, cache_dir: Path | None) -> Path:
    return (cache_dir or default_cache_dir()) / "counts" / f"{cache_key(layout)}.json"


def cached_counts(layout: Layout, cache_dir: Path | None = None) -> Counts | None:
    """The counts of ``layout`` when they are in the disk cache (and readable), else None."""
    cached = read_json(cache_path(layout, cache_dir))
    if isinstance(cached, dict) and set(cached) == {"params", "macs", "activations"}:
        return Counts(**cached)
    return None


def measured_counts(layout: Layout, cache_dir: Path | None = None) -> Counts:
    """fvcore's counts of ``layout``, from the disk cache when this layout was measured before."""
    cached = cached_counts(layout, cache_dir)
    if cached is not None:
        return cached
    counts = fvcore_counts(layout)
    store_counts(layout, counts, cache_dir)
    return counts


def store_counts(layout: Layout, counts: Counts, cache_dir: Path | None = None) -> None:
    """Cache ``counts`` of ``layout``; an unusable cache is a warning, as it costs only time."""
    path = cache_path(layout, cache_dir)
    try:
        write_atomic(path, json.dumps(counts.__dict__).encode())
    except OSError as err:
        warnings.warn(f"could not cache counts in {path.parent} (set SCALING_SEARCH_CACHE to move the cache): "
                      f"{err.strerror or err}", stacklevel=3)

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
from pathlib import Path

import torch

from scaling_search.cache import default_cache_dir, read_json, write_atomic
from scaling_search.counting.analytic import Counts
from scaling_search.models.efficientnet import build, count_parameters
from scaling_search.models.scaling import Layout

CACHE_VERSION = 1
COUNTED_OPS = ("aten::_convolution", "aten::addmm", "aten::linear", "aten::matmul")


def cache_key(layout: Layout) -> str:
    payload = json.dumps([CACHE_VERSION, layout.structure_key()], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def fvcore_counts(layout: Layout) -> Counts:
    """Measure ``layout`` with fvcore (no cache): one traced forward pass of a single image."""
    model = build(layout).eval()
    macs, activations = fvcore_model_counts(model, torch.zeros(1, 3, layout.resolution, layout.resolution))
    return Counts(count_parameters(model), macs, activations)


def fvcore_model_counts(model: torch.nn.Module, inputs: torch.Tensor) -> tuple[int, int]:
    """(MACs, activations) of any module in the paper's convention: only conv and linear layers count."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis
        from fvcore.nn.jit_analysis import JitModelAnalysis

        default_flops = FlopCountAnalysis(model, inputs)
        flops = JitModelAnalysis(model, inputs)
        flops.set_op_handle(**{op: default_flops._op_handles[op] for op in COUNTED_OPS})
        activations = ActivationCountAnalysis(model, inputs)
        for analysis in (flops, activations):
            analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        fvcore_logger = logging.getLogger("fvcore")
        previous = fvcore_logger.level
        fvcore_logger.setLevel(logging.ERROR)
        try:
            with torch.no_grad():
                return int(flops.total()), int(activations.total())
        finally:
            fvcore_logger.setLevel(previous)


def measured_counts(layout: Layout, cache_dir: Path | None = None) -> Counts:
    """fvcore's counts of ``layout``, from the disk cache when this layout was measured before."""
    path = (cache_dir or default_cache_dir()) / "counts" / f"{cache_key(layout)}.json"
    cached = read_json(path)
    if isinstance(cached, dict) and set(cached) == {"params", "macs", "activations"}:
        return Counts(**cached)
    counts = fvcore_counts(layout)
    try:
        write_atomic(path, json.dumps(counts.__dict__).encode())
    except OSError as err:  # an unusable cache costs the next count time, not this one its answer
        warnings.warn(f"could not cache counts in {path.parent} (set SCALING_SEARCH_CACHE to move the cache): "
                      f"{err.strerror or err}", stacklevel=2)
    return counts

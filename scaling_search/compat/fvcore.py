"""fvcore's default op handles, which fvcore keeps only in a private attribute (``_op_handles``).

fvcore's public analyses (``FlopCountAnalysis``, ``ActivationCountAnalysis``) each trace the model
once. :mod:`scaling_search.counting.measured` counts both on a single trace, with one handle per op
that asks each analysis's own default handle; fvcore has no public way to get those handles, so
they are read here, and ``tests/compat/test_compat_fvcore.py`` fails with a clear message if fvcore stops
providing them or changes what they return (fvcore 0.1.5.post20221221).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

Handle = Callable[[list, list], Any]
"""fvcore calls ``handle(node_inputs, node_outputs)`` on each traced op it has a handle for; it returns a number or a
``collections.Counter`` of numbers."""


def default_op_handles(model: torch.nn.Module, inputs: torch.Tensor) -> dict[str, dict[str, Handle]]:
    """``{"macs": {op: handle}, "activations": {op: handle}}``: the handles fvcore's analyses install by default.

    fvcore's "flops" are fused multiply-adds, i.e. MACs. Nothing is traced here: an analysis traces
    the model only when asked for counts. Importing fvcore warns about ``torch.jit``; silencing that
    is the caller's choice.
    """
    from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis

    analyses = {"macs": FlopCountAnalysis(model, inputs), "activations": ActivationCountAnalysis(model, inputs)}
    return {kind: dict(analysis._op_handles) for kind, analysis in analyses.items()}

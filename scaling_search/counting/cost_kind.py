"""The three costs a search can hold candidates to, in plain words.

* ``macs``: multiply-adds of conv and linear layers for one image (the paper's FLOPs, counted
  in closed form or by fvcore). What the paper constrained; the same on every machine.
* ``activations``: output elements of every conv and linear layer for one image. Dollár, Singh
  and Girshick (CVPR 2021, "Fast and Accurate Model Scaling") show that they, not FLOPs, predict
  runtime on GPUs, where memory traffic rather than arithmetic bounds most layers. Counted like MACs.
* ``latency``: milliseconds measured on the user's own device under named settings
  (:mod:`scaling_search.counting.latency`): what a deployed network costs, on that device only.

MACs and activations are *counted* (exact, instant); latency is *measured* (noisy, cached).
"""

from __future__ import annotations

from typing import Literal, get_args

from scaling_search.counting.layer_counts import Counts
from scaling_search.errors import InputError

CostKind = Literal["macs", "activations", "latency"]
COST_KINDS: tuple[CostKind, ...] = get_args(CostKind)
COUNTED_KINDS: tuple[CostKind, ...] = ("macs", "activations")
"""The costs read off :class:`Counts`; latency is measured instead."""
COST_WORDS: dict[str, str] = {"macs": "compute", "activations": "activations", "latency": "latency"}
"""How a sentence names each cost ("trains with 2.1x the base's compute")."""


def check_cost_kind(kind: object) -> CostKind:
    """``kind`` when it names a cost, else InputError listing the three."""
    if kind not in COST_KINDS:
        raise InputError(f"cost must be one of {', '.join(COST_KINDS)}, not {kind!r}")
    return kind


def counted_cost(counts: Counts, kind: CostKind) -> int:
    """The counted cost ``kind`` of a network whose counts are ``counts``.

    Example:
        >>> from scaling_search.counting.layer_counts import Counts
        >>> counts = Counts(params=10, macs=300, activations=20)
        >>> counted_cost(counts, "macs"), counted_cost(counts, "activations")
        (300, 20)
    """
    if kind == "macs":
        return counts.macs
    if kind == "activations":
        return counts.activations
    raise InputError(f"{kind} is measured on a device, not counted; use the latency measurement for it")

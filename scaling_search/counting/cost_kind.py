"""The three costs a network can be held to, by name: ``macs``, ``activations`` and ``latency``.

* ``macs`` — multiply-adds of one forward pass of one image, counting conv and linear layers as the
  paper does (:mod:`scaling_search.counting.analytic`, :mod:`scaling_search.counting.measured`).
  Exact, the same on every machine, and what EfficientNet's cost constraint was stated in.
* ``activations`` — values the conv and linear layers output in that pass: a proxy for memory
  traffic, which is what many small layers (depthwise convs, SE) actually wait on. Exact, like MACs.
* ``latency`` — time one step of the network takes on a real device with stated settings
  (:mod:`scaling_search.counting.latency`): what a deployment pays, but measured, so it comes with
  an uncertainty, depends on the device, the software and the settings, and is cached per
  combination of them.

Example:
    >>> from scaling_search.counting.cost_kind import COST_KINDS
    >>> COST_KINDS
    ('macs', 'activations', 'latency')
"""

from __future__ import annotations

from typing import Literal

CostKind = Literal["macs", "activations", "latency"]
COST_KINDS: tuple[CostKind, ...] = ("macs", "activations", "latency")
"""Every :data:`CostKind`, the default (``macs``, the paper's) first."""

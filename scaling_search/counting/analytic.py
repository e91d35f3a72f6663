"""Closed-form complexity of a realised layout: parameters, multiply-adds and activations, no forward pass.

Conventions are the paper's (see :mod:`.layers`): multiply-adds of conv and linear layers only,
so BatchNorm, activations, pooling (ResNet's max pool too), residual adds and the SE multiply are
not counted; activations are conv and linear output elements.

Like pycls, each layer kind (:mod:`.layers`) and block kind (:mod:`.blocks`) has a small function
returning :class:`Counts`, and a network is their sum. It is fast enough to pre-filter dense
candidate grids; fvcore measures the kept ones, and agrees exactly.
"""

from __future__ import annotations

from scaling_search.counting.block_counts import BLOCK_COUNTS
from scaling_search.counting.layer_counts import Counts, conv_bn, conv_output_size, linear
from scaling_search.models.layout import Layout

__all__ = ["Counts", "analytic_counts"]


def analytic_counts(layout: Layout) -> Counts:
    """Parameters, multiply-adds and activations of ``layout`` for one image at its resolution.

    Example:
        >>> from scaling_search.models.bases import base_network
        >>> from scaling_search.models.scaling import scale
        >>> counts = analytic_counts(scale(base=base_network("resnet50")))
        >>> counts.params, round(counts.macs / 1e9, 3)
        (25557032, 4.089)
    """
    total, size = conv_bn(layout.resolution, 3, layout.stem, layout.stem_kernel, layout.stem_stride)
    if layout.stem_pool:  # 3×3 stride-2 max pool, padding 1: no multiply-adds, output ceil(size / 2)
        size = conv_output_size(size, 2)
    for stage in layout.stages:
        count = BLOCK_COUNTS[stage.block]
        first, size = count(size, stage.in_channels, stage, stage.stride, layout)
        total += first
        if stage.repeats > 1:  # the stage's other blocks are identical: count one, times how many
            rest, size = count(size, stage.out_channels, stage, 1, layout)
            total += rest.times(stage.repeats - 1)
    if layout.head is not None:
        head, size = conv_bn(size, layout.stages[-1].out_channels, layout.head, 1)
        total += head
    return total + linear(layout.features, layout.num_classes)

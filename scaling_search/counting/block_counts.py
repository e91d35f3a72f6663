"""Closed-form counts of one block of each kind, mirroring :mod:`scaling_search.models.modules` layer by layer.

Each function takes the block's input size and channels, its stage, its stride and the layout,
and returns the block's :class:`~scaling_search.counting.layer_counts.Counts` and output size. The
projection shortcut of ResNet and RegNet blocks is a 1×1 conv + BN and counts; the residual add
and the activation after it do not (only conv and linear layers count).
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

from scaling_search.counting.layer_counts import ZERO, Counts, conv_bn, squeeze_excitation
from scaling_search.models.kinds import has_identity_skip
from scaling_search.models.layout import Layout, StageLayout
from scaling_search.models.rules import bottleneck_width, se_channels, se_channels_rounded

BlockCounter = Callable[[int, int, StageLayout, int, Layout], tuple[Counts, int]]


def inverted_bottleneck(size: int, in_channels: int, stage: StageLayout, stride: int,
                        squeezed: int | None) -> tuple[Counts, int]:
    expanded = in_channels * stage.expand_ratio
    total = ZERO
    if stage.expand_ratio != 1:
        total, _ = conv_bn(size, in_channels, expanded, 1)
    depthwise, out = conv_bn(size, expanded, expanded, stage.kernel, stride, groups=expanded)
    project, _ = conv_bn(out, expanded, stage.out_channels, 1)
    total += depthwise + project
    if squeezed is not None:
        total += squeeze_excitation(expanded, squeezed)
    return total, out


def mbconv(size: int, in_channels: int, stage: StageLayout, stride: int, layout: Layout) -> tuple[Counts, int]:
    return inverted_bottleneck(size, in_channels, stage, stride, se_channels(in_channels, layout.se_ratio))


def inverted_residual(size: int, in_channels: int, stage: StageLayout, stride: int,
                      layout: Layout) -> tuple[Counts, int]:
    return inverted_bottleneck(size, in_channels, stage, stride, None)


def fused_mbconv(size: int, in_channels: int, stage: StageLayout, stride: int, layout: Layout) -> tuple[Counts, int]:
    if stage.expand_ratio == 1:
        return conv_bn(size, in_channels, stage.out_channels, stage.kernel, stride)
    expanded = in_channels * stage.expand_ratio
    expand, out = conv_bn(size, in_channels, expanded, stage.kernel, stride)
    project, _ = conv_bn(out, expanded, stage.out_channels, 1)
    return expand + project, out


def shortcut(size: int, in_channels: int, out_channels: int, stride: int) -> Counts:
    """A projection shortcut's 1×1 conv + BN, or nothing for an identity skip."""
    if has_identity_skip(in_channels, out_channels, stride):
        return ZERO
    return conv_bn(size, in_channels, out_channels, 1, stride)[0]


def bottleneck(size: int, in_channels: int, stage: StageLayout, stride: int, layout: Layout) -> tuple[Counts, int]:
    inner = bottleneck_width(stage.out_channels, stage.bottleneck_ratio)
    reduce, _ = conv_bn(size, in_channels, inner, 1)
    spatial, out = conv_bn(size, inner, inner, stage.kernel, stride)
    expand, _ = conv_bn(out, inner, stage.out_channels, 1)
    return reduce + spatial + expand + shortcut(size, in_channels, stage.out_channels, stride), out


def y_block(size: int, in_channels: int, stage: StageLayout, stride: int, layout: Layout) -> tuple[Counts, int]:
    inner = bottleneck_width(stage.out_channels, stage.bottleneck_ratio)
    reduce, _ = conv_bn(size, in_channels, inner, 1)
    spatial, out = conv_bn(size, inner, inner, stage.kernel, stride, groups=inner // stage.group_width)
    excite = squeeze_excitation(inner, se_channels_rounded(in_channels, layout.se_ratio))
    expand, _ = conv_bn(out, inner, stage.out_channels, 1)
    return reduce + spatial + excite + expand + shortcut(size, in_channels, stage.out_channels, stride), out


BLOCK_COUNTS: MappingProxyType[str, BlockCounter] = MappingProxyType({
    "mbconv": mbconv, "fused_mbconv": fused_mbconv, "inverted_residual": inverted_residual,
    "bottleneck": bottleneck, "y_block": y_block,
})
"""The closed-form counter of each block kind, by the kind's name."""

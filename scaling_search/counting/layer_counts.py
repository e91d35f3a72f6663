"""Closed-form counts of single layers (pycls style): each returns :class:`Counts` and its output size.

Conventions are the paper's: multiply-adds of conv and linear layers (the squeeze-excitation
convs included); BatchNorm, activations, pooling, residual adds and the SE multiply are not
counted. Activations are the output elements of every conv and linear layer for one image
(Dollár et al., "Fast and Accurate Model Scaling", CVPR 2021). Parameters count weights, biases
and BatchNorm's affine pair, as ``nn.Module.parameters()`` does.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Counts:
    """A network's parameters, multiply-adds and activations (conv and linear outputs) for one image.

    Counts of repeated blocks multiply, and a network's are the sum of its layers':

        >>> from scaling_search.counting.analytic import Counts
        >>> Counts(params=10, macs=100, activations=5).times(3)
        Counts(params=30, macs=300, activations=15)
    """

    params: int
    macs: int
    activations: int

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.params + other.params, self.macs + other.macs, self.activations + other.activations)

    def times(self, count: int) -> Counts:
        return Counts(self.params * count, self.macs * count, self.activations * count)


ZERO = Counts(0, 0, 0)


def conv_output_size(size: int, stride: int) -> int:
    """Spatial size after an odd-kernel conv (or ResNet's 3×3 max pool) padded ``k // 2``: ceil(size / stride)."""
    return -(-size // stride)


def conv2d(size: int, in_channels: int, out_channels: int, kernel: int, stride: int = 1, groups: int = 1,
           bias: bool = False) -> tuple[Counts, int]:
    """Counts of one conv on a ``size``×``size`` input, and its output size."""
    out = conv_output_size(size, stride)
    weights = kernel * kernel * in_channels // groups * out_channels
    params = weights + (out_channels if bias else 0)
    return Counts(params, weights * out * out, out_channels * out * out), out


def batchnorm(channels: int) -> Counts:
    return Counts(2 * channels, 0, 0)


def conv_bn(size: int, in_channels: int, out_channels: int, kernel: int, stride: int = 1,
            groups: int = 1) -> tuple[Counts, int]:
    counts, out = conv2d(size, in_channels, out_channels, kernel, stride, groups)
    return counts + batchnorm(out_channels), out


def squeeze_excitation(channels: int, squeezed: int) -> Counts:
    reduce, _ = conv2d(1, channels, squeezed, 1, bias=True)
    expand, _ = conv2d(1, squeezed, channels, 1, bias=True)
    return reduce + expand


def linear(in_features: int, out_features: int) -> Counts:
    return Counts(in_features * out_features + out_features, in_features * out_features, out_features)

"""The block kinds as modules: one class per kind in :mod:`scaling_search.models.kinds`, built from one stage.

Each block is a ``branch`` (a Sequential whose last element is a conv + BatchNorm without
activation, or with it for a fused block at expand ratio 1), an identity skip with per-sample
stochastic depth when the block keeps its shape, a 1×1 conv + BN projection shortcut when it does
not and its kind has one (ResNet, RegNet), and an activation after the sum for those kinds.
Padding is symmetric, ``k // 2``: with odd kernels the output is ``ceil(size / stride)``, as
torchvision and the TF reference's "SAME".
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Protocol

import torch
from torch import nn

from scaling_search.models.kinds import has_identity_skip
from scaling_search.models.layout import Layout, StageLayout
from scaling_search.models.rules import bottleneck_width, se_channels, se_channels_rounded

ACTIVATION_MODULES: MappingProxyType[str, type[nn.Module]] = MappingProxyType(
    {"silu": nn.SiLU, "relu": nn.ReLU, "relu6": nn.ReLU6})


def make_activation(name: str) -> nn.Module:
    return ACTIVATION_MODULES[name](inplace=True)


class StochasticDepth(nn.Module):
    """Drop the residual branch per sample with probability ``rate`` during training."""

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0.0:
            return x
        keep = 1.0 - self.rate
        mask = torch.empty((x.shape[0], 1, 1, 1), dtype=x.dtype, device=x.device).bernoulli_(keep)
        return x * mask.div_(keep)

    def extra_repr(self) -> str:
        return f"rate={self.rate:.4f}"


def conv_bn_act(in_channels: int, out_channels: int, kernel: int, stride: int, layout: Layout, groups: int = 1,
                activation: bool = True) -> nn.Sequential:
    """Conv (no bias) → BatchNorm (the layout's eps and momentum) → the layout's activation, unless told not."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_channels, eps=layout.bn_eps, momentum=layout.bn_momentum),
    ]
    if activation:
        layers.append(make_activation(layout.activation))
    return nn.Sequential(*layers)


class SqueezeExcitation(nn.Module):
    """Global average pool → 1×1 reduce → activation → 1×1 expand → sigmoid, scaling the input channels."""

    def __init__(self, channels: int, squeezed: int, activation: str = "silu") -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, squeezed, 1)
        self.expand = nn.Conv2d(squeezed, channels, 1)
        self.act = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = x.mean((2, 3), keepdim=True)
        scale = torch.sigmoid(self.expand(self.act(self.reduce(scale))))
        return x * scale


class Block(nn.Module):
    """What every kind shares: ``branch``, then the identity skip or projection shortcut, then the activation."""

    def __init__(self, branch: nn.Sequential, in_channels: int, out_channels: int, stride: int, drop_rate: float,
                 layout: Layout, projection: bool = False) -> None:
        super().__init__()
        self.branch = branch
        self.has_skip = has_identity_skip(in_channels, out_channels, stride)
        self.drop_path = StochasticDepth(drop_rate) if self.has_skip else nn.Identity()
        self.shortcut = conv_bn_act(in_channels, out_channels, 1, stride, layout, activation=False) \
            if projection and not self.has_skip else None
        self.activation = make_activation(layout.activation) if projection else None

    @property
    def last_norm(self) -> nn.BatchNorm2d:
        """The branch's last BatchNorm: zeroing its scale makes a block with an identity skip the identity."""
        return [module for module in self.branch.modules() if isinstance(module, nn.BatchNorm2d)][-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.branch(x)
        if self.has_skip:
            out = self.drop_path(out) + x
        elif self.shortcut is not None:
            out = out + self.shortcut(x)
        return out if self.activation is None else self.activation(out)


def inverted_bottleneck(in_channels: int, stage: StageLayout, stride: int, layout: Layout,
                        squeezed: int | None) -> nn.Sequential:
    """1×1 expansion (skipped at expand ratio 1) → depthwise k×k → SE of ``squeezed`` (None: none) → 1×1 projection."""
    expanded = in_channels * stage.expand_ratio
    layers: list[nn.Module] = []
    if stage.expand_ratio != 1:
        layers.append(conv_bn_act(in_channels, expanded, 1, 1, layout))
    layers.append(conv_bn_act(expanded, expanded, stage.kernel, stride, layout, groups=expanded))
    if squeezed is not None:
        layers.append(SqueezeExcitation(expanded, squeezed, layout.activation))
    layers.append(conv_bn_act(expanded, stage.out_channels, 1, 1, layout, activation=False))
    return nn.Sequential(*layers)


class MBConv(Block):
    """EfficientNet's block, as the TF reference: SE width a fraction of the block's *input* channels."""

    def __init__(self, in_channels: int, stage: StageLayout, stride: int, drop_rate: float, layout: Layout) -> None:
        squeezed = se_channels(in_channels, layout.se_ratio)
        super().__init__(inverted_bottleneck(in_channels, stage, stride, layout, squeezed), in_channels,
                         stage.out_channels, stride, drop_rate, layout)


class InvertedResidual(Block):
    """MobileNetV2's block (torchvision ``mobilenetv2.py``): MBConv without squeeze-excitation."""

    def __init__(self, in_channels: int, stage: StageLayout, stride: int, drop_rate: float, layout: Layout) -> None:
        super().__init__(inverted_bottleneck(in_channels, stage, stride, layout, None), in_channels,
                         stage.out_channels, stride, drop_rate, layout)


class FusedMBConv(Block):
    """EfficientNetV2's block (torchvision ``FusedMBConv``): k×k expansion with the stride, then 1×1 projection.

    At expand ratio 1 it is one k×k conv with BatchNorm and activation, as torchvision.
    """

    def __init__(self, in_channels: int, stage: StageLayout, stride: int, drop_rate: float, layout: Layout) -> None:
        out, kernel = stage.out_channels, stage.kernel
        if stage.expand_ratio == 1:
            branch = nn.Sequential(conv_bn_act(in_channels, out, kernel, stride, layout))
        else:
            expanded = in_channels * stage.expand_ratio
            branch = nn.Sequential(conv_bn_act(in_channels, expanded, kernel, stride, layout),
                                   conv_bn_act(expanded, out, 1, 1, layout, activation=False))
        super().__init__(branch, in_channels, out, stride, drop_rate, layout)


class Bottleneck(Block):
    """ResNet v1.5's bottleneck (torchvision ``resnet.py``): 1×1 → k×k with the stride → 1×1, ReLU after the sum."""

    def __init__(self, in_channels: int, stage: StageLayout, stride: int, drop_rate: float, layout: Layout) -> None:
        inner, out = bottleneck_width(stage.out_channels, stage.bottleneck_ratio), stage.out_channels
        branch = nn.Sequential(conv_bn_act(in_channels, inner, 1, 1, layout),
                               conv_bn_act(inner, inner, stage.kernel, stride, layout),
                               conv_bn_act(inner, out, 1, 1, layout, activation=False))
        super().__init__(branch, in_channels, out, stride, drop_rate, layout, projection=True)


class YBlock(Block):
    """RegNetY's block (torchvision ``ResBottleneckBlock``, pycls): 1×1 → grouped k×k → SE → 1×1."""

    def __init__(self, in_channels: int, stage: StageLayout, stride: int, drop_rate: float, layout: Layout) -> None:
        inner, out = bottleneck_width(stage.out_channels, stage.bottleneck_ratio), stage.out_channels
        branch = nn.Sequential(
            conv_bn_act(in_channels, inner, 1, 1, layout),
            conv_bn_act(inner, inner, stage.kernel, stride, layout, groups=inner // stage.group_width),
            SqueezeExcitation(inner, se_channels_rounded(in_channels, layout.se_ratio), layout.activation),
            conv_bn_act(inner, out, 1, 1, layout, activation=False),
        )
        super().__init__(branch, in_channels, out, stride, drop_rate, layout, projection=True)


class BlockFactory(Protocol):
    """A block kind's module class, as the builder calls it: one block of ``stage``."""

    def __call__(self, in_channels: int, stage: StageLayout, stride: int, drop_rate: float,
                 layout: Layout) -> Block: ...


BLOCK_MODULES: MappingProxyType[str, BlockFactory] = MappingProxyType({
    "mbconv": MBConv, "fused_mbconv": FusedMBConv, "inverted_residual": InvertedResidual, "bottleneck": Bottleneck,
    "y_block": YBlock,
})
"""The module class of each block kind, by the kind's name."""

"""One builder: a realised :class:`Layout` becomes an ``nn.Module``.

Blocks follow the TensorFlow reference: MBConv = 1×1 expansion (skipped at expand ratio 1)
→ depthwise k×k (stride on a stage's first block only) → squeeze-excitation → 1×1
projection without activation; identity skip with per-sample stochastic depth only when
stride is 1 and input and output channels match. Padding is symmetric (``k // 2``), which
gives the reference's "SAME" output sizes; the reference pads odd amounts on the bottom
and right, which matters only when loading its trained weights.
"""

from __future__ import annotations

import torch
from torch import nn

from scaling_search.models.scaling import Layout, drop_path_rate, se_channels


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


def conv_bn_act(
    in_channels: int,
    out_channels: int,
    kernel: int,
    stride: int,
    layout: Layout,
    groups: int = 1,
    activation: bool = True,
) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_channels, eps=layout.bn_eps, momentum=layout.bn_momentum),
    ]
    if activation:
        layers.append(nn.SiLU(inplace=True))
    return nn.Sequential(*layers)


class SqueezeExcitation(nn.Module):
    def __init__(self, channels: int, squeezed: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, squeezed, 1)
        self.expand = nn.Conv2d(squeezed, channels, 1)
        self.act = nn.SiLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = x.mean((2, 3), keepdim=True)
        scale = torch.sigmoid(self.expand(self.act(self.reduce(scale))))
        return x * scale


class MBConv(nn.Module):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        expand_ratio: int,
        kernel: int,
        stride: int,
        drop_rate: float,
        layout: Layout,
    ) -> None:
        super().__init__()
        expanded = in_channels * expand_ratio
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(conv_bn_act(in_channels, expanded, 1, 1, layout))
        layers += [
            conv_bn_act(expanded, expanded, kernel, stride, layout, groups=expanded),
            SqueezeExcitation(expanded, se_channels(in_channels, layout.se_ratio)),
            conv_bn_act(expanded, out_channels, 1, 1, layout, activation=False),
        ]
        self.branch = nn.Sequential(*layers)
        self.has_skip = has_identity_skip(in_channels, out_channels, stride)
        self.drop_path = StochasticDepth(drop_rate) if self.has_skip else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.branch(x)
        if self.has_skip:
            out = self.drop_path(out) + x
        return out


def has_identity_skip(in_channels: int, out_channels: int, stride: int) -> bool:
    """The reference adds the input back only when the block keeps both shape and channels."""
    return stride == 1 and in_channels == out_channels


class EfficientNet(nn.Module):
    def __init__(self, layout: Layout) -> None:
        super().__init__()
        self.layout = layout
        self.stem = conv_bn_act(3, layout.stem, 3, 2, layout)
        blocks: list[nn.Module] = []
        index = 0
        for stage in layout.stages:
            for repeat in range(stage.repeats):
                first = repeat == 0
                blocks.append(
                    MBConv(
                        in_channels=stage.in_channels if first else stage.out_channels,
                        out_channels=stage.out_channels,
                        expand_ratio=stage.expand_ratio,
                        kernel=stage.kernel,
                        stride=stage.stride if first else 1,
                        drop_rate=drop_path_rate(index, layout.num_blocks, layout.drop_path),
                        layout=layout,
                    )
                )
                index += 1
        self.blocks = nn.Sequential(*blocks)
        self.head = conv_bn_act(layout.stages[-1].out_channels, layout.head, 1, 1, layout)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(layout.dropout)
        self.classifier = nn.Linear(layout.head, layout.num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.blocks(self.stem(x)))
        return self.classifier(self.dropout(torch.flatten(self.pool(x), 1)))


def init_weights(model: nn.Module) -> None:
    """The reference's initialisers, exactly (``efficientnet_model.py`` in tensorflow/tpu).

    Convolutions: ``conv_kernel_initializer``, a normal (not truncated) with stddev
    sqrt(2 / fan_out), where fan_out = kernel_h · kernel_w · the last dimension of TF's kernel. A
    depthwise kernel is [k, k, channels, depth_multiplier = 1] there, so its fan_out is k · k; in
    PyTorch terms fan_out = k · k · out_channels / groups. ``kaiming_normal_(mode="fan_out")``
    ignores groups and would draw depthwise kernels 1/sqrt(channels) too small.
    Classifier: ``dense_kernel_initializer``, uniform(±1/sqrt(output units)). Biases zero,
    BatchNorm scale one and shift zero (TF's defaults).
    """
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            kernel_h, kernel_w = module.kernel_size
            fan_out = kernel_h * kernel_w * module.out_channels // module.groups
            nn.init.normal_(module.weight, mean=0.0, std=(2.0 / fan_out) ** 0.5)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            bound = 1.0 / module.out_features**0.5
            nn.init.uniform_(module.weight, -bound, bound)
            nn.init.zeros_(module.bias)


def zero_init_residuals(model: EfficientNet) -> None:
    """Zero the classifier and the last BatchNorm scale of every block with an identity skip.

    Each residual block then starts as the identity and the logits at zero: a common
    initialisation for short training runs (Goyal et al. 2017). The architecture is unchanged.
    """
    nn.init.zeros_(model.classifier.weight)
    nn.init.zeros_(model.classifier.bias)
    for block in model.blocks:
        if block.has_skip:
            nn.init.zeros_(block.branch[-1][1].weight)


def build(layout: Layout) -> EfficientNet:
    """Build the network that ``layout`` describes, with the reference's initialisation.

    Example:
        >>> from scaling_search.models.efficientnet import build, count_parameters
        >>> from scaling_search.models.scaling import scale
        >>> count_parameters(build(scale()))  # B0 with 1000 classes
        5288548
    """
    return EfficientNet(layout)


def count_parameters(model: nn.Module) -> int:
    """Weights, biases and BatchNorm's affine pairs: every element of ``model.parameters()``."""
    return sum(p.numel() for p in model.parameters())

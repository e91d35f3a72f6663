"""One builder: a realised :class:`Layout` of any base network becomes an ``nn.Module``.

Stem conv (+ max pool for ResNet) → the stages' blocks, each of its stage's kind
(:data:`~scaling_search.models.modules.BLOCK_MODULES`; stride on a stage's first block only) →
head conv when the layout has one → global average pool → dropout → linear classifier. The
parameter names are the same for every base (``stem``, ``blocks``, ``head``, ``classifier``), and
for EfficientNet-B0 they are those of earlier versions, so their checkpoints still load.
"""

from __future__ import annotations

import torch
from torch import nn

from scaling_search.models.init import INITIALISERS
from scaling_search.models.kinds import has_identity_skip
from scaling_search.models.layout import Layout
from scaling_search.models.modules import BLOCK_MODULES, Block, conv_bn_act
from scaling_search.models.scaling import drop_path_rate

__all__ = ["EfficientNet", "Network", "build", "count_parameters", "has_identity_skip", "zero_init_residuals"]


class Network(nn.Module):
    """The network a :class:`Layout` describes, initialised as its ``init`` says."""

    def __init__(self, layout: Layout) -> None:
        super().__init__()
        self.layout = layout
        self.stem = conv_bn_act(3, layout.stem, layout.stem_kernel, layout.stem_stride, layout)
        if layout.stem_pool:  # ResNet's 3×3 stride-2 max pool (torchvision ``resnet.py``)
            self.stem.append(nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        blocks: list[nn.Module] = []
        for stage in layout.stages:
            for repeat in range(stage.repeats):
                first = repeat == 0
                blocks.append(BLOCK_MODULES[stage.block](
                    in_channels=stage.in_channels if first else stage.out_channels,
                    stage=stage,
                    stride=stage.stride if first else 1,
                    drop_rate=drop_path_rate(len(blocks), layout.num_blocks, layout.drop_path),
                    layout=layout,
                ))
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Identity() if layout.head is None else \
            conv_bn_act(layout.stages[-1].out_channels, layout.head, 1, 1, layout)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(layout.dropout)
        self.classifier = nn.Linear(layout.features, layout.num_classes)
        INITIALISERS[layout.init](self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.blocks(self.stem(x)))
        return self.classifier(self.dropout(torch.flatten(self.pool(x), 1)))


EfficientNet = Network
"""The builder's class under its earlier name: it built only EfficientNets then."""


def zero_init_residuals(model: Network) -> None:
    """Zero the classifier and the last BatchNorm scale of every block with an identity skip.

    Each residual block then starts as the identity and the logits at zero: a common
    initialisation for short training runs (Goyal et al. 2017). The architecture is unchanged.
    Every block kind has such a BatchNorm (``Block.last_norm``), so this works for every base.
    """
    nn.init.zeros_(model.classifier.weight)
    nn.init.zeros_(model.classifier.bias)
    for block in model.blocks:
        if isinstance(block, Block) and block.has_skip:
            nn.init.zeros_(block.last_norm.weight)


def build(layout: Layout) -> Network:
    """Build the network that ``layout`` describes, with its base's initialisation.

    Example:
        >>> from scaling_search.models.network import build, count_parameters
        >>> from scaling_search.models.scaling import scale
        >>> count_parameters(build(scale()))  # B0 with 1000 classes
        5288548
        >>> from scaling_search.models.bases import base_network
        >>> count_parameters(build(scale(base=base_network("mobilenet_v2"))))  # as torchvision's
        3504872

    A member of a derived family, read back from a study's ``configs/phiN.json`` or a manifest of
    deployable files (:func:`~scaling_search.handoff.members.load_member`), becomes its module:

        >>> import json, tempfile
        >>> from pathlib import Path
        >>> from scaling_search.coefficients.family import derive
        >>> from scaling_search.handoff.members import load_member
        >>> member = derive(1.2, 1.1, 1.15, phis=[2])[0]
        >>> config = Path(tempfile.mkdtemp()) / "phi2.json"
        >>> _ = config.write_text(json.dumps({"name": member.name, "layout": member.layout.to_dict()}))
        >>> model = build(load_member(config)).eval()
        >>> count_parameters(model), model.layout.resolution
        (12255408, 296)
    """
    return Network(layout)


def count_parameters(model: nn.Module) -> int:
    """Weights, biases and BatchNorm's affine pairs: every element of ``model.parameters()``."""
    return sum(p.numel() for p in model.parameters())

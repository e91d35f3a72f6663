"""Comparing our network with a library's: parameter counts, and logits that every weight and buffer takes part in."""

from __future__ import annotations

import torch
from torch import nn

PIXELS = 64
"""Input side for logits: every built-in base keeps at least 2 × 2 pixels in its last stage (it shrinks 32-fold)."""
TOLERANCE = 1e-5
"""Issue #24: logits equal to ours within 1e-5 (eval mode, float32)."""


def randomised(model: nn.Module, seed: int) -> nn.Module:
    """``model`` with every BatchNorm's statistics and affine pair drawn at random, so each one counts in the logits."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                for tensor, low, high in ((module.running_mean, -0.2, 0.2), (module.running_var, 0.5, 2.0),
                                          (module.weight, 0.5, 1.5), (module.bias, -0.2, 0.2)):
                    tensor.copy_(torch.rand(tensor.shape, generator=generator) * (high - low) + low)
    return model


def logits(model: nn.Module, train: bool = False) -> torch.Tensor:
    """``model``'s logits on a fixed batch of 2 images; in training mode from one fixed random stream."""
    images = torch.randn(2, 3, PIXELS, PIXELS, generator=torch.Generator().manual_seed(7))
    model.train(train)
    torch.manual_seed(11)
    with torch.no_grad():
        return model(images)


def parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def assert_same_logits(theirs: nn.Module, ours: nn.Module, train: bool = False) -> None:
    torch.testing.assert_close(logits(theirs, train), logits(ours, train), rtol=0, atol=TOLERANCE)

"""What a library's model class is given from a layout: its BatchNorm (eps and momentum) and its activation class."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from torch import nn

from scaling_search.models.layout import Layout
from scaling_search.models.modules import ACTIVATION_MODULES


def norm_layer(layout: Layout) -> Callable[..., nn.BatchNorm2d]:
    """``nn.BatchNorm2d`` with the layout's eps and momentum, as timm's and torchvision's classes take ``norm_layer``.

        >>> from scaling_search.models.scaling import scale
        >>> norm = norm_layer(scale())(8)
        >>> norm.eps, norm.momentum
        (0.001, 0.01)
    """
    return partial(nn.BatchNorm2d, eps=layout.bn_eps, momentum=layout.bn_momentum)


def activation_layer(layout: Layout) -> type[nn.Module]:
    """The layout's activation as the ``nn.Module`` class the builder uses (``nn.SiLU``, ``nn.ReLU``, ``nn.ReLU6``)."""
    return ACTIVATION_MODULES[layout.activation]

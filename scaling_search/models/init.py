"""Weight initialisations, each the reference's for the network it is named after (``Layout.init``).

``efficientnet`` is the TF reference's, used by both EfficientNet bases; the others are
torchvision's own for MobileNetV2, ResNet and RegNet, so a built-in base starts as torchvision's
model of the same name would.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

from torch import nn


def efficientnet_init(model: nn.Module) -> None:
    """The TF reference's initialisers, exactly (``efficientnet_model.py`` in tensorflow/tpu).

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


def fan_out_init(model: nn.Module, classifier_std: float | None) -> None:
    """torchvision's ResNet-style init: conv kernels ``kaiming_normal_(mode="fan_out", nonlinearity="relu")``.

    That is a normal of stddev sqrt(2 / (k · k · out_channels)), groups ignored, as torchvision's
    ``mobilenetv2.py``, ``resnet.py`` and ``regnet.py`` draw them. Conv biases (only the SE convs
    have them) keep PyTorch's default, as in ``regnet.py``. BatchNorm scale one, shift zero. The
    classifier is normal(0, ``classifier_std``) with zero bias, or PyTorch's default when None.
    """
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear) and classifier_std is not None:
            nn.init.normal_(module.weight, mean=0.0, std=classifier_std)
            nn.init.zeros_(module.bias)


def mobilenet_v2_init(model: nn.Module) -> None:
    """torchvision's ``MobileNetV2.__init__``: fan-out normal convs, classifier normal(0, 0.01).

    torchvision also zeroes conv biases; MobileNetV2 has none.
    """
    fan_out_init(model, classifier_std=0.01)


def resnet_init(model: nn.Module) -> None:
    """torchvision's ``ResNet.__init__``: fan-out normal convs; the classifier keeps PyTorch's default."""
    fan_out_init(model, classifier_std=None)


def regnet_init(model: nn.Module) -> None:
    """torchvision's ``RegNet.__init__``: normal(0, sqrt(2 / (k · k · out))) convs, classifier normal(0, 0.01)."""
    fan_out_init(model, classifier_std=0.01)


INITIALISERS: MappingProxyType[str, Callable[[nn.Module], None]] = MappingProxyType({
    "efficientnet": efficientnet_init,
    "mobilenet_v2": mobilenet_v2_init,
    "resnet": resnet_init,
    "regnet": regnet_init,
})
"""Each initialisation by the name a layout gives (:data:`scaling_search.models.architecture.INITS`)."""

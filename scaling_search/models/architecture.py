"""The EfficientNet-B0 base architecture and the released B0–B7 family, as immutable data.

Numbers follow the official TensorFlow reference (tensorflow/tpu,
``models/official/efficientnet/efficientnet_builder.py``). The first arXiv version of the
paper swapped the strides of the 80- and 112-channel stages; the reference code (and this
table) has stride 2 on the 80-channel stage and stride 1 on the 112-channel stage.
"""

from __future__ import annotations

from dataclasses import dataclass

from scaling_search.errors import InputError


@dataclass(frozen=True)
class StageSpec:
    """One stage of MBConv blocks in the unscaled base network."""

    expand_ratio: int
    kernel: int
    stride: int
    out_channels: int
    repeats: int


@dataclass(frozen=True)
class BaseArchitecture:
    """An unscaled network: stem, stages and head, plus the constants that scaling uses."""

    name: str
    stem_channels: int
    stages: tuple[StageSpec, ...]
    head_channels: int
    base_resolution: int
    se_ratio: float = 0.25
    channel_divisor: int = 8
    bn_momentum: float = 0.01  # PyTorch convention; TF's decay 0.99
    bn_eps: float = 1e-3


EFFICIENTNET_B0 = BaseArchitecture(
    name="efficientnet-b0",
    stem_channels=32,
    stages=(
        StageSpec(1, 3, 1, 16, 1),
        StageSpec(6, 3, 2, 24, 2),
        StageSpec(6, 5, 2, 40, 2),
        StageSpec(6, 3, 2, 80, 3),
        StageSpec(6, 5, 1, 112, 3),
        StageSpec(6, 5, 2, 192, 4),
        StageSpec(6, 3, 1, 320, 1),
    ),
    head_channels=1280,
    base_resolution=224,
)


@dataclass(frozen=True)
class ReleasedModel:
    """One member of the released family: its coefficients as published, not as derived."""

    name: str
    width: float
    depth: float
    resolution: int
    dropout: float
    paper_params_m: float  # Table 2 of the paper, millions
    paper_flops_b: float  # Table 2 of the paper, billions of multiply-adds


RELEASED_FAMILY: tuple[ReleasedModel, ...] = (
    ReleasedModel("b0", 1.0, 1.0, 224, 0.2, 5.3, 0.39),
    ReleasedModel("b1", 1.0, 1.1, 240, 0.2, 7.8, 0.70),
    ReleasedModel("b2", 1.1, 1.2, 260, 0.3, 9.2, 1.0),
    ReleasedModel("b3", 1.2, 1.4, 300, 0.3, 12.0, 1.8),
    ReleasedModel("b4", 1.4, 1.8, 380, 0.4, 19.0, 4.2),
    ReleasedModel("b5", 1.6, 2.2, 456, 0.4, 30.0, 9.9),
    ReleasedModel("b6", 1.8, 2.6, 528, 0.5, 43.0, 19.0),
    ReleasedModel("b7", 2.0, 3.1, 600, 0.5, 66.0, 37.0),
)

IMAGENET_CLASSES = 1000
"""Classes of ImageNet, which the released family was trained on: every layout's classifier width unless told."""

FAMILY_PHIS: tuple[float, ...] = tuple(float(phi) for phi in range(len(RELEASED_FAMILY)))
"""The compound coefficients of B0..B7, 0 to 7: the φ a derived family is built at, to compare with the released one."""

PAPER_COEFFICIENTS = (1.2, 1.1, 1.15)
"""(alpha, beta, gamma) found by the paper's grid search at phi = 1."""

RESOLUTION_MULTIPLE = 4
"""Scaled resolutions are rounded to a multiple of 4, as every released B0–B7 resolution is
(224, 240, 260, 300, 380, 456, 528, 600: the TF reference's ``efficientnet_params``)."""


def released_model(name: str) -> ReleasedModel:
    """Look up a released model by name ("b0".."b7", case-insensitive, "efficientnet-" optional)."""
    key = name.lower().removeprefix("efficientnet-").removeprefix("efficientnet_")
    for model in RELEASED_FAMILY:
        if model.name == key:
            return model
    known = ", ".join(m.name for m in RELEASED_FAMILY)
    raise InputError(f"unknown model {name!r}; known: {known}")

"""A base network as immutable data (:class:`BaseArchitecture`), EfficientNet-B0 and the released B0–B7 family.

A base is a stem, stages of one block kind each (:mod:`scaling_search.models.kinds`), an optional
head conv and the family's scaling rules (:class:`~scaling_search.models.rules.ScalingRules`).
It checks itself when built, so a hand-written stage table fails at once with one line. Other
built-in bases are in :mod:`scaling_search.models.bases`, the TOML form in
:mod:`scaling_search.models.base_file`.

B0's numbers follow the official TensorFlow reference (tensorflow/tpu,
``models/official/efficientnet/efficientnet_builder.py``). The first arXiv version of the
paper swapped the strides of the 80- and 112-channel stages; the reference code (and this
table) has stride 2 on the 80-channel stage and stride 1 on the 112-channel stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scaling_search.errors import InputError
from scaling_search.models import checks
from scaling_search.models.kinds import BlockOptions, check_block
from scaling_search.models.rules import ScalingRules

ACTIVATIONS = ("silu", "relu", "relu6")
"""Activations a network may use: EfficientNet's SiLU, ResNet's and RegNet's ReLU, MobileNetV2's ReLU6."""
INITS = ("efficientnet", "mobilenet_v2", "resnet", "regnet")
"""Weight initialisations, named after the network whose reference init each is (:mod:`scaling_search.models.init`)."""
MAX_BASE_CHANNELS = 1 << 16
MAX_BASE_REPEATS = 1024


@dataclass(frozen=True)
class StageSpec:
    """One stage of the unscaled base network: ``repeats`` blocks of kind ``block``.

    The first block has ``stride`` and maps the previous stage's channels to ``out_channels``;
    ``expand_ratio``, ``kernel``, ``bottleneck_ratio`` and ``group_width`` are the block's options
    (:data:`~scaling_search.models.kinds.OPTION_DEFAULTS` for those its kind does not take).

        >>> StageSpec(6, 3, 3, 24, 2)
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: stride must be 1 or 2, got 3
    """

    expand_ratio: int
    kernel: int
    stride: int
    out_channels: int
    repeats: int
    block: str = "mbconv"
    bottleneck_ratio: float = 1.0
    group_width: int = 0

    def __post_init__(self) -> None:
        checks.integer("out_channels", self.out_channels, 1, MAX_BASE_CHANNELS)
        checks.integer("repeats", self.repeats, 1, MAX_BASE_REPEATS)
        check_stride("stride", self.stride)
        check_block(self.block, self.out_channels, self.options())

    def options(self) -> BlockOptions:
        """The block options by name, as :func:`~scaling_search.models.kinds.check_block` takes them."""
        return BlockOptions(expand_ratio=self.expand_ratio, kernel=self.kernel, bottleneck_ratio=self.bottleneck_ratio,
                            group_width=self.group_width)


@dataclass(frozen=True)
class BaseArchitecture:
    """An unscaled network: stem, stages and head, plus the constants and rules that scaling uses.

    ``stem_pool`` adds ResNet's 3×3 stride-2 max pool after the stem conv; ``head_channels`` None
    means no head conv (the classifier reads the last stage). ``se_ratio`` is used by the block
    kinds with squeeze-excitation (mbconv, y_block). ``channel_divisor`` is read from ``rules``.
    """

    name: str
    stem_channels: int
    stages: tuple[StageSpec, ...]
    head_channels: int | None
    base_resolution: int
    se_ratio: float = 0.25
    bn_momentum: float = 0.01  # PyTorch convention; TF's decay 0.99
    bn_eps: float = 1e-3
    activation: str = "silu"
    init: str = "efficientnet"
    stem_kernel: int = 3
    stem_stride: int = 2
    stem_pool: bool = False
    rules: ScalingRules = field(default_factory=ScalingRules)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError(f"name must be a non-empty string, got {self.name!r}")
        checks.integer("stem_channels", self.stem_channels, 1, MAX_BASE_CHANNELS)
        if self.head_channels is not None:
            checks.integer("head_channels", self.head_channels, 1, MAX_BASE_CHANNELS)
        checks.integer("base_resolution", self.base_resolution, 8, 4096)
        for name in ("se_ratio", "bn_momentum", "bn_eps"):
            checks.number(name, getattr(self, name), 0.0, 1.0)
        checks.choice("activation", self.activation, ACTIVATIONS)
        checks.choice("init", self.init, INITS)
        checks.integer("stem_kernel", self.stem_kernel, 1, 63)
        if self.stem_kernel % 2 == 0:
            raise InputError(f"stem_kernel must be odd, got {self.stem_kernel}")
        check_stride("stem_stride", self.stem_stride)
        checks.boolean("stem_pool", self.stem_pool)
        if not isinstance(self.stages, tuple) or not all(isinstance(stage, StageSpec) for stage in self.stages):
            raise InputError("stages must be a tuple of StageSpec")
        if not self.stages:
            raise InputError("a base network needs at least one stage")
        if not isinstance(self.rules, ScalingRules):
            raise InputError(f"rules must be ScalingRules, got {type(self.rules).__name__}")

    @property
    def channel_divisor(self) -> int:
        return self.rules.channel_divisor


def check_stride(name: str, stride: object) -> None:
    if isinstance(stride, bool) or not isinstance(stride, int) or stride not in (1, 2):
        raise InputError(f"{name} must be 1 or 2, got {stride!r}")


EFFICIENTNET_B0 = BaseArchitecture(
    name="efficientnet_b0",
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

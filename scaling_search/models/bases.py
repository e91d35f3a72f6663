"""The built-in base networks, named as torchvision names them, and :func:`base_network` to pick one.

Each is the same kind of data as EfficientNet-B0 (:class:`BaseArchitecture`): the stage table of
torchvision's model of that name (``torchvision/models/*.py``), and its family's scaling rules.
At width 1, depth 1 and 1000 classes each builds to exactly torchvision's parameter count.
"""

from __future__ import annotations

from pathlib import Path

from scaling_search.errors import InputError
from scaling_search.models.architecture import EFFICIENTNET_B0, BaseArchitecture, StageSpec
from scaling_search.models.base_file import load_base
from scaling_search.models.rules import ScalingRules

PYCLS_RULES = ScalingRules(ten_percent=False, depth_rounding="round", scale_stem=False)
"""pycls's AnyNet scaling (``pycls/models/scaler.py``): widths to multiples of 8 without the 10 % rule,
depths rounded, the stem kept, grouped widths made compatible (``adjust_block_compatibility``)."""


def mbconv(expand: int, kernel: int, stride: int, out: int, repeats: int, block: str = "mbconv") -> StageSpec:
    return StageSpec(expand, kernel, stride, out, repeats, block=block)


MOBILENET_V2 = BaseArchitecture(
    name="mobilenet_v2",  # torchvision mobilenetv2.py, width 1.0: rows (t, c, n, s) of inverted_residual_setting
    stem_channels=32,
    stages=tuple(mbconv(t, 3, s, c, n, "inverted_residual") for t, c, n, s in (
        (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))),
    head_channels=1280,
    base_resolution=224,
    bn_momentum=0.1,
    bn_eps=1e-5,
    activation="relu6",
    init="mobilenet_v2",
    rules=ScalingRules(head_scaling="grow"),  # last_channel = _make_divisible(1280 * max(1.0, width_mult), 8)
)

RESNET50 = BaseArchitecture(
    name="resnet50",  # torchvision resnet.py: Bottleneck (v1.5, stride on the 3×3), layers [3, 4, 6, 3]
    stem_channels=64,
    stages=tuple(StageSpec(1, 3, stride, out, repeats, block="bottleneck", bottleneck_ratio=0.25)
                 for out, repeats, stride in ((256, 3, 1), (512, 4, 2), (1024, 6, 2), (2048, 3, 2))),
    head_channels=None,
    base_resolution=224,
    bn_momentum=0.1,
    bn_eps=1e-5,
    activation="relu",
    init="resnet",
    stem_kernel=7,
    stem_pool=True,
    rules=PYCLS_RULES,
)

REGNET_Y_400MF = BaseArchitecture(
    name="regnet_y_400mf",  # torchvision regnet.py: BlockParams.from_init_params(16, 48, 27.89, 2.09, 8, se 0.25)
    stem_channels=32,
    stages=tuple(StageSpec(1, 3, 2, out, repeats, block="y_block", group_width=8)
                 for out, repeats in ((48, 1), (104, 3), (208, 6), (440, 6))),
    head_channels=None,
    base_resolution=224,
    bn_momentum=0.1,
    bn_eps=1e-5,
    activation="relu",
    init="regnet",
    rules=PYCLS_RULES,
)

EFFICIENTNET_V2_S = BaseArchitecture(
    name="efficientnet_v2_s",  # torchvision efficientnet.py, _efficientnet_conf("efficientnet_v2_s")
    stem_channels=24,
    stages=(
        mbconv(1, 3, 1, 24, 2, "fused_mbconv"),
        mbconv(4, 3, 2, 48, 4, "fused_mbconv"),
        mbconv(4, 3, 2, 64, 4, "fused_mbconv"),
        mbconv(4, 3, 2, 128, 6),
        mbconv(6, 3, 1, 160, 9),
        mbconv(6, 3, 2, 256, 15),
    ),
    head_channels=1280,
    base_resolution=384,  # torchvision's evaluation crop (it trains at 300)
    bn_momentum=0.1,  # torchvision: BatchNorm2d(eps=1e-3), PyTorch's default momentum
    bn_eps=1e-3,
)

BUILT_IN: tuple[BaseArchitecture, ...] = (EFFICIENTNET_B0, MOBILENET_V2, RESNET50, REGNET_Y_400MF, EFFICIENTNET_V2_S)
"""Every built-in base of a published network; B0 first, as the default."""

EFFICIENTNET_DEMO = BaseArchitecture(
    name="efficientnet_demo",
    stem_channels=16,
    stages=tuple(mbconv(stage.expand_ratio, stage.kernel, stage.stride, out, min(stage.repeats, 2))
                 for stage, out in zip(EFFICIENTNET_B0.stages, (8, 16, 16, 32, 40, 72, 120), strict=True)),
    head_channels=480,
    base_resolution=EFFICIENTNET_B0.base_resolution,
)
"""The CPU demonstration base: B0's seven stages with at most two blocks each, at width 0.375 (B0's channel rounding).

No published network: it is what the built-in CPU demo scales (:data:`~scaling_search.study.sizing.DEMO`), so
that a proxy at 56 px, where the grid's γ > 1 train with the target compute, fits a 2-core machine. It costs
4.9 M multiply-adds at 56 px and 4 classes, 0.57× B0 at 32 px and 10 classes; docs/proxy.md, "The built-in demo".
"""
KNOWN: tuple[BaseArchitecture, ...] = (*BUILT_IN, EFFICIENTNET_DEMO)
"""Every base :func:`base_network` knows by name: the published ones and the demonstration base."""


RELEASED_ONLY_B0 = ("The released family B0–B7 and the paper's (alpha, beta, gamma) = (1.2, 1.1, 1.15) exist only for "
                    "EfficientNet-B0")
"""Said wherever B0's released family or the paper's point would be shown for another base."""


def has_released_family(base: BaseArchitecture) -> bool:
    """Whether ``base`` is EfficientNet-B0 as published: the one base of the released B0–B7 and the paper's point.

    The paper's (1.2, 1.1, 1.15) was found by a grid search on B0, so it is no reference for any
    other base (nor for B0 with other rules or stages), and the released family exists only for B0.

        >>> has_released_family(EFFICIENTNET_B0), has_released_family(RESNET50)
        (True, False)
    """
    return base == EFFICIENTNET_B0


def released_note(base: BaseArchitecture) -> str:
    """One sentence for a base other than B0: its study has no released family and no paper's point to compare with."""
    return f"{RELEASED_ONLY_B0}; {base.name} has neither, so none is shown."


def is_table_path(name_or_path: str | Path) -> bool:
    """Whether :func:`base_network` reads ``name_or_path`` as a TOML stage table (a ``.toml`` name), not a built-in."""
    return str(name_or_path).lower().endswith(".toml")


def base_network(name_or_path: str | Path) -> BaseArchitecture:
    """The built-in base called ``name_or_path`` (case and ``-``/``_`` ignored), or the stage table in a ``.toml`` file.

    Example:
        >>> base_network("ResNet50").stem_pool, base_network("efficientnet-b0").head_channels
        (True, 1280)
        >>> base_network("vgg16")
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: unknown base network 'vgg16'; known: efficientnet_b0, mobilenet_v2, \
resnet50, regnet_y_400mf, efficientnet_v2_s, efficientnet_demo, or a .toml stage table
    """
    if is_table_path(name_or_path):
        return load_base(Path(name_or_path))
    key = str(name_or_path).lower().replace("-", "_")
    for base in KNOWN:
        if base.name == key:
            return base
    known = ", ".join(base.name for base in KNOWN)
    raise InputError(f"unknown base network {str(name_or_path)!r}; known: {known}, or a .toml stage table")

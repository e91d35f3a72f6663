"""The block kinds a stage can be made of, as data: the options each takes and whether it has SE.

A stage names its kind (``block``) and gives the kind's options; options a kind does not take
stay at their neutral defaults (:data:`OPTION_DEFAULTS`). The module classes
(:mod:`scaling_search.models.modules`) and the closed-form counts
(:mod:`scaling_search.counting.block_counts`) are registered under these same names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypedDict

from scaling_search.errors import InputError
from scaling_search.models import checks
from scaling_search.models.rules import bottleneck_width

OPTION_DEFAULTS: MappingProxyType[str, int | float] = MappingProxyType(
    {"expand_ratio": 1, "kernel": 3, "bottleneck_ratio": 1.0, "group_width": 0})
"""Every block option and its value when a kind does not take it (or a stage table leaves it out)."""


class BlockOptions(TypedDict):
    """A stage's block options, every one: those its kind does not take stay at :data:`OPTION_DEFAULTS`."""

    expand_ratio: int
    kernel: int
    bottleneck_ratio: float
    group_width: int

MAX_EXPAND = 64
MAX_KERNEL = 63
MAX_BOTTLENECK_RATIO = 64.0


@dataclass(frozen=True)
class BlockKind:
    """A kind of residual block: its name, the options it takes, and whether it squeezes and excites."""

    name: str
    options: tuple[str, ...]
    squeeze_excitation: bool
    description: str


KINDS: tuple[BlockKind, ...] = (
    BlockKind("mbconv", ("expand_ratio", "kernel"), True,
              "1×1 expansion, depthwise k×k, SE, 1×1 projection (EfficientNet; TF reference)"),
    BlockKind("fused_mbconv", ("expand_ratio", "kernel"), False,
              "k×k expansion, 1×1 projection; one k×k conv at expand ratio 1 (EfficientNetV2; torchvision)"),
    BlockKind("inverted_residual", ("expand_ratio", "kernel"), False,
              "1×1 expansion, depthwise k×k, 1×1 projection, no SE (MobileNetV2; torchvision)"),
    BlockKind("bottleneck", ("kernel", "bottleneck_ratio"), False,
              "1×1, k×k with the stride, 1×1; 1×1 conv + BN shortcut when the shape changes (ResNet v1.5)"),
    BlockKind("y_block", ("kernel", "bottleneck_ratio", "group_width"), True,
              "1×1, grouped k×k of group width, SE, 1×1; projection shortcut (RegNetY; torchvision, pycls)"),
)
"""Every block kind, in the order docs and error messages list them."""


def block_kind(name: str) -> BlockKind:
    """The kind called ``name``, or InputError listing the known ones.

        >>> block_kind("y_block").options
        ('kernel', 'bottleneck_ratio', 'group_width')
        >>> block_kind("mbconvv")
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: unknown block kind 'mbconvv'; known: mbconv, fused_mbconv, \
inverted_residual, bottleneck, y_block
    """
    for kind in KINDS:
        if kind.name == name:
            return kind
    raise InputError(f"unknown block kind {name!r}; known: {', '.join(k.name for k in KINDS)}")


def check_block(block: str, out_channels: int, options: BlockOptions) -> None:
    """Raise InputError unless ``options`` (every name in :data:`OPTION_DEFAULTS`) suit a ``block`` stage.

    A kind's own options must be in range, the others at their defaults; a grouped kind's group
    width must divide its bottleneck width (as torchvision's RegNet and pycls assume).

        >>> check_block("mbconv", 24, {"expand_ratio": 6, "kernel": 3, "bottleneck_ratio": 1.0, "group_width": 8})
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: mbconv takes no group_width (got 8)
    """
    kind = block_kind(block)
    by_name: Mapping[str, object] = options
    for name, default in OPTION_DEFAULTS.items():
        if name not in kind.options and by_name[name] != default:
            raise InputError(f"{block} takes no {name} (got {by_name[name]!r})")
    checks.integer("expand_ratio", options["expand_ratio"], 1, MAX_EXPAND)
    checks.integer("kernel", options["kernel"], 1, MAX_KERNEL)
    if options["kernel"] % 2 == 0:
        raise InputError(f"kernel must be odd, got {options['kernel']}")
    checks.number("bottleneck_ratio", options["bottleneck_ratio"], 0.0, MAX_BOTTLENECK_RATIO)
    if "group_width" in kind.options:
        checks.integer("group_width", options["group_width"], 1, 1 << 17)
        inner = bottleneck_width(out_channels, options["bottleneck_ratio"])
        if inner % options["group_width"]:
            raise InputError(f"group width {options['group_width']} does not divide the bottleneck width {inner} "
                             f"({out_channels} channels × bottleneck ratio {options['bottleneck_ratio']:g})")


def has_identity_skip(in_channels: int, out_channels: int, stride: int) -> bool:
    """Every kind adds its input back unchanged only when the block keeps both shape and channels.

    As the TF reference and torchvision (``use_res_connect``; ResNet's and RegNet's blocks project
    the input with a 1×1 conv + BN otherwise).

        >>> has_identity_skip(24, 24, 1), has_identity_skip(24, 24, 2)
        (True, False)
    """
    return stride == 1 and in_channels == out_channels

"""How a family of networks scales, as data (:class:`ScalingRules`) and as small pure functions.

Each base network carries its family's rules: how channel counts round, how repeats round,
whether stem and head widen with the network, and whether grouped stages keep their bottleneck
width a multiple of the group width. Each function below cites the reference it follows.
Override a rule with ``dataclasses.replace``, e.g.
``replace(base, rules=replace(base.rules, depth_rounding="round"))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from scaling_search.errors import InputError
from scaling_search.models import checks

RepeatRounding = Literal["ceil", "round"]
HeadScaling = Literal["scale", "grow", "fixed"]
REPEAT_ROUNDINGS: tuple[RepeatRounding, ...] = ("ceil", "round")
HEAD_SCALINGS: tuple[HeadScaling, ...] = ("scale", "grow", "fixed")


@dataclass(frozen=True)
class ScalingRules:
    """A family's scaling rules; the defaults are EfficientNet's (TF reference).

    * ``channel_divisor``, ``min_channels`` (None: the divisor), ``ten_percent``: how a scaled
      channel count rounds (:func:`make_divisible`).
    * ``depth_rounding``: ``"ceil"`` (EfficientNet) or ``"round"`` (pycls), see :func:`round_repeats`.
    * ``scale_stem``: whether the stem widens with the network (:func:`stem_width`).
    * ``head_scaling``: ``"scale"``, ``"grow"`` (never below the base's, as MobileNetV2) or
      ``"fixed"`` (:func:`head_width`).
    * ``group_compatibility``: whether grouped stages adjust their width to the group width
      (:func:`compatible_width`).

    Example:
        >>> from dataclasses import replace
        >>> replace(ScalingRules(), depth_rounding="round").depth_rounding
        'round'
        >>> ScalingRules(depth_rounding="floor")
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: depth_rounding must be one of ceil, round, got 'floor'
    """

    channel_divisor: int = 8
    min_channels: int | None = None
    ten_percent: bool = True
    depth_rounding: RepeatRounding = "ceil"
    scale_stem: bool = True
    head_scaling: HeadScaling = "scale"
    group_compatibility: bool = True

    def __post_init__(self) -> None:
        checks.integer("channel_divisor", self.channel_divisor, 1, 1024)
        if self.min_channels is not None:
            checks.integer("min_channels", self.min_channels, 1, 1024)
        for name in ("ten_percent", "scale_stem", "group_compatibility"):
            checks.boolean(name, getattr(self, name))
        checks.choice("depth_rounding", self.depth_rounding, REPEAT_ROUNDINGS)
        checks.choice("head_scaling", self.head_scaling, HEAD_SCALINGS)

    def round_channels(self, channels: float, width: float) -> int:
        """``channels × width`` rounded by these rules."""
        return make_divisible(channels * width, self.channel_divisor, self.min_channels, self.ten_percent)


def make_divisible(value: float, divisor: int, minimum: int | None = None, ten_percent: bool = True) -> int:
    """``value`` rounded half up to a multiple of ``divisor``, at least ``minimum`` (default ``divisor``).

    With ``ten_percent``, one more ``divisor`` is added when rounding lost more than 10 % of
    ``value``: ``round_filters`` in the TF reference (``efficientnet_model.py``) and torchvision's
    ``_make_divisible`` (``torchvision/models/_utils.py``). Without it this is pycls's width rule
    (``max(1, round(w / 8)) * 8`` in ``pycls/models/scaler.py``), except that exact halves round
    up here where Python's ``round`` goes to the even multiple.

        >>> make_divisible(19.2, 8), make_divisible(19.2, 8, ten_percent=False)
        (24, 16)
        >>> make_divisible(3.0, 8), make_divisible(20.0, 8, ten_percent=False)  # never below 8; 2.5 eights → 3
        (8, 24)
    """
    least = divisor if minimum is None else minimum
    rounded = max(least, int(value + divisor / 2) // divisor * divisor)
    if ten_percent and rounded < 0.9 * value:
        rounded += divisor
    return int(rounded)


def round_filters(channels: float, width: float, divisor: int = 8) -> int:
    """Scale a channel count by ``width`` and round it to a multiple of ``divisor``, as the TF reference.

    Rounds to the nearest multiple (never below ``divisor``) and adds one more ``divisor``
    when the rounding lost more than 10 % of the scaled count (:func:`make_divisible`).

        >>> round_filters(16, 1.2), round_filters(1280, 1.1)
        (24, 1408)
    """
    return make_divisible(channels * width, divisor)


def round_repeats(repeats: int, depth: float, mode: RepeatRounding = "ceil") -> int:
    """Scale a stage's block count by ``depth``.

    ``"ceil"`` as the TF reference (``round_repeats`` in ``efficientnet_model.py``) and
    torchvision's ``MBConvConfig.adjust_depth``; ``"round"``, at least 1, as pycls
    (``max(1, round(d * d_scale))`` in ``pycls/models/scaler.py``) and TinyNet.

        >>> round_repeats(2, 1.2), round_repeats(2, 1.2, "round")
        (3, 2)
    """
    if mode == "ceil":
        return math.ceil(depth * repeats)
    if mode == "round":
        return max(1, round(depth * repeats))
    raise InputError(f"repeat rounding must be 'ceil' or 'round', not {mode!r}")


def stem_width(channels: int, width: float, rules: ScalingRules) -> int:
    """The stem's channels at ``width``: scaled as the stages (TF reference, torchvision's MobileNetV2
    ``input_channel``) or kept (pycls AnyNet: ``STEM_W`` is not scaled in ``scaler.py``).

        >>> stem_width(32, 2.0, ScalingRules()), stem_width(32, 2.0, ScalingRules(scale_stem=False))
        (64, 32)
    """
    return rules.round_channels(channels, width) if rules.scale_stem else channels


def head_width(channels: int | None, width: float, rules: ScalingRules) -> int | None:
    """The head conv's channels at ``width`` (None: the base has no head conv).

    ``"scale"``: as the stages (TF reference). ``"grow"``: ``width`` below 1 keeps the base's
    head, as torchvision's MobileNetV2 (``_make_divisible(1280 * max(1.0, width_mult), 8)`` in
    ``mobilenetv2.py``). ``"fixed"``: never scaled.

        >>> rules = ScalingRules(head_scaling="grow")
        >>> head_width(1280, 0.5, rules), head_width(1280, 1.4, rules), head_width(None, 2.0, rules)
        (1280, 1792, None)
    """
    if channels is None or rules.head_scaling == "fixed":
        return channels
    return rules.round_channels(channels, max(1.0, width) if rules.head_scaling == "grow" else width)


def bottleneck_width(out_channels: int, bottleneck_ratio: float) -> int:
    """The inner width of a bottleneck block: ``int(round(out × ratio))``, at least 1.

    As torchvision's RegNet ``BottleneckTransform`` (``w_b = int(round(width_out *
    bottleneck_multiplier))``); ResNet's ``planes`` is ``out / 4``, i.e. ratio 0.25.

        >>> bottleneck_width(256, 0.25), bottleneck_width(440, 1.0)
        (64, 440)
    """
    return max(1, round(out_channels * bottleneck_ratio))


def compatible_width(out_channels: int, bottleneck_ratio: float, group_width: int) -> tuple[int, int]:
    """(out channels, group width) adjusted so the bottleneck width is a multiple of the group width.

    torchvision's ``BlockParams._adjust_widths_groups_compatibilty`` (``regnet.py``): the group
    width is capped at the bottleneck width, the bottleneck width rounded to a multiple of it by
    ``_make_divisible``, and the out width recovered from it. For an integer bottleneck ratio
    above 1 the multiple is lcm(group width, ratio), so the out width stays whole, as pycls's
    ``adjust_block_compatibility`` (``pycls/models/blocks.py``), which otherwise rounds plainly.

        >>> compatible_width(72, 1.0, 16), compatible_width(8, 1.0, 16), compatible_width(440, 1.0, 8)
        ((80, 16), (8, 8), (440, 8))
        >>> compatible_width(10, 2.0, 3)  # bottleneck 20 → 18, a multiple of lcm(3, 2) = 6
        (9, 3)
    """
    bottleneck = max(1, int(out_channels * bottleneck_ratio))
    group_width = min(group_width, bottleneck)
    whole = bottleneck_ratio > 1 and float(bottleneck_ratio).is_integer()
    multiple = math.lcm(group_width, int(bottleneck_ratio)) if whole else group_width
    bottleneck = make_divisible(bottleneck, multiple)
    return int(bottleneck / bottleneck_ratio), group_width


def se_channels(block_in_channels: int, se_ratio: float) -> int:
    """MBConv's squeeze-excitation width: ``int`` of a fraction of the block's *input* channels.

    As the TF reference (``max(1, int(input_filters * se_ratio))`` in ``efficientnet_model.py``)
    and torchvision's ``MBConv`` (``max(1, input_channels // 4)``).

        >>> se_channels(16, 0.25), se_channels(3, 0.25)
        (4, 1)
    """
    return max(1, int(block_in_channels * se_ratio))


def se_channels_rounded(block_in_channels: int, se_ratio: float) -> int:
    """RegNetY's squeeze-excitation width: the fraction of the block's input channels *rounded*, at least 1.

    torchvision's ``BottleneckTransform`` (``int(round(se_ratio * width_in))`` in ``regnet.py``), and
    pycls; the floor of 1 only matters below 2 input channels, where torchvision would build an
    empty conv.

        >>> se_channels_rounded(104, 0.25), se_channels_rounded(10, 0.25), se_channels_rounded(14, 0.25)
        (26, 2, 4)
    """
    return max(1, round(se_ratio * block_in_channels))

"""Compound scaling: pure functions from coefficients and a base network to a realised :class:`Layout`.

How each channel count and repeat rounds is the base's :class:`~scaling_search.models.rules.ScalingRules`
(EfficientNet-B0's are the TensorFlow reference's: :func:`round_filters`, :func:`round_repeats`).
Every count rounds, so the realised cost of (w, d, r) can differ a lot from the nominal d·w²·r².
"""

from __future__ import annotations

import math
from dataclasses import replace

from scaling_search.errors import InputError
from scaling_search.models.architecture import (
    EFFICIENTNET_B0,
    IMAGENET_CLASSES,
    RELEASED_FAMILY,
    BaseArchitecture,
    ReleasedModel,
)
from scaling_search.models.layout import (
    MAX_CHANNELS,
    MAX_CLASSES,
    MAX_MULTIPLIER,
    MAX_REPEATS,
    MAX_RESOLUTION,
    MIN_RESOLUTION,
    Layout,
    StageLayout,
    check_layout,
    check_multiplier,
    check_resolution,
)
from scaling_search.models.rules import (
    RepeatRounding,
    compatible_width,
    head_width,
    round_filters,
    round_repeats,
    se_channels,
    stem_width,
)

__all__ = [  # the layout's names are re-exported: callers import them from here, as before layout.py existed
    "MAX_CHANNELS", "MAX_CLASSES", "MAX_MULTIPLIER", "MAX_REPEATS", "MAX_RESOLUTION", "MIN_RESOLUTION", "Layout",
    "StageLayout", "base_layout", "check_layout", "check_multiplier", "check_resolution", "compound_layout",
    "drop_path_rate", "family_dropout", "released_layout", "round_filters", "round_repeats", "scale",
    "scale_resolution", "scales_past_limit", "se_channels",
]


def scale_resolution(base_resolution: int, gamma: float, phi: float = 1.0, multiple: int = 1) -> int:
    """Resolution ``round(base · gamma**phi)``, optionally rounded to a multiple of ``multiple``."""
    if multiple < 1:
        raise InputError(f"resolution multiple must be >= 1, got {multiple}")
    resolution = base_resolution * gamma**phi
    return max(multiple, round(resolution / multiple) * multiple)


def drop_path_rate(block_index: int, num_blocks: int, max_rate: float) -> float:
    """Stochastic-depth drop rate of block ``block_index`` (0-based) of ``num_blocks``: linear from 0."""
    return max_rate * block_index / num_blocks


def scale(
    width: float = 1.0,
    depth: float = 1.0,
    resolution: int | None = None,
    num_classes: int = IMAGENET_CLASSES,
    dropout: float = 0.2,
    drop_path: float = 0.2,
    base: BaseArchitecture = EFFICIENTNET_B0,
    repeat_rounding: RepeatRounding | None = None,
) -> Layout:
    """Realise ``base`` at width multiplier ``width``, depth multiplier ``depth`` and ``resolution``.

    Channels and repeats round by ``base.rules``; ``repeat_rounding`` overrides its depth rounding.
    ``resolution`` defaults to the base network's (224 for B0). The :class:`Layout` checks itself;
    width and depth are checked first, as rounding an absurd multiplier would overflow.

    Example:
        >>> from scaling_search.models.scaling import scale
        >>> b0 = scale()
        >>> b0.resolution, b0.channels
        (224, [16, 24, 40, 80, 112, 192, 320])
        >>> scale(width=2.0, depth=3.1, resolution=600).repeats
        [4, 7, 7, 10, 10, 13, 4]
        >>> from scaling_search.models.bases import base_network
        >>> resnet = scale(width=0.73, depth=1.6, base=base_network("resnet50"))
        >>> resnet.stem, resnet.channels, resnet.repeats, resnet.head
        (64, [184, 376, 744, 1496], [5, 6, 10, 5], None)
    """
    check_multiplier("width", width)
    check_multiplier("depth", depth)
    resolution = check_resolution(base.base_resolution if resolution is None else resolution)
    rules = base.rules if repeat_rounding is None else replace(base.rules, depth_rounding=repeat_rounding)
    stem = stem_width(base.stem_channels, width, rules)
    stages = []
    in_channels = stem
    for spec in base.stages:
        out_channels, group_width = rules.round_channels(spec.out_channels, width), spec.group_width
        if group_width and rules.group_compatibility:
            out_channels, group_width = compatible_width(out_channels, spec.bottleneck_ratio, group_width)
        stages.append(StageLayout(
            expand_ratio=spec.expand_ratio,
            kernel=spec.kernel,
            stride=spec.stride,
            in_channels=in_channels,
            out_channels=out_channels,
            repeats=round_repeats(spec.repeats, depth, rules.depth_rounding),
            block=spec.block,
            bottleneck_ratio=spec.bottleneck_ratio,
            group_width=group_width,
        ))
        in_channels = out_channels
    return Layout(
        width=width,
        depth=depth,
        resolution=resolution,
        num_classes=num_classes,
        dropout=dropout,
        drop_path=drop_path,
        stem=stem,
        stages=tuple(stages),
        head=head_width(base.head_channels, width, rules),
        se_ratio=base.se_ratio,
        bn_momentum=base.bn_momentum,
        bn_eps=base.bn_eps,
        base=base.name,
        activation=base.activation,
        init=base.init,
        stem_kernel=base.stem_kernel,
        stem_stride=base.stem_stride,
        stem_pool=base.stem_pool,
    )


def released_layout(model: ReleasedModel, num_classes: int = IMAGENET_CLASSES) -> Layout:
    """The layout of a released family member, with its own published dropout."""
    return scale(model.width, model.depth, model.resolution, num_classes=num_classes, dropout=model.dropout)


def compound_layout(
    alpha: float,
    beta: float,
    gamma: float,
    phi: float,
    base_resolution: int | None = None,
    num_classes: int = IMAGENET_CLASSES,
    resolution_multiple: int = 1,
    dropout: float | None = None,
    base: BaseArchitecture = EFFICIENTNET_B0,
    repeat_rounding: RepeatRounding | None = None,
) -> Layout:
    """The layout at compound coefficient ``phi``: depth alpha^phi, width beta^phi, resolution gamma^phi.

    ``base`` (B0 unless given) is scaled by its own rules; ``repeat_rounding`` overrides its depth rounding.
    """
    for name, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
        if not (value > 0 and math.isfinite(value)):
            raise InputError(f"{name} must be a positive number, got {value}")
    if not math.isfinite(phi):
        raise InputError(f"phi must be a finite number, got {phi}")
    for name, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
        if scales_past_limit(value, phi):
            raise InputError(f"{name}^phi = {name} {value:g} to the power {phi:g} is more than {MAX_MULTIPLIER:g}; "
                             "lower phi or the coefficient")
    base_resolution = base.base_resolution if base_resolution is None else check_resolution(base_resolution,
                                                                                            "base resolution")
    resolution = scale_resolution(base_resolution, gamma, phi, resolution_multiple)
    return scale(
        width=beta**phi,
        depth=alpha**phi,
        resolution=resolution,
        num_classes=num_classes,
        dropout=family_dropout(phi) if dropout is None else dropout,
        base=base,
        repeat_rounding=repeat_rounding,
    )


def base_layout(
    base_resolution: int | None = None,
    num_classes: int = IMAGENET_CLASSES,
    resolution_multiple: int = 1,
    base: BaseArchitecture = EFFICIENTNET_B0,
) -> Layout:
    """The unscaled network (φ = 0) at ``base_resolution``: what every cost ratio is taken against."""
    return compound_layout(1.0, 1.0, 1.0, 0.0, base_resolution, num_classes, resolution_multiple, base=base)


def scales_past_limit(coefficient: float, phi: float) -> bool:
    """Whether ``coefficient ** phi`` exceeds :data:`MAX_MULTIPLIER`, compared in logs (the power may overflow)."""
    return phi * math.log(coefficient) > math.log(MAX_MULTIPLIER)


def family_dropout(phi: float) -> float:
    """Classifier dropout of a layout that :func:`compound_layout` builds at φ: the released member's at the nearest φ.

    The released table steps by 0.1 every two members (0.2 at B0 → 0.5 at B7); φ is clamped to
    B0–B7. Every candidate of a search at φ gets the same value, so candidates are compared under
    one regularisation. A member of a derived family instead takes the dropout of the released
    member nearest in cost (:func:`scaling_search.coefficients.family.cost_dropout`).
    """
    index = min(max(math.floor(phi + 0.5), 0), len(RELEASED_FAMILY) - 1)
    return RELEASED_FAMILY[index].dropout

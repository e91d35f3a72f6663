"""Compound-scaling rules: pure functions from coefficients to a realised layout.

The rules are those of the TensorFlow reference: channel counts go through
:func:`round_filters`, stage repeats through :func:`round_repeats`. Both round, so the
realised cost of (w, d, r) can differ a lot from the nominal d·w²·r².
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from scaling_search.errors import InputError
from scaling_search.models.architecture import (
    EFFICIENTNET_B0,
    IMAGENET_CLASSES,
    RELEASED_FAMILY,
    BaseArchitecture,
    ReleasedModel,
)

RepeatRounding = Literal["ceil", "round"]


def round_filters(channels: float, width: float, divisor: int = 8) -> int:
    """Scale a channel count by ``width`` and round it to a multiple of ``divisor``.

    Rounds to the nearest multiple (never below ``divisor``) and adds one more ``divisor``
    when the rounding lost more than 10 % of the scaled count, exactly as the reference.
    """
    scaled = channels * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * scaled:
        rounded += divisor
    return int(rounded)


def round_repeats(repeats: int, depth: float, mode: RepeatRounding = "ceil") -> int:
    """Scale a stage's block count by ``depth``: ceil as the reference, or round (TinyNet, pycls)."""
    if mode == "ceil":
        return math.ceil(depth * repeats)
    if mode == "round":
        return max(1, round(depth * repeats))
    raise InputError(f"repeat rounding must be 'ceil' or 'round', not {mode!r}")


def scale_resolution(base_resolution: int, gamma: float, phi: float = 1.0, multiple: int = 1) -> int:
    """Resolution ``round(base · gamma**phi)``, optionally rounded to a multiple of ``multiple``."""
    if multiple < 1:
        raise InputError(f"resolution multiple must be >= 1, got {multiple}")
    resolution = base_resolution * gamma**phi
    return max(multiple, round(resolution / multiple) * multiple)


def drop_path_rate(block_index: int, num_blocks: int, max_rate: float) -> float:
    """Stochastic-depth drop rate of block ``block_index`` (0-based) of ``num_blocks``: linear from 0."""
    return max_rate * block_index / num_blocks


def se_channels(block_in_channels: int, se_ratio: float) -> int:
    """Squeeze-excitation width: a fraction of the block's *input* channels, as the reference."""
    return max(1, int(block_in_channels * se_ratio))


MAX_MULTIPLIER = 64.0
"""Largest width or depth multiplier: B7 is 2.0 wide and 3.1 deep; 64 already means a network of billions of weights."""
MAX_CHANNELS = 1 << 17
"""Channels of any layer in a layout: B0's widest (1280) at the largest width multiplier is 81,920."""
MAX_REPEATS = 1024
"""Blocks in one stage: B0's longest stage (4) at the largest depth multiplier is 256."""
MIN_RESOLUTION = 8
"""Smallest input side accepted: B0 shrinks its input 32-fold, so at 8 px its stages after the second output 1 px."""
MAX_RESOLUTION = 4096
MAX_CLASSES = 100_000


@dataclass(frozen=True)
class StageLayout:
    """One realised stage: channels and repeats after rounding."""

    expand_ratio: int
    kernel: int
    stride: int
    in_channels: int
    out_channels: int
    repeats: int


@dataclass(frozen=True)
class Layout:
    """A realised network: everything the builder and the counters need, nothing mutable.

    Made by :func:`scale`, :func:`compound_layout` or :func:`released_layout` (or read back with
    :meth:`from_dict`). It checks itself when built and raises InputError for values no network can
    be built from, so a hand-edited one fails at once, naming the field and what it allows.

    Example:
        >>> from scaling_search.models.scaling import scale
        >>> layout = scale(width=1.1, depth=1.2, resolution=260)
        >>> layout.stem, layout.head, layout.repeats
        (32, 1408, [2, 3, 3, 4, 4, 5, 2])
    """

    width: float
    depth: float
    resolution: int
    num_classes: int
    dropout: float
    drop_path: float
    stem: int
    stages: tuple[StageLayout, ...]
    head: int
    se_ratio: float = 0.25
    bn_momentum: float = 0.01
    bn_eps: float = 1e-3

    def __post_init__(self) -> None:
        check_layout(self)

    @property
    def channels(self) -> list[int]:
        return [s.out_channels for s in self.stages]

    @property
    def repeats(self) -> list[int]:
        return [s.repeats for s in self.stages]

    @property
    def num_blocks(self) -> int:
        return sum(s.repeats for s in self.stages)

    def structure_key(self) -> tuple:
        """What determines the cost of a forward pass: layout and resolution, not the coefficients."""
        return (
            self.stem,
            tuple((s.expand_ratio, s.kernel, s.stride, s.in_channels, s.out_channels, s.repeats) for s in self.stages),
            self.head,
            self.num_classes,
            self.resolution,
            self.se_ratio,
        )

    def with_resolution(self, resolution: int) -> Layout:
        return replace(self, resolution=check_resolution(resolution))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stages"] = [asdict(s) for s in self.stages]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Layout:
        fields = dict(data)
        try:
            fields["stages"] = tuple(StageLayout(**s) for s in fields["stages"])
            return cls(**fields)
        except (KeyError, TypeError) as err:
            raise InputError(f"not a layout: {err}") from None


def check_resolution(resolution: int, name: str = "resolution") -> int:
    """``resolution`` as an int (an integral float is accepted), or InputError naming ``name`` and the allowed range."""
    if isinstance(resolution, bool) or not isinstance(resolution, (int, float)) or int(resolution) != resolution \
            or not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise InputError(f"{name} must be an integer in [{MIN_RESOLUTION}, {MAX_RESOLUTION}], got {resolution!r}")
    return int(resolution)


def check_multiplier(name: str, value: object) -> None:
    """Raise InputError unless ``value`` is a width or depth multiplier in (0, :data:`MAX_MULTIPLIER`]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_MULTIPLIER:
        raise InputError(f"{name} must be a number in (0, {MAX_MULTIPLIER:g}], got {value!r}")


def check_layout(layout: Layout) -> None:
    """Raise InputError for a layout no network can be built from (as a hand-edited config file can hold)."""
    def integer(name: str, value: Any, most: float, least: int = 1) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
            raise InputError(f"{name} must be an integer in [{least}, {most:g}], got {value!r}")

    check_multiplier("width", layout.width)
    check_multiplier("depth", layout.depth)
    integer("resolution", layout.resolution, MAX_RESOLUTION, MIN_RESOLUTION)
    integer("num_classes", layout.num_classes, MAX_CLASSES)
    for name in ("dropout", "drop_path"):
        value = getattr(layout, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise InputError(f"{name} must lie in [0, 1), got {value!r}")
    for name, low, high in (("se_ratio", 0.0, 1.0), ("bn_momentum", 0.0, 1.0), ("bn_eps", 0.0, 1.0)):
        value = getattr(layout, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low < value <= high:
            raise InputError(f"{name} must be a number in ({low:g}, {high:g}], got {value!r}")
    if not layout.stages:
        raise InputError("a layout needs at least one stage")
    integer("stem", layout.stem, MAX_CHANNELS)
    integer("head", layout.head, MAX_CHANNELS)
    limits = {"expand_ratio": 64, "kernel": 63, "in_channels": MAX_CHANNELS, "out_channels": MAX_CHANNELS,
              "repeats": MAX_REPEATS}
    previous = layout.stem
    for index, stage in enumerate(layout.stages, 1):
        for name, most in limits.items():
            integer(f"stage {index} {name}", getattr(stage, name), most)
        if stage.stride not in (1, 2) or stage.kernel % 2 == 0:
            raise InputError(f"stage {index} needs stride 1 or 2 and an odd kernel, got {stage.stride}, "
                             f"{stage.kernel}")
        if stage.in_channels != previous:
            raise InputError(f"stage {index} takes {stage.in_channels} channels but gets {previous}")
        previous = stage.out_channels


def scale(
    width: float = 1.0,
    depth: float = 1.0,
    resolution: int | None = None,
    num_classes: int = IMAGENET_CLASSES,
    dropout: float = 0.2,
    drop_path: float = 0.2,
    base: BaseArchitecture = EFFICIENTNET_B0,
    repeat_rounding: RepeatRounding = "ceil",
) -> Layout:
    """Realise ``base`` at width multiplier ``width``, depth multiplier ``depth`` and ``resolution``.

    ``resolution`` defaults to the base network's (224 for B0). The :class:`Layout` checks itself;
    width and depth are checked first, as rounding an absurd multiplier would overflow.

    Example:
        >>> from scaling_search.models.scaling import scale
        >>> b0 = scale()
        >>> b0.resolution, b0.channels
        (224, [16, 24, 40, 80, 112, 192, 320])
        >>> scale(width=2.0, depth=3.1, resolution=600).repeats
        [4, 7, 7, 10, 10, 13, 4]
    """
    check_multiplier("width", width)
    check_multiplier("depth", depth)
    resolution = check_resolution(base.base_resolution if resolution is None else resolution)
    divisor = base.channel_divisor
    stem = round_filters(base.stem_channels, width, divisor)
    stages = []
    in_channels = stem
    for spec in base.stages:
        out_channels = round_filters(spec.out_channels, width, divisor)
        stages.append(
            StageLayout(
                expand_ratio=spec.expand_ratio,
                kernel=spec.kernel,
                stride=spec.stride,
                in_channels=in_channels,
                out_channels=out_channels,
                repeats=round_repeats(spec.repeats, depth, repeat_rounding),
            )
        )
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
        head=round_filters(base.head_channels, width, divisor),
        se_ratio=base.se_ratio,
        bn_momentum=base.bn_momentum,
        bn_eps=base.bn_eps,
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
    repeat_rounding: RepeatRounding = "ceil",
) -> Layout:
    """The layout at compound coefficient ``phi``: depth alpha^phi, width beta^phi, resolution gamma^phi."""
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
    member nearest in cost (:func:`scaling_search.family.cost_dropout`).
    """
    index = min(max(math.floor(phi + 0.5), 0), len(RELEASED_FAMILY) - 1)
    return RELEASED_FAMILY[index].dropout

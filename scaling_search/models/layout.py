"""A realised network (:class:`Layout`): every channel count and repeat after rounding, checked when built.

What the builder (:mod:`scaling_search.models.network`), both counters and the disk cache
read. Its fields default to EfficientNet-B0's form, so a layout saved before other bases existed
(no ``base``, ``block`` or stem fields) reads back as the B0 layout it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, TypedDict, cast

from scaling_search.errors import InputError
from scaling_search.models import checks
from scaling_search.models.architecture import ACTIVATIONS, INITS
from scaling_search.models.kinds import BlockOptions, check_block

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
B0_STEM_FORM = (3, 2, False)
"""(stem kernel, stem stride, max pool) of B0: left out of :meth:`Layout.structure_key`, which is then as before."""
StructureKey = tuple[object, ...]
"""What sets a network's cost (:meth:`Layout.structure_key`): equal keys, equal counts."""


@dataclass(frozen=True)
class StageLayout:
    """One realised stage: channels and repeats after rounding, and its block kind and options."""

    expand_ratio: int
    kernel: int
    stride: int
    in_channels: int
    out_channels: int
    repeats: int
    block: str = "mbconv"
    bottleneck_ratio: float = 1.0
    group_width: int = 0

    def options(self) -> BlockOptions:
        return BlockOptions(expand_ratio=self.expand_ratio, kernel=self.kernel, bottleneck_ratio=self.bottleneck_ratio,
                            group_width=self.group_width)

    def structure_key(self) -> StructureKey:
        """What sets this stage's cost; an MBConv stage's is its six numbers, as before other kinds existed."""
        numbers = (self.expand_ratio, self.kernel, self.stride, self.in_channels, self.out_channels, self.repeats)
        return numbers if self.block == "mbconv" else (*numbers, self.block, self.bottleneck_ratio, self.group_width)


class StageRecord(TypedDict):
    """A :class:`StageLayout` as JSON (:meth:`Layout.to_dict`)."""

    expand_ratio: int
    kernel: int
    stride: int
    in_channels: int
    out_channels: int
    repeats: int
    block: str
    bottleneck_ratio: float
    group_width: int


class LayoutRecord(TypedDict):
    """A :class:`Layout` as JSON (:meth:`Layout.to_dict`), as network configs and Ray trial configs hold it."""

    width: float
    depth: float
    resolution: int
    num_classes: int
    dropout: float
    drop_path: float
    stem: int
    stages: list[StageRecord]
    head: int | None
    se_ratio: float
    bn_momentum: float
    bn_eps: float
    base: str
    activation: str
    init: str
    stem_kernel: int
    stem_stride: int
    stem_pool: bool


@dataclass(frozen=True)
class Layout:
    """A realised network: everything the builder and the counters need, nothing mutable.

    Made by :func:`~scaling_search.models.scaling.scale`, ``compound_layout`` or
    ``released_layout`` (or read back with :meth:`from_dict`). It checks itself when built and
    raises InputError for values no network can be built from, so a hand-edited one fails at
    once, naming the field and what it allows. ``base`` names the base network it was scaled
    from; ``head`` None means no head conv; ``stem_pool`` is ResNet's max pool after the stem.

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
    head: int | None
    se_ratio: float = 0.25
    bn_momentum: float = 0.01
    bn_eps: float = 1e-3
    base: str = "efficientnet_b0"
    activation: str = "silu"
    init: str = "efficientnet"
    stem_kernel: int = 3
    stem_stride: int = 2
    stem_pool: bool = False

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

    @property
    def features(self) -> int:
        """Channels the classifier reads: the head conv's, or the last stage's when there is none."""
        return self.stages[-1].out_channels if self.head is None else self.head

    def structure_key(self) -> StructureKey:
        """What determines the cost of a forward pass: layout and resolution, not the coefficients.

        Block kinds and options and the stem's form are in it, so the disk cache tells bases
        apart; the parts that are B0's are left out, so a B0 layout's key is what it was before.
        """
        key = (self.stem, tuple(s.structure_key() for s in self.stages), self.head, self.num_classes,
               self.resolution, self.se_ratio)
        stem_form = (self.stem_kernel, self.stem_stride, self.stem_pool)
        return key if stem_form == B0_STEM_FORM else (*key, stem_form)

    def with_resolution(self, resolution: int) -> Layout:
        return replace(self, resolution=check_resolution(resolution))

    def to_dict(self) -> LayoutRecord:
        return cast(LayoutRecord, asdict(self) | {"stages": [asdict(s) for s in self.stages]})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Layout:
        """The layout in ``data`` (as :meth:`to_dict` writes); fields missing from older files take B0's values."""
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
    integer = checks.integer
    check_multiplier("width", layout.width)
    check_multiplier("depth", layout.depth)
    integer("resolution", layout.resolution, MIN_RESOLUTION, MAX_RESOLUTION)
    integer("num_classes", layout.num_classes, 1, MAX_CLASSES)
    for name in ("dropout", "drop_path"):
        value = getattr(layout, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise InputError(f"{name} must lie in [0, 1), got {value!r}")
    for name in ("se_ratio", "bn_momentum", "bn_eps"):
        checks.number(name, getattr(layout, name), 0.0, 1.0)
    if not isinstance(layout.base, str) or not layout.base:
        raise InputError(f"base must be a base network's name, got {layout.base!r}")
    checks.choice("activation", layout.activation, ACTIVATIONS)
    checks.choice("init", layout.init, INITS)
    integer("stem_kernel", layout.stem_kernel, 1, 63)
    integer("stem_stride", layout.stem_stride, 1, 2)
    if layout.stem_kernel % 2 == 0:
        raise InputError(f"stem_kernel must be odd, got {layout.stem_kernel}")
    checks.boolean("stem_pool", layout.stem_pool)
    if not layout.stages:
        raise InputError("a layout needs at least one stage")
    integer("stem", layout.stem, 1, MAX_CHANNELS)
    if layout.head is not None:
        integer("head", layout.head, 1, MAX_CHANNELS)
    limits = {"expand_ratio": 64, "kernel": 63, "in_channels": MAX_CHANNELS, "out_channels": MAX_CHANNELS,
              "repeats": MAX_REPEATS}
    previous = layout.stem
    for index, stage in enumerate(layout.stages, 1):
        for name, most in limits.items():
            integer(f"stage {index} {name}", getattr(stage, name), 1, most)
        if stage.stride not in (1, 2) or stage.kernel % 2 == 0:
            raise InputError(f"stage {index} needs stride 1 or 2 and an odd kernel, got {stage.stride}, "
                             f"{stage.kernel}")
        if stage.in_channels != previous:
            raise InputError(f"stage {index} takes {stage.in_channels} channels but gets {previous}")
        try:
            check_block(stage.block, stage.out_channels, stage.options())
        except InputError as err:
            raise InputError(f"stage {index}: {err}") from None
        previous = stage.out_channels

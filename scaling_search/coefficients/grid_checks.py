"""What a candidate grid may be: its constraints, its axes, and the check a grid specification runs when built.

Enumerating the grid (:mod:`scaling_search.coefficients.grid`) and checking it are separate jobs;
the check reads the specification through :class:`GridFields`, so this module needs nothing from
the grid's.
"""

from __future__ import annotations

import math
from typing import Literal, Protocol, get_args

from scaling_search.counting.cost_kind import check_cost_kind
from scaling_search.errors import InputError
from scaling_search.models.architecture import BaseArchitecture
from scaling_search.models.scaling import MAX_CLASSES, MAX_MULTIPLIER, MAX_RESOLUTION, MIN_RESOLUTION, scales_past_limit

Constraint = Literal["measured", "nominal"]
CONSTRAINTS: tuple[Constraint, ...] = get_args(Constraint)
"""measured: the counted MACs ratio must meet the target; nominal: alpha * beta^2 * gamma^2 must."""
MAX_GRID_POINTS = 250_000


class GridFields(Protocol):
    """The fields of a grid specification that :func:`check_grid` reads (read-only: a frozen dataclass has them)."""

    @property
    def base(self) -> object: ...

    @property
    def phi(self) -> float: ...

    @property
    def step(self) -> float: ...

    @property
    def alpha_range(self) -> tuple[float, float]: ...

    @property
    def beta_range(self) -> tuple[float, float]: ...

    @property
    def gamma_range(self) -> tuple[float, float]: ...

    @property
    def target(self) -> float: ...

    @property
    def tolerance(self) -> float: ...

    @property
    def growth_tolerance(self) -> float | None: ...

    @property
    def constraint(self) -> str: ...

    @property
    def cost(self) -> str: ...

    @property
    def base_resolution(self) -> int: ...

    @property
    def cost_resolution(self) -> int: ...

    @property
    def resolution_multiple(self) -> int: ...

    @property
    def num_classes(self) -> int: ...

    @property
    def cost_classes(self) -> int: ...


def check_grid(spec: GridFields) -> None:
    """Raise InputError, saying what is allowed, for a grid that cannot be searched."""
    if not isinstance(spec.base, BaseArchitecture):
        raise InputError(f"base must be a BaseArchitecture (base_network(name) gives one), got {spec.base!r}")
    if not math.isfinite(spec.phi) or spec.phi == 0:
        raise InputError("phi must be a non-zero number: at phi = 0 every candidate is the base network "
                         "(negative phi scales down)")
    if not (spec.step > 0 and math.isfinite(spec.step)):
        raise InputError(f"step must be > 0, got {spec.step}")
    for name, (low, high) in (("alpha", spec.alpha_range), ("beta", spec.beta_range), ("gamma", spec.gamma_range)):
        if not (math.isfinite(low) and math.isfinite(high)):
            raise InputError(f"{name} range must be finite, got {low}..{high}")
        if low < 1.0:
            raise InputError(f"{name} range must start at >= 1 (coefficients scale up per unit of phi), got {low}")
        if low > high:
            raise InputError(f"{name} range has min {low} > max {high}")
    if not (spec.target > 1 and math.isfinite(spec.target)):
        raise InputError(f"target cost ratio must be > 1, got {spec.target}")
    if not 0 < spec.tolerance < 1:
        raise InputError(f"tolerance must lie in (0, 1), got {spec.tolerance}")
    if spec.growth_tolerance is not None and not 0 < spec.growth_tolerance < 1:
        raise InputError(f"growth tolerance must lie in (0, 1), got {spec.growth_tolerance}")
    if spec.constraint not in CONSTRAINTS:
        raise InputError(f"constraint must be one of {', '.join(CONSTRAINTS)}, not {spec.constraint!r}")
    check_cost_kind(spec.cost)
    if spec.constraint == "nominal" and spec.cost != "macs":
        raise InputError(f"the nominal constraint alpha * beta^2 * gamma^2 is a rule for MACs; {spec.cost} is held to "
                         "a measured constraint (--constraint measured)")
    for name, resolution in (("base resolution", spec.base_resolution), ("cost resolution", spec.cost_resolution)):
        if not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
            raise InputError(f"{name} must lie in [{MIN_RESOLUTION}, {MAX_RESOLUTION}], got {resolution}")
    if not 1 <= spec.resolution_multiple <= spec.cost_resolution:
        raise InputError(f"resolution multiple must lie in [1, the cost resolution {spec.cost_resolution}], got "
                         f"{spec.resolution_multiple}")
    if spec.base_resolution % spec.resolution_multiple:
        lower = spec.base_resolution // spec.resolution_multiple * spec.resolution_multiple
        raise InputError(f"base resolution {spec.base_resolution} px is not a multiple of the resolution multiple "
                         f"{spec.resolution_multiple} that both the proxy and the cost scale round to; use "
                         f"{lower or spec.resolution_multiple} or {lower + spec.resolution_multiple} px, or "
                         "--resolution-multiple 1")
    for name, classes in (("num_classes", spec.num_classes), ("cost classes", spec.cost_classes)):
        if not 1 <= classes <= MAX_CLASSES:
            raise InputError(f"{name} must lie in [1, {MAX_CLASSES}], got {classes}")
    for name, (low, high) in (("alpha", spec.alpha_range), ("beta", spec.beta_range), ("gamma", spec.gamma_range)):
        largest = high if spec.phi > 0 else low  # a multiplier's largest value on the grid (>= 1 when phi < 0)
        if scales_past_limit(largest, spec.phi):
            raise InputError(f"at phi {spec.phi:g}, {name} up to {largest:g} scales by more than {MAX_MULTIPLIER:g}; "
                             f"lower phi or narrow the {name} range")
    points = math.prod(axis_length(r, spec.step) for r in (spec.alpha_range, spec.beta_range, spec.gamma_range))
    if points > MAX_GRID_POINTS:
        raise InputError(f"the grid has more than {MAX_GRID_POINTS:,} points; use a larger step "
                         "or narrower ranges")


def axis_values(value_range: tuple[float, float], step: float) -> list[float]:
    """low, low+step, … ≤ high, computed from integer multiples so no float drift adds or loses a point."""
    low = value_range[0]
    return [round(low + i * step, 10) for i in range(axis_length(value_range, step))]


def axis_length(value_range: tuple[float, float], step: float) -> int:
    """How many values :func:`axis_values` gives, computed without listing them."""
    low, high = value_range
    span = (high - low) / step
    return math.floor(span + 1e-9) + 1 if span <= MAX_GRID_POINTS else MAX_GRID_POINTS + 1  # also for inf

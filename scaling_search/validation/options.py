"""What ``scaling-search validate`` runs, as immutable data: how many candidates, how long, which φ.

Options left as ``None`` are filled from the study being validated (:meth:`ValidationOptions.resolved`):
its epochs, its finalist seeds, its base resolution and twice its φ. Once a validation study
exists, the options that fix what a validation run *is* (:data:`FIXED`: the candidates' count, the
budgets, the seeds, the long runs' resolution) are saved with it and every later call must agree
with them; the φ of the scale-up check and which checks run may grow from call to call, each
adding only the trials the validation study does not hold yet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, TypedDict

from scaling_search.errors import InputError
from scaling_search.models.scaling import check_resolution
from scaling_search.stats.comparison import MIN_SEEDS

VALIDATION_SUFFIX = ".validate"
"""A study's validation runs are the Optuna study ``<study>.validate`` in the same storage."""

VALIDATION_SEED_BASE = 2000
"""Validation runs train on seeds 2000, 2001, …: never one the search (0, 1, …) or its finalists (1000, …) used."""

DEFAULT_TOP = 5
"""Rank fidelity retrains at least this many candidates where the study has them: the fewest a verdict is drawn from
(:data:`scaling_search.stats.fidelity.VERDICT_CANDIDATES`), since with K candidates even a perfect order comes by
chance 1 time in K!."""
DEFAULT_EPOCHS_FACTORS = {"cuda": 4.0, "cpu": 2.0}
"""Long runs train this many times the study's epochs, by the study's device. 4× on a GPU; 2× on a CPU, where the
built-in default study's validation (then 4 networks × 2 seeds long, 5 members × 2 seeds at φ = 2) finished within
10 minutes on 2 cores (at 4× it took 9 min 42 s there: the long runs alone were 5.3 of them); at least 3 seeds now
make it about 1.5× longer."""
FIXED = ("top", "epochs_factor", "scale_up_epochs_factor", "seeds", "long_resolution")
"""Options saved with a validation study; a later call that sets one differently is refused."""


class OptionsRecord(TypedDict):
    """:class:`ValidationOptions` as saved with a validation study (its ``options`` attribute) and validation.json."""

    top: int | None
    epochs_factor: float | None
    scale_up_epochs_factor: float | None
    seeds: int | None
    phis: list[float] | None
    long_resolution: int | None
    fidelity: bool
    scale_up: bool


def validation_study_name(study: str) -> str:
    """The name of ``study``'s validation study in the same storage."""
    return f"{study}{VALIDATION_SUFFIX}"


@dataclass(frozen=True)
class ValidationOptions:
    """How a study's answer is checked. ``None`` means "from the study" (see :meth:`resolved`).

    * ``top``: K, how many of the study's candidates (distinct networks) are re-trained for rank
      fidelity at least, where it has them: its K best contenders first, the paper's point always,
      then its best other candidates while fewer than K are chosen (default :data:`DEFAULT_TOP`,
      see :func:`~scaling_search.validation.validation_plan.fidelity_rows`);
    * ``epochs_factor``: the long runs train ``epochs_factor`` × the study's epochs (default
      :data:`DEFAULT_EPOCHS_FACTORS`: 4 for a GPU study, 2 for a CPU one);
    * ``scale_up_epochs_factor``: the scale-up members train that many times the study's epochs
      (default 1: the study's own budget, so the check isolates scale from training length);
    * ``seeds``: fresh seeds per network (default: the study's finalist seeds, at least
      :data:`~scaling_search.stats.comparison.MIN_SEEDS`, below which no difference is resolved);
    * ``phis``: the φ of the scale-up check, each larger than the study's (default twice its φ);
    * ``long_resolution``: the base resolution of the long runs (default the study's);
    * ``fidelity``, ``scale_up``: which checks run.

    Example:
        >>> options = ValidationOptions(top=3, phis=(2.0, 3.0))
        >>> options.top, options.epochs_factor, options.phis
        (3, None, (2.0, 3.0))
        >>> ValidationOptions(top=1)
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: top must be >= 2 (a ranking needs two candidates), got 1
    """

    top: int | None = None
    epochs_factor: float | None = None
    scale_up_epochs_factor: float | None = None
    seeds: int | None = None
    phis: tuple[float, ...] | None = None
    long_resolution: int | None = None
    fidelity: bool = True
    scale_up: bool = True

    def __post_init__(self) -> None:
        check_options(self)

    def resolved(self, study_phi: float, study_seeds: int, saved: ValidationOptions | None = None,
                 device: str = "cuda") -> ValidationOptions:
        """Every ``None`` filled: from ``saved`` (an existing validation study's options), else the defaults.

        ``study_phi`` is the study's φ; ``study_seeds`` its finalist seeds (or its seeds); ``device``
        the study's ("cpu" or "cuda"), which sizes the default epochs factor. Raises
        InputError when an option of :data:`FIXED` differs from ``saved``, or a φ is not above the study's.
        """
        if saved is not None:
            changed = [name for name in FIXED
                       if getattr(self, name) is not None and getattr(self, name) != getattr(saved, name)]
            if changed:
                settings = ", ".join(f"{name.replace('_', '-')} {getattr(saved, name)}" for name in changed)
                raise InputError(f"this study's validation was run with other settings ({settings}); leave them "
                                 "out to go on with it, or delete its validation study to start again")
        base = saved or ValidationOptions(top=DEFAULT_TOP, epochs_factor=DEFAULT_EPOCHS_FACTORS.get(device, 4.0),
                                          scale_up_epochs_factor=1.0, seeds=max(MIN_SEEDS, study_seeds))
        phis = self.phis or (default_phi(study_phi),)
        for phi in phis:
            if phi <= study_phi:
                raise InputError(f"scale-up phi must be larger than the study's phi {study_phi:g}, got {phi:g}")
        values = {name: getattr(base, name) if getattr(self, name) is None else getattr(self, name) for name in FIXED}
        return replace(self, **values, phis=tuple(phis))

    def to_dict(self) -> OptionsRecord:
        return OptionsRecord(top=self.top, epochs_factor=self.epochs_factor,
                             scale_up_epochs_factor=self.scale_up_epochs_factor, seeds=self.seeds,
                             phis=None if self.phis is None else list(self.phis), long_resolution=self.long_resolution,
                             fidelity=self.fidelity, scale_up=self.scale_up)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidationOptions:
        """The options :meth:`to_dict` saved; other keys (validation.json's settings add the budgets) are ignored.

        Raises InputError, as the constructor does, for a value the options cannot take.
        """
        known = {f.name for f in fields(cls)}
        values = {name: value for name, value in data.items() if name in known}
        if values.get("phis") is not None:
            values["phis"] = tuple(float(phi) for phi in values["phis"])
        return cls(**values)


def default_phi(study_phi: float) -> float:
    """Twice the study's φ (the paper searched at 1 and checked at 2), or 1 for a study at φ < 0."""
    return 2 * study_phi if study_phi > 0 else 1.0


def check_options(options: ValidationOptions) -> None:
    """Raise InputError naming the option, what it got and what is allowed."""
    o = options
    if o.top is not None and (isinstance(o.top, bool) or not isinstance(o.top, int) or o.top < 2):
        raise InputError(f"top must be >= 2 (a ranking needs two candidates), got {o.top}")
    for name in ("epochs_factor", "scale_up_epochs_factor"):
        value = getattr(o, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not math.isfinite(value) or value <= 0):
            raise InputError(f"{name.replace('_', '-')} must be a number > 0, got {value}")
    if o.seeds is not None and (isinstance(o.seeds, bool) or not isinstance(o.seeds, int) or o.seeds < 1):
        raise InputError(f"seeds must be >= 1, got {o.seeds}")
    if o.phis is not None:
        if not o.phis:
            raise InputError("phis is empty; name at least one phi, e.g. 2")
        for phi in o.phis:
            if isinstance(phi, bool) or not isinstance(phi, int | float) or not math.isfinite(phi) or phi <= 0:
                raise InputError(f"scale-up phi must be a number > 0, got {phi}")
    if o.long_resolution is not None:
        check_resolution(o.long_resolution, "long-resolution")
    if not (o.fidelity or o.scale_up):
        raise InputError("nothing to validate: --fidelity-only and --scale-up-only exclude each other")


def scaled_epochs(epochs: int, factor: float) -> int:
    """``epochs`` × ``factor``, rounded, at least 1."""
    return max(1, round(epochs * factor))

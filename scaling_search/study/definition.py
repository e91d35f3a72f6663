"""A study definition: every option of ``scaling-search run``, as immutable data.

A definition comes from defaults, then a TOML file (:mod:`~scaling_search.study.study_file`), then
command-line flags, in that order.
Options left as ``None`` are sized to the device when the run starts
(:func:`~scaling_search.study.sizing.resolve_for_device`), which makes a :class:`ResolvedDefinition`:
the same options with the device-sized ones set, the only kind of definition that can plan or train
a study. It is saved beside the study so that a run can be repeated exactly and resumed with the
same plan.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from scaling_search.coefficients.grid import GridSpec
from scaling_search.counting.latency import LatencySettings, check_measurable_here
from scaling_search.data.load import parse_spec
from scaling_search.errors import InputError
from scaling_search.stats.comparison import DEFAULT_MIN_EFFECT
from scaling_search.study.study_base import base_label, checkable_base, same_base
from scaling_search.training.recipe import Budget, Recipe, configured_recipe

GRID_DEFAULTS = GridSpec()
"""The candidate grid's defaults are the search's defaults."""
STUDY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
STRATEGIES = ("grid", "tpe")
DEVICE = re.compile(r"auto|cpu|cuda")
IN_MEMORY_STORAGE = ("sqlite://", "sqlite:///:memory:")


@dataclass(frozen=True)
class StudyDefinition:
    """Everything a search needs. ``None`` means "sized to the device at run time" (:class:`ResolvedDefinition`).

    A definition checks itself when it is built: a value it cannot take raises
    :class:`~scaling_search.errors.InputError` naming the option.

    ``base`` names the base network (a built-in, or a TOML stage table's path); ``base_table`` is
    that table itself, which a study stores when it starts (:mod:`~scaling_search.study.study_base`).

    Example:
        >>> definition = StudyDefinition(phi=1.0, dataset="synthetic")
        >>> definition.named().study
        'synthetic-phi1-grid'
        >>> StudyDefinition(base="resnet50").named().study
        'synthetic-resnet50-phi1-grid'
        >>> definition.named().storage_url().endswith("studies/synthetic-phi1-grid.db")
        True
        >>> StudyDefinition(seeds=0)
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: seeds must be >= 1, got 0
    """

    study: str | None = None  # None: named after dataset, base, phi and strategy (see default_study_name)
    studies_dir: str = "studies"
    storage: str | None = None
    # what is searched
    phi: float = 1.0
    base: str = "efficientnet_b0"  # a built-in base network's name, or the path of a TOML stage table
    strategy: str = "grid"
    trials: int | None = None
    seeds: int = 1
    step: float = GRID_DEFAULTS.step
    alpha_range: tuple[float, float] = GRID_DEFAULTS.alpha_range
    beta_range: tuple[float, float] = GRID_DEFAULTS.beta_range
    gamma_range: tuple[float, float] = GRID_DEFAULTS.gamma_range
    target: float = GRID_DEFAULTS.target
    tolerance: float = GRID_DEFAULTS.tolerance
    growth_tolerance: float | None = GRID_DEFAULTS.growth_tolerance  # None: the tolerance
    constraint: str = GRID_DEFAULTS.constraint
    cost: str = GRID_DEFAULTS.cost  # macs, activations or latency (scaling_search.counting.cost_kind)
    # how latency is timed, with cost = "latency" (scaling_search.counting.latency.LatencySettings)
    cost_device: str = "cpu"
    latency_batch_size: int = 1
    latency_dtype: str = "float32"
    latency_threads: int = 1
    latency_channels_last: bool = False
    latency_compile: bool = False
    latency_mode: str = "inference"
    cost_resolution: int = GRID_DEFAULTS.cost_resolution
    cost_classes: int = GRID_DEFAULTS.cost_classes
    resolution_multiple: int = GRID_DEFAULTS.resolution_multiple
    baselines: bool = GRID_DEFAULTS.baselines
    max_candidates: int | None = None
    # how the answer is decided (scaling_search.search.stages)
    finalists: int = 3
    finalist_seeds: int | None = None
    min_effect: float = DEFAULT_MIN_EFFECT * 100  # points of accuracy the sample-size plans are for
    refine: bool | None = None  # None: refine when the winning class is wider than a grid step
    refine_step: float | None = None  # None: step / 5
    max_refine: int | None = None
    # the proxy task
    dataset: str = "synthetic"
    data_root: str | None = None
    download: bool = False
    val_fraction: float = 0.1
    base_resolution: int | None = None
    epochs: int | None = None
    batch_size: int | None = None
    recipe: str = "proxy"
    lr: float | None = None
    max_train_images: int | None = None
    # how it runs
    device: str = "auto"
    trials_per_gpu: int = 1
    cpus_per_trial: float | None = None
    max_concurrent: int | None = None
    max_failures: int = 1
    early_stop: bool = False
    address: str | None = None
    # the base's stage table (TOML) when it was read from a file: stored when the study starts, then it is the base
    base_table: str | None = None

    def __post_init__(self) -> None:
        validate(self)

    def __eq__(self, other: object) -> bool:
        """Equal options make equal definitions, resolved or not: a saved definition reads back as the one saved."""
        if not isinstance(other, StudyDefinition):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(StudyDefinition))

    def to_dict(self) -> dict[str, object]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def to_toml(self) -> str:
        lines = ["# Resolved study definition, written by scaling-search run. Re-run with:",
                 f"#   scaling-search run {self.study_dir() / 'study.toml'}"]
        for key, value in self.to_dict().items():
            if value is not None:
                lines.append(f"{key} = {toml_value(value)}")
        return "\n".join(lines) + "\n"

    def latency_settings(self) -> LatencySettings:
        """How this study times latency (its form; that a machine has the device is checked where it measures)."""
        return LatencySettings(self.cost_device, self.latency_batch_size, self.latency_dtype,  # type: ignore[arg-type]
                               self.latency_threads, self.latency_channels_last, self.latency_compile,
                               self.latency_mode)  # type: ignore[arg-type]

    def named(self) -> StudyDefinition:
        """This definition with its study name filled in."""
        return self if self.study else replace(self, study=default_study_name(self))

    def study_name(self) -> str:
        """The study's name: ``study`` as given, else the default name (:func:`default_study_name`)."""
        return self.study or default_study_name(self)

    def study_dir(self) -> Path:
        return Path(self.studies_dir) / self.study_name()

    def storage_url(self) -> str:
        """The Optuna storage: ``--storage`` as given, else SQLite at ``studies/<study>.db`` (absolute)."""
        if self.storage:
            return self.storage
        return f"sqlite:///{(Path(self.studies_dir) / f'{self.study_name()}.db').resolve()}"

    def budget(self) -> Budget:
        """How long each trial trains (the default epochs while ``epochs`` is left to the device)."""
        return Budget(**({"epochs": self.epochs} if self.epochs is not None else {}),
                      max_train_images=self.max_train_images)

    def training_recipe(self) -> Recipe:
        """The recipe each trial trains with: ``recipe``, with ``lr`` and ``batch_size`` when they are set."""
        return configured_recipe(self.recipe, lr=self.lr, batch_size=self.batch_size)


@dataclass(frozen=True, kw_only=True, eq=False)
class ResolvedDefinition(StudyDefinition):
    """A definition sized to the device (:func:`~scaling_search.study.sizing.resolve_for_device`): the options a
    user may leave to the device are set, so code that plans or trains a study reads them as they are.

    It keeps its options' order and is saved exactly as a :class:`StudyDefinition` is (``to_dict``, ``to_toml``).
    """

    device: str
    base_resolution: int
    epochs: int
    batch_size: int
    cpus_per_trial: float
    finalist_seeds: int


def default_study_name(definition: StudyDefinition) -> str:
    """``<dataset>[-<base>]-phi<phi>-<strategy>``, e.g. ``synthetic-phi1-grid``, ``synthetic-resnet50-phi1-grid``.

    The base is named unless it is B0 (whose studies keep their names); a stage table by its file's stem.
    """
    kind, _, argument = definition.dataset.partition(":")
    dataset = kind
    if kind in ("imagefolder", "npz") and argument:
        dataset = f"{kind}-{Path(argument).expanduser().name or 'data'}"
    dataset = re.sub(r"[^A-Za-z0-9._-]+", "-", dataset).strip("-.") or "data"
    base = base_label(definition)
    return f"{dataset}{f'-{base}' if base else ''}-phi{definition.phi:g}-{definition.strategy}"[:100]


# Options that may change between a run and its resume without changing what is searched.
EXECUTION_OPTIONS = frozenset(
    {"storage", "studies_dir", "device", "trials_per_gpu", "cpus_per_trial", "max_concurrent", "max_failures",
     "address", "data_root", "download"}
)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if "\n" in str(value) and "'''" not in str(value):
        return f"'''\n{value}'''"  # a stage table, as a multi-line literal string: it reads as written
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def validate(definition: StudyDefinition) -> None:
    """Raise InputError naming the option, what it got and what is allowed.

    What the grid (:class:`~scaling_search.coefficients.grid.GridSpec`), the recipe and the budget check
    themselves is left to them: building them here is the check.
    """
    d = definition
    if d.study is not None and (not STUDY_NAME.fullmatch(d.study) or ".." in d.study):
        raise InputError(f"study name {d.study!r} must be letters, digits, '.', '_' or '-' (no '/' or '..'), "
                         "at most 100 characters")
    parse_spec(d.dataset)  # its syntax only: whether its files exist is checked when a run starts
    if not d.studies_dir.strip():
        raise InputError("studies-dir is empty; name a folder (default studies)")
    if not DEVICE.fullmatch(d.device):
        raise InputError(f"device must be auto, cpu or cuda, not {d.device!r}")
    if d.storage is not None and (not d.storage.strip() or d.storage.strip() in IN_MEMORY_STORAGE):
        raise InputError(f"storage {d.storage!r} keeps nothing: name a file or a database server")
    d.training_recipe()  # each raises for a value it cannot take
    d.budget()
    GridSpec.from_options(d, base_resolution=d.base_resolution or GRID_DEFAULTS.base_resolution,
                          base=checkable_base(d))
    if d.strategy not in STRATEGIES:
        raise InputError(f"unknown strategy {d.strategy!r}; choose one of {', '.join(STRATEGIES)}")
    positive_ints = {"seeds": d.seeds, "trials_per_gpu": d.trials_per_gpu, "trials": d.trials,
                     "max_candidates": d.max_candidates, "max_concurrent": d.max_concurrent,
                     "finalist_seeds": d.finalist_seeds, "max_refine": d.max_refine}
    for name, value in positive_ints.items():
        if value is not None and value < 1:
            raise InputError(f"{name.replace('_', '-')} must be >= 1, got {value}")
    if d.cpus_per_trial is not None and not (0 < d.cpus_per_trial <= 1024):
        raise InputError(f"cpus-per-trial must be > 0 (fractions share a core), got {d.cpus_per_trial}")
    if d.finalists < 0:
        raise InputError(f"finalists must be >= 0 (0: the verdict uses the search's own runs), got {d.finalists}")
    if not 0 < d.min_effect <= 100:
        raise InputError(f"min-effect must lie in (0, 100] points of accuracy, got {d.min_effect}")
    if d.refine_step is not None and not 0 < d.refine_step < d.step:
        raise InputError(f"refine-step must lie in (0, the grid's step {d.step:g}), got {d.refine_step}")
    if d.max_failures < 0:
        raise InputError(f"max-failures must be >= 0, got {d.max_failures}")
    if not 0 < d.val_fraction <= 0.5:
        raise InputError(f"val-fraction must lie in (0, 0.5], got {d.val_fraction}")
    if d.cost == "latency":
        settings = d.latency_settings()
        if not d.address:  # a cluster's node is checked once Ray runs (scaling_search.execution.latency_node)
            check_measurable_here(settings)
        if d.strategy == "tpe":
            raise InputError("--strategy tpe samples splits in closed form; a latency study searches the grid "
                             "(--strategy grid)")
        if d.refine:
            raise InputError("--refine measures networks in closed form; a latency study does not refine yet "
                             "(--no-refine)")
    if d.strategy == "tpe" and d.seeds != 1:
        raise InputError("--seeds is for the grid strategy; tpe trains each sampled point once")
    if d.strategy == "grid" and d.trials is not None:
        raise InputError("--trials is for --strategy tpe; the grid strategy runs every candidate x seed")


def changed_options(saved: StudyDefinition, wanted: StudyDefinition) -> list[str]:
    """Options set in ``wanted`` that differ from ``saved`` and would change what is searched.

    Options ``wanted`` leaves to the device (None) match whatever the saved run resolved them to. The
    base is compared as a network (``base`` names it; a table file is read), never by its name or path.
    """
    changed = []
    for f in fields(StudyDefinition):
        if f.name == "base":
            if not same_base(saved, wanted):
                changed.append("base")
        elif f.name not in EXECUTION_OPTIONS and f.name != "base_table" and getattr(wanted, f.name) is not None \
                and getattr(saved, f.name) != getattr(wanted, f.name):
            changed.append(f.name)
    return changed

"""The flags several commands share, each defined once: its name, its parse-level check and its help.

A flag's check only parses its text (a number, an integer, MIN:MAX, a list of phis). The bounds
are the library's: every definition a value ends up in (``GridSpec``, ``Layout``, ``Recipe``,
``Budget``, the study definition) checks itself when it is built and says what is allowed, so the
command line and library callers meet the same limits. Defaults come from the library's constants.

``run`` builds its parser with ``argument_default=argparse.SUPPRESS`` so that only the flags given
override its study file, while ``candidates`` shows and sets its defaults: :meth:`Flag.add` shows a
default in the help and sets it only where the parser does not suppress defaults.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from scaling_search.cli.common import finite_float, integer
from scaling_search.coefficients.family import parse_phis
from scaling_search.coefficients.grid import GridSpec
from scaling_search.coefficients.grid_checks import CONSTRAINTS
from scaling_search.counting.cost_kind import COST_KINDS
from scaling_search.counting.counter import COUNTERS
from scaling_search.counting.latency import DTYPES, MODES, LatencySettings
from scaling_search.errors import InputError
from scaling_search.models.architecture import EFFICIENTNET_B0, RELEASED_FAMILY, BaseArchitecture
from scaling_search.models.bases import BUILT_IN, base_network
from scaling_search.training.device import DEVICE_NAMES
from scaling_search.training.recipe import RECIPES

ArgumentTarget = argparse.ArgumentParser | argparse._ArgumentGroup


def value_range(text: str) -> tuple[float, float]:
    """'1.0:2.0' → (1.0, 2.0); whether min <= max is the grid's to say."""
    parts = text.split(":")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected MIN:MAX, got {text!r}")
    low, high = (finite_float(part) for part in parts)
    return low, high


def phi_list(text: str) -> list[float]:
    """'0-7' or '0,1,2.5' → the phis (see :func:`scaling_search.coefficients.family.parse_phis`)."""
    try:
        return parse_phis(text)
    except InputError as err:  # argparse would replace a ValueError's message with "invalid phi_list value"
        raise argparse.ArgumentTypeError(str(err)) from None


def path_text(text: str) -> str:
    """A path flag's value, ``~`` expanded; an empty one is an error rather than the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return str(Path(text).expanduser())


def shown(value: Any) -> str:
    """A default as the help shows it: ranges as MIN:MAX, numbers without trailing zeros."""
    if isinstance(value, tuple):
        return ":".join(shown(part) for part in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class Flag:
    """One command-line flag, as every command that takes it defines it."""

    name: str
    help: str
    type: Callable[[str], Any] | None = None
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    switch: bool = False
    """A flag without a value (``store_true``)."""
    default: Any = None
    """The default every command uses unless it gives its own."""

    @property
    def dest(self) -> str:
        """The attribute argparse stores the value in."""
        return self.name.removeprefix("--").replace("-", "_")

    def add(self, target: ArgumentTarget, default: Any = None, *, sets_default: bool = True,
            help: str | None = None) -> None:
        """Add the flag to ``target`` (a parser or an argument group).

        ``default`` (else the flag's own) is shown in the help and is the value when the flag is not
        given, unless ``sets_default`` is false or ``target`` suppresses defaults (``run``: only the
        flags given override a study file); then the parser's default applies.
        """
        default = self.default if default is None else default
        text = help or self.help
        if default is not None and not self.switch:
            text += f" (default {shown(default)})"
        options: ArgumentOptions = {"help": text.replace("%", "%%")}
        if self.switch:
            options["action"] = "store_true"
        else:
            options.update(ArgumentOptions(choices=self.choices, metavar=self.metavar))
            if self.type is not None:
                options["type"] = self.type
        if default is not None and sets_default and target.argument_default is not argparse.SUPPRESS:
            options["default"] = default
        target.add_argument(self.name, **options)


class ArgumentOptions(TypedDict, total=False):
    """What :meth:`Flag.add` passes to ``add_argument``."""

    help: str
    action: str
    type: Callable[[str], Any]
    choices: tuple[str, ...] | None
    metavar: str | None
    default: Any


BASE = Flag("--base", f"base network to scale: a built-in ({', '.join(base.name for base in BUILT_IN)}; "
            "efficientnet_demo is the CPU demo's, docs/proxy.md) or a TOML stage table (docs/base_networks.md)",
            path_text, metavar="NAME|TABLE.toml", default=EFFICIENTNET_B0.name)
STUDY_BASE = Flag("--base", "the study's base network, if you name it: refused when it is not the one the study "
                  "recorded (default: the study's own)", path_text, metavar="NAME|TABLE.toml")


def chosen_base(args: argparse.Namespace) -> BaseArchitecture:
    """The base network ``--base`` names (B0 when the command was given none); InputError for an unknown or bad one."""
    return base_network(getattr(args, "base", None) or EFFICIENTNET_B0.name)


GRID = GridSpec()
"""The candidate grid's defaults are the flags' defaults."""

PHI = Flag("--phi", "compound coefficient the candidates are compared at; negative scales down", finite_float)
STEP = Flag("--step", "grid step of alpha, beta and gamma", finite_float)
ALPHA_RANGE, BETA_RANGE, GAMMA_RANGE = (Flag(f"--{name}-range", f"{name} range", value_range, metavar="MIN:MAX")
                                        for name in ("alpha", "beta", "gamma"))
TARGET = Flag("--target", "cost multiplier per unit of phi: each step of phi multiplies the cost by it", finite_float)
TOLERANCE = Flag("--tolerance", "relative tolerance on the cost ratio, at the cost scale and where the proxy trains",
                 finite_float)
GROWTH_TOLERANCE = Flag("--growth-tolerance", "relative tolerance on a family's growth per phi (its phi = 7 member's "
                        "cost over the base's, per phi), around --target (default: --tolerance)", finite_float)
CONSTRAINT = Flag("--constraint", "the cost a candidate must meet: the measured MACs ratio of its realised network "
                  "(compares networks of equal real cost) or the nominal alpha*beta^2*gamma^2 (the paper's rule)",
                  choices=CONSTRAINTS)
BASELINES = Flag("--baselines", "add depth-only, width-only, resolution-only and fast-scaling (Dollar et al. 2021) "
                 "candidates at the same cost",
                 switch=True)
BASE_RESOLUTION = Flag("--base-resolution", "resolution of the base network, at phi = 0", integer)
RESOLUTION_MULTIPLE = Flag("--resolution-multiple", "round resolutions, at the cost scale and the proxy alike, to a "
                           "multiple of this", integer)
COST_RESOLUTION = Flag("--cost-resolution", "resolution at phi = 0 where the cost constraint is measured (the cost "
                       "scale; the proxy trains at --base-resolution times the same gamma^phi)", integer)
COST_CLASSES = Flag("--cost-classes", "classifier outputs of the networks at the cost scale", integer)
NUM_CLASSES = Flag("--num-classes", "classifier outputs", integer)
COUNTER = Flag("--counter", "fvcore on a real forward pass (cached on disk) or the closed form (analytic)",
               choices=COUNTERS, default="fvcore")

COST = Flag("--cost", "what a network costs: macs (multiply-adds of conv and linear layers, the paper's), activations "
            "(values those layers output, which predict GPU runtime: Dollar et al. 2021) or latency (time per call "
            "measured on --cost-device; docs/costs.md)",
            choices=COST_KINDS, default=COST_KINDS[0])
LATENCY = LatencySettings()
"""The latency flags' defaults are the library's."""
COST_DEVICE = Flag("--cost-device", "device latency is measured on: cpu, cuda or cuda:N (not the training --device)",
                   metavar="DEVICE", default=LATENCY.device)
LATENCY_BATCH_SIZE = Flag("--latency-batch-size", "images per timed call", integer, default=LATENCY.batch_size)
LATENCY_DTYPE = Flag("--latency-dtype", "precision of the timed network (float16 on CUDA only)", choices=DTYPES,
                     default=LATENCY.dtype)
LATENCY_THREADS = Flag("--latency-threads", "CPU threads torch may use while timing (at most this process's cores; "
                       "fewer is steadier on a shared machine)", integer, default=LATENCY.threads)
CHANNELS_LAST = Flag("--latency-channels-last", "time the network and its input in channels-last (NHWC) memory format",
                     switch=True)
COMPILE = Flag("--latency-compile", "torch.compile the network before timing it (a minute or more first)", switch=True)
LATENCY_MODE = Flag("--latency-mode", "inference: a forward pass under torch.inference_mode; train: forward, backward "
                    "and an SGD step on random labels (batch 2 or more)", choices=MODES, default=LATENCY.mode)
NO_LATENCY_CACHE = Flag("--no-latency-cache", "time afresh, ignoring cached block times (the new ones replace them)",
                        switch=True)
LATENCY_PROCESSES = Flag("--latency-processes", "fresh processes to time the network in, one after another: 6 or "
                         "more, and the interval covers what differs between processes too; 1, this process only "
                         "(faster, its interval covers one process's noise)", integer, default=6)
LATENCY_SETTINGS: tuple[tuple[str, Flag], ...] = (
    ("device", COST_DEVICE), ("batch_size", LATENCY_BATCH_SIZE), ("dtype", LATENCY_DTYPE),
    ("threads", LATENCY_THREADS), ("channels_last", CHANNELS_LAST), ("compile", COMPILE), ("mode", LATENCY_MODE))
"""Each :class:`LatencySettings` field and the flag that sets it."""
LATENCY_FLAGS = (*(flag for _, flag in LATENCY_SETTINGS), NO_LATENCY_CACHE)

WIDTH = Flag("--width", "width multiplier of the base network", finite_float, default=1.0)
DEPTH = Flag("--depth", "depth multiplier of the base network", finite_float, default=1.0)
RESOLUTION = Flag("--resolution", "input resolution in pixels; overrides the chosen network's own", integer)
ALPHA, BETA, GAMMA = (Flag(f"--{name}", f"{what} coefficient {name}", finite_float)
                      for name, what in (("alpha", "depth"), ("beta", "width"), ("gamma", "resolution")))
MODEL = Flag("--model", f"a released model, {RELEASED_FAMILY[0].name}..{RELEASED_FAMILY[-1].name}, at its own "
             "width, depth and resolution (EfficientNet-B0's family: no other base has one)")
CONFIG = Flag("--config", "JSON file with a layout, or an object with a \"layout\" key (what 'train --json' prints)",
              path_text, metavar="FILE")
NETWORK = (WIDTH, DEPTH, RESOLUTION, ALPHA, BETA, GAMMA, PHI, BASE_RESOLUTION, MODEL, CONFIG)
"""The flags naming a network (see :func:`scaling_search.models.choice.choose_layout`)."""

DATASET = Flag("--dataset", "synthetic[:classes=..,train=..,test=..], cifar10, cifar100, fashion-mnist, "
               "imagefolder:PATH or npz:PATH", metavar="SPEC", default="synthetic")
DATA_ROOT = Flag("--data-root", "where standard datasets live or are downloaded", path_text)
DOWNLOAD = Flag("--download", "let torchvision download a standard dataset that is missing", switch=True)
EPOCHS = Flag("--epochs", "epochs to train", integer)
BATCH_SIZE = Flag("--batch-size", "training batch", integer)
RECIPE = Flag("--recipe", f"training recipe: {' or '.join(RECIPES)}", default="proxy")
LR = Flag("--lr", "peak learning rate per 256 images (default: the recipe's)", finite_float)
DEVICE = Flag("--device", f"{DEVICE_NAMES} (auto: cuda when available)", default="auto")


def add_grid_flags(target: ArgumentTarget) -> None:
    """The candidate grid's flags, with :class:`GridSpec`'s defaults."""
    BASE.add(target)
    PHI.add(target, GRID.phi)
    STEP.add(target, GRID.step)
    for flag, default in ((ALPHA_RANGE, GRID.alpha_range), (BETA_RANGE, GRID.beta_range),
                          (GAMMA_RANGE, GRID.gamma_range)):
        flag.add(target, default)
    TARGET.add(target, GRID.target)
    TOLERANCE.add(target, GRID.tolerance)
    GROWTH_TOLERANCE.add(target)
    CONSTRAINT.add(target, GRID.constraint)
    COST.add(target, GRID.cost)
    COST_RESOLUTION.add(target, GRID.cost_resolution)
    COST_CLASSES.add(target, GRID.cost_classes)
    RESOLUTION_MULTIPLE.add(target, GRID.resolution_multiple)
    BASELINES.add(target)


def add_network_flags(target: ArgumentTarget, default_resolution: int | str) -> None:
    """The four ways of naming a network, none set by default (which way was chosen is what was given).

    ``--base`` is the command's to add (the network flags scale whatever base it names).
    """
    for flag in (WIDTH, DEPTH):
        flag.add(target, sets_default=False)
    RESOLUTION.add(target, help=f"input resolution in pixels; overrides the chosen network's own (default "
                                f"{default_resolution} with --width/--depth)")
    for flag in (ALPHA, BETA, GAMMA):
        flag.add(target)
    PHI.add(target, help="compound coefficient: depth alpha^phi, width beta^phi, resolution base·gamma^phi")
    BASE_RESOLUTION.add(target, sets_default=False, help="resolution at phi = 0 of compound scaling (default the base "
                        f"network's own: {EFFICIENTNET_B0.base_resolution} for B0)")
    MODEL.add(target)
    CONFIG.add(target)


class NetworkOptions(TypedDict):
    """The values of the :data:`NETWORK` flags, as :func:`~scaling_search.models.choice.choose_layout` takes them."""

    width: float | None
    depth: float | None
    resolution: int | None
    alpha: float | None
    beta: float | None
    gamma: float | None
    phi: float | None
    base_resolution: int | None
    model: str | None
    config: str | None


def network_options(args: argparse.Namespace) -> NetworkOptions:
    """The network options of parsed flags, as :func:`~scaling_search.models.choice.choose_layout` takes them."""
    return NetworkOptions(width=args.width, depth=args.depth, resolution=args.resolution, alpha=args.alpha,
                          beta=args.beta, gamma=args.gamma, phi=args.phi, base_resolution=args.base_resolution,
                          model=args.model, config=args.config)


def add_latency_flags(target: ArgumentTarget) -> None:
    """The flags of :data:`LATENCY_FLAGS`, defaults shown but not set, so that :func:`latency_flags_given` works."""
    for flag in LATENCY_FLAGS:
        flag.add(target, sets_default=False)


def latency_flags_given(args: argparse.Namespace) -> list[str]:
    """The latency flags on the command line, by name (for a command to refuse them without ``--cost latency``)."""
    return [flag.name for flag in LATENCY_FLAGS if getattr(args, flag.dest, None) not in (None, False)]


def latency_settings(args: argparse.Namespace) -> LatencySettings:
    """The :class:`LatencySettings` the latency flags ask for, the library's defaults for those not given."""
    given = {field: getattr(args, flag.dest, None) for field, flag in LATENCY_SETTINGS}
    return LatencySettings(**{field: value for field, value in given.items() if value is not None})


def add_dataset_flags(target: ArgumentTarget) -> None:
    DATASET.add(target)
    DATA_ROOT.add(target)
    DOWNLOAD.add(target)

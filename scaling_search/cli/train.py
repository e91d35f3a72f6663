"""``scaling-search train``: one short proxy training run of one network on one dataset."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from scaling_search.cli.common import (
    UsageError,
    emit,
    finite_float,
    fmt,
    positive_float,
    positive_int,
    progress,
    render_table,
)
from scaling_search.counting.analytic import analytic_counts
from scaling_search.data import Augmentation, load_dataset
from scaling_search.models.architecture import RELEASED_FAMILY
from scaling_search.models.scaling import Layout, compound_layout, released_layout, scale
from scaling_search.progress import count_lines
from scaling_search.recipe import RECIPES, Budget
from scaling_search.train import EpochProgress, train_proxy

DEFAULT_RESOLUTION = 64
CPU_BATCH = 64
"""On a CPU, B0 at resolution 64 trains fastest per image near batch 64 (about 1.5x batch 256 on 2 cores)."""
AUGMENTATIONS = ("flip", "random-resized", "pad-crop", "none")
MODELS = {m.name: m for m in RELEASED_FAMILY}
MAX_THREADS = 1024

HELP = f"""\
Train one network for a few epochs and report its accuracy, speed and memory.

Choose the network in one of four ways (default: B0 at resolution {DEFAULT_RESOLUTION}):
  --width W --depth D [--resolution R]          multipliers of B0 (resolution default {DEFAULT_RESOLUTION})
  --alpha A --beta B --gamma G --phi P          compound scaling: depth A**P, width B**P,
        [--base-resolution R0]                  resolution R0·G**P (R0 default 224)
  --model b0..b7                                a released member at its own resolution
  --config FILE                                 JSON: a layout, or an object with a "layout" key
                                                (what 'train --json' prints)
--resolution overrides the chosen layout's resolution; the classifier gets the dataset's classes.

Exit code 0 when the run finished, 1 when it diverged, ran out of memory or failed (the reason
goes to stderr), 2 for bad input."""

COLUMNS = [
    ("status", "status", fmt("s")),
    ("val_acc", "val acc", fmt(".3f")),
    ("best_val_acc", "best val", fmt(".3f")),
    ("test_acc", "test acc", fmt(".3f")),
    ("epochs", "epochs", fmt("d")),
    ("wall_s", "wall s", fmt(".1f")),
    ("img_per_s", "img/s", fmt(".0f")),
    ("peak_mem_mb", "peak MB", fmt(".0f")),
    ("params_m", "params M", fmt(".2f")),
    ("mmacs", "MMACs", fmt(".1f")),
    ("resolution", "res", fmt("d")),
    ("step_mode", "step", fmt("s")),
]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="one short proxy training run",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    net = parser.add_argument_group("network")
    net.add_argument("--width", type=positive_float, help="width multiplier of B0")
    net.add_argument("--depth", type=positive_float, help="depth multiplier of B0")
    net.add_argument("--resolution", type=int, help="input resolution; overrides the layout's own")
    for name in ("alpha", "beta", "gamma"):
        net.add_argument(f"--{name}", type=positive_float, help=f"compound-scaling {name}")
    net.add_argument("--phi", type=finite_float, help="compound coefficient")
    net.add_argument("--base-resolution", type=positive_int, help="resolution at phi=0 (default 224)")
    net.add_argument("--model", choices=list(MODELS), help="a released family member")
    net.add_argument("--config", type=Path, help="JSON file with a layout")

    data = parser.add_argument_group("data")
    data.add_argument("--dataset", default="synthetic", metavar="SPEC",
                      help="synthetic[:classes=..,train=..,test=..], cifar10, cifar100, fashion-mnist, "
                           "imagefolder:PATH, npz:PATH (default: synthetic)")
    data.add_argument("--data-root", type=Path, help="where standard datasets live or are downloaded")
    data.add_argument("--download", action="store_true", help="download a standard dataset if missing")

    run = parser.add_argument_group("training")
    run.add_argument("--epochs", type=positive_int, default=2, help="epochs to train (default 2)")
    run.add_argument("--train-images", type=positive_int, help="cap on training images per epoch")
    run.add_argument("--batch-size", type=positive_int,
                     help=f"training batch (default: the recipe's {RECIPES['proxy'].train_batch_size} on CUDA, "
                          f"{CPU_BATCH} on CPU, where larger batches run slower per image)")
    run.add_argument("--recipe", choices=list(RECIPES), default="proxy", help="training recipe (default proxy)")
    run.add_argument("--augmentation", choices=AUGMENTATIONS,
                     help="flip (left-right only), random-resized (crop 35-100%% of the area, the ImageNet "
                          "recipe), pad-crop (the CIFAR recipe) or none; all but none flip too (default: the "
                          "recipe's: none for proxy, random-resized for paper)")
    run.add_argument("--lr", type=positive_float, help="peak learning rate per 256 images (default: the recipe's)")
    run.add_argument("--seed", type=seed_number, default=0, help="seed for data split, init and batches (default 0)")
    run.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (auto: cuda when available)")
    run.add_argument("--threads", type=thread_count, help="CPU threads (default: the cores this process may use)")
    run.add_argument("--eager", action="store_true", help="no CUDA graph: run each step eagerly")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    layout = layout_from_args(args)
    device = resolve_device(args.device)
    recipe = RECIPES[args.recipe]
    batch = args.batch_size or (CPU_BATCH if device.type == "cpu" else recipe.train_batch_size)
    recipe = replace(recipe, train_batch_size=batch)
    if args.augmentation is not None:
        recipe = replace(recipe, augmentation=augmentation(args.augmentation))
    if args.lr is not None:
        recipe = replace(recipe, lr_per_256=args.lr)
    budget = Budget(epochs=args.epochs, max_train_images=args.train_images)
    data = load_dataset(
        args.dataset, resolution=layout.resolution, data_root=args.data_root, seed=args.seed, download=args.download,
        progress=count_lines(progress, f"decoding {args.dataset.strip()}", "images"),
    )
    layout = replace(layout, num_classes=data.num_classes)
    progress(data.summary())
    progress(f"training {describe_layout(layout)} on {device}")
    result = train_proxy(
        layout, data, budget, recipe, seed=args.seed, device=device, threads=args.threads,
        graph=not args.eager, progress=show_progress,
    )
    if result.graph_error:
        progress(f"CUDA-graph capture failed, so every step ran eagerly: {result.graph_error}")
    counts = analytic_counts(layout)
    payload: dict[str, Any] = {
        **result.to_dict(),
        "params": counts.params,
        "macs": counts.macs,
        "resolution": layout.resolution,
        "dataset": data.name,
        "images": {"train": len(data.train_y), "val": len(data.val_y), "test": len(data.test_y)},
        "val_source": data.val_source,
        "skipped_files": data.skipped,
        "recipe": args.recipe,
        "layout": layout.to_dict(),
    }
    row = {**payload, "params_m": counts.params / 1e6, "mmacs": counts.macs / 1e6}
    emit(args, payload, render_table([row], COLUMNS))
    if not result.ok:
        progress(f"scaling-search: training {result.status}: {result.reason}")
        return 1
    return 0


def seed_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must lie in [0, 2^63), got {text!r}")
    return value


def thread_count(text: str) -> int:
    value = positive_int(text)
    if value > MAX_THREADS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_THREADS}, got {text!r}")
    return value


def augmentation(name: str) -> Augmentation:
    if name == "flip":
        return Augmentation(kind="none", flip=True)
    return Augmentation(kind=name, flip=name != "none")


def show_progress(record: EpochProgress) -> None:
    speed = f"{record.img_per_s:7.0f} img/s" if record.img_per_s is not None else "      - img/s"
    progress(
        f"epoch {record.epoch}/{record.epochs}  train loss {record.train_loss:.4f}  "
        f"val acc {record.val_acc:.4f}  {speed}  {record.elapsed_s:6.1f} s"
    )


def describe_layout(layout: Layout) -> str:
    return f"width {layout.width:.3g} depth {layout.depth:.3g} resolution {layout.resolution}"


def layout_from_args(args: argparse.Namespace) -> Layout:
    """The one layout the flags describe; mixing two ways of describing it is a usage error."""
    explicit = [f"--{n}" for n in ("width", "depth") if getattr(args, n) is not None]
    compound = [f"--{n.replace('_', '-')}" for n in ("alpha", "beta", "gamma", "phi", "base_resolution")
                if getattr(args, n) is not None]
    released = ["--model"] if args.model is not None else []
    config = ["--config"] if args.config is not None else []
    chosen = [group for group in (explicit, compound, released, config) if group]
    if len(chosen) > 1:
        raise UsageError(f"{' '.join(chosen[0])} and {' '.join(chosen[1])} describe the network in different ways; "
                         "choose one")
    try:
        if compound:
            missing = [f"--{n}" for n in ("alpha", "beta", "gamma", "phi") if getattr(args, n) is None]
            if missing:
                raise UsageError(f"compound scaling needs {', '.join(missing)} as well")
            layout = compound_layout(args.alpha, args.beta, args.gamma, args.phi, base_resolution=args.base_resolution)
        elif released:
            layout = released_layout(MODELS[args.model])
        elif config:
            layout = read_config(args.config)
        else:
            layout = scale(args.width or 1.0, args.depth or 1.0, resolution=DEFAULT_RESOLUTION)
        if args.resolution is not None:
            layout = layout.with_resolution(args.resolution)
    except ValueError as err:
        raise UsageError(str(err)) from None
    return layout


def read_config(path: Path) -> Layout:
    try:
        data = json.loads(path.read_text())
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text; --config takes a JSON file") from None
    except json.JSONDecodeError as err:
        raise UsageError(f"{path} is not JSON: {err}") from None
    if isinstance(data, dict) and isinstance(data.get("layout"), dict):
        data = data["layout"]
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a layout object or an object with a 'layout' key")
    try:
        return Layout.from_dict(data)
    except ValueError as err:
        raise UsageError(f"{path}: {err}") from None


def resolve_device(text: str) -> torch.device:
    """``auto`` → cuda when available else cpu; anything else must name a device this machine has."""
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(text)
    except RuntimeError:
        raise UsageError(f"--device must be auto, cpu, cuda or cuda:N, not {text!r}") from None
    if device.type == "cpu":
        return device
    if device.type != "cuda":
        raise UsageError(f"--device must be auto, cpu, cuda or cuda:N, not {text!r}")
    if not torch.cuda.is_available():
        raise UsageError("--device cuda: CUDA is not available on this machine")
    if device.index is not None and device.index >= torch.cuda.device_count():
        raise UsageError(f"--device {text}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device

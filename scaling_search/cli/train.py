"""``scaling-search train``: one short proxy training run of one network on one dataset."""

from __future__ import annotations

import argparse
from dataclasses import replace

from scaling_search.cli import flags
from scaling_search.cli.common import emit, fmt, integer, progress, render_table
from scaling_search.counting.analytic import analytic_counts
from scaling_search.data.augment import AUGMENTATION_NAMES, Augmentation
from scaling_search.data.load import load_dataset
from scaling_search.models.architecture import EFFICIENTNET_B0
from scaling_search.models.choice import choose_layout
from scaling_search.models.scaling import Layout
from scaling_search.support.progress import count_lines
from scaling_search.training.device import resolve_device
from scaling_search.training.proxy import EpochProgress, check_threads, train_proxy
from scaling_search.training.recipe import (
    CPU_BATCH,
    PROXY_RESOLUTION,
    RECIPES,
    Budget,
    configured_recipe,
    default_batch,
    get_recipe,
)

HELP = f"""\
Train one network for a few epochs and report its accuracy, speed and memory.

Choose the network in one of four ways (default: the base at resolution {PROXY_RESOLUTION}):
  --width W --depth D [--resolution R]          multipliers of the base (resolution default {PROXY_RESOLUTION})
  --alpha A --beta B --gamma G --phi P          compound scaling: depth A**P, width B**P,
        [--base-resolution R0]                  resolution R0·G**P (R0 default the base's own,
                                                {EFFICIENTNET_B0.base_resolution} for B0)
  --model b0..b7                                a released member at its own resolution (B0's family only)
  --config FILE                                 JSON: a layout, or an object with a "layout" key
                                                (what 'train --json' prints)
--base names the network scaled (default efficientnet_b0; see 'scaling-search flops --help').
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
    network = parser.add_argument_group("network")
    flags.BASE.add(network, sets_default=False)
    flags.add_network_flags(network, PROXY_RESOLUTION)
    flags.add_dataset_flags(parser.add_argument_group("data"))

    run = parser.add_argument_group("training")
    flags.EPOCHS.add(run, Budget().epochs)
    run.add_argument("--train-images", type=integer, help="cap on training images per epoch")
    proxy_batch = RECIPES["proxy"].train_batch_size
    flags.BATCH_SIZE.add(run, help=f"training batch (default: the recipe's on CUDA, {proxy_batch} for proxy; "
                                   f"{CPU_BATCH} on CPU, where larger batches run slower per image)")
    flags.RECIPE.add(run)
    run.add_argument("--augmentation", choices=AUGMENTATION_NAMES,
                     help="flip (left-right only), random-resized (crop 35-100%% of the area, the ImageNet "
                          "recipe), pad-crop (the CIFAR recipe) or none; all but none flip too (default: the "
                          "recipe's: none for proxy, random-resized for paper)")
    flags.LR.add(run)
    run.add_argument("--seed", type=seed_number, default=0, help="seed for data split, init and batches (default 0)")
    flags.DEVICE.add(run)
    run.add_argument("--threads", type=integer, help="CPU threads (default: the cores this process may use)")
    run.add_argument("--eager", action="store_true", help="no CUDA graph: run each step eagerly")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    layout = choose_layout(**flags.network_options(args), default_resolution=PROXY_RESOLUTION,
                           base=None if args.base is None else flags.chosen_base(args))
    device = resolve_device(args.device)
    batch = args.batch_size if args.batch_size is not None else default_batch(get_recipe(args.recipe), device.type)
    augmentation = None if args.augmentation is None else Augmentation.named(args.augmentation)
    recipe = configured_recipe(args.recipe, lr=args.lr, batch_size=batch, augmentation=augmentation)
    budget = Budget(epochs=args.epochs, max_train_images=args.train_images)
    check_threads(args.threads)  # before the dataset loads, which can take a while
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
    payload: dict[str, object] = {
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
    """A seed: any integer torch's and Python's generators take the same way, 0 to 2^63 - 1."""
    value = integer(text)
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must lie in [0, 2^63), got {text!r}")
    return value


def show_progress(record: EpochProgress) -> None:
    speed = f"{record.img_per_s:7.0f} img/s" if record.img_per_s is not None else "      - img/s"
    progress(
        f"epoch {record.epoch}/{record.epochs}  train loss {record.train_loss:.4f}  "
        f"val acc {record.val_acc:.4f}  {speed}  {record.elapsed_s:6.1f} s"
    )


def describe_layout(layout: Layout) -> str:
    return f"{layout.base} width {layout.width:.3g} depth {layout.depth:.3g} resolution {layout.resolution}"

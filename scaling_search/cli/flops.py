"""``scaling-search flops``: one network's params, MACs, activations and realised layout."""

from __future__ import annotations

import argparse

from scaling_search.cli import flags
from scaling_search.cli.common import add_output_flags, emit, fmt, render_table
from scaling_search.counting.counter import count
from scaling_search.models.architecture import EFFICIENTNET_B0, IMAGENET_CLASSES
from scaling_search.models.choice import choose_layout

DEFAULT_RESOLUTION = EFFICIENTNET_B0.base_resolution
"""The resolution of a network named by width and depth alone: B0's own."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "flops",
        help="params, MACs and activations of one network",
        description="Count one EfficientNet, named by width/depth multipliers of B0, by compound scaling, by a\n"
        f"released name or by a layout file (default: B0 at {DEFAULT_RESOLUTION} px).\n\n"
        "  scaling-search flops --width 1.1 --depth 1.2 --resolution 260\n"
        "  scaling-search flops --alpha 1.2 --beta 1.1 --gamma 1.15 --phi 2\n"
        "  scaling-search flops --model b7 --json\n\n"
        "MACs count conv and linear layers (SE convs included), as in the paper.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    flags.add_network_flags(parser.add_argument_group("network"), DEFAULT_RESOLUTION)
    flags.NUM_CLASSES.add(parser, IMAGENET_CLASSES, sets_default=False,
                          help="classifier outputs; a --config layout keeps its own unless this is given")
    flags.COUNTER.add(parser)
    add_output_flags(parser, rows=False)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    layout = choose_layout(**flags.network_options(args), num_classes=args.num_classes,
                           default_resolution=DEFAULT_RESOLUTION)
    counts = count(layout, args.counter)
    payload = {
        "width": layout.width,
        "depth": layout.depth,
        "resolution": layout.resolution,
        "num_classes": layout.num_classes,
        "params": counts.params,
        "macs": counts.macs,
        "activations": counts.activations,
        "stem": layout.stem,
        "head": layout.head,
        "channels": layout.channels,
        "repeats": layout.repeats,
    }
    summary = (
        f"width {layout.width:g}  depth {layout.depth:g}  resolution {layout.resolution}  "
        f"classes {layout.num_classes}\n"
        f"params {counts.params:,}   MACs {counts.macs / 1e9:.4f} G   activations {counts.activations / 1e6:.2f} M\n"
        f"stem {layout.stem}  head {layout.head}\n\n"
    )
    stages = [
        {"stage": i + 1, "kernel": s.kernel, "stride": s.stride, "expand": s.expand_ratio, "in": s.in_channels,
         "out": s.out_channels, "repeats": s.repeats}
        for i, s in enumerate(layout.stages)
    ]
    columns = [(key, key, fmt("d")) for key in ("stage", "kernel", "stride", "expand", "in", "out", "repeats")]
    emit(args, payload, summary + render_table(stages, columns))
    return 0

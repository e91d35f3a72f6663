"""``scaling-search flops``: one network's params, MACs, activations and realised layout."""

from __future__ import annotations

import argparse

from scaling_search.cli.common import (
    UsageError,
    add_output_flags,
    emit,
    fmt,
    positive_float,
    positive_int,
    render_table,
)
from scaling_search.counting.counter import COUNTERS, make_counter
from scaling_search.models import released_layout, released_model, scale


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "flops",
        help="params, MACs and activations of one network",
        description="Count one EfficientNet: by width/depth/resolution multipliers or a released name.\n\n"
        "  scaling-search flops --width 1.1 --depth 1.2 --resolution 260\n"
        "  scaling-search flops --model b7 --json\n\n"
        "MACs count conv and linear layers (SE convs included), as in the paper.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", help="a released model, b0..b7 (its own width, depth and resolution)")
    parser.add_argument("--width", type=positive_float, help="width multiplier (default 1.0)")
    parser.add_argument("--depth", type=positive_float, help="depth multiplier (default 1.0)")
    parser.add_argument("--resolution", type=positive_int, help="input resolution in pixels (default 224)")
    add_common_counting_flags(parser)
    add_output_flags(parser, rows=False)
    parser.set_defaults(func=run)


def add_common_counting_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--num-classes", type=positive_int, default=1000, help="classifier outputs (default 1000)")
    parser.add_argument("--counter", choices=COUNTERS, default="fvcore",
                        help="fvcore on a real forward pass (default, cached on disk) or the closed form")


def run(args: argparse.Namespace) -> int:
    if args.model is not None:
        if args.width is not None or args.depth is not None:
            raise UsageError("--model sets width and depth itself; drop --width/--depth or --model")
        layout = released_layout(released_model(args.model), args.num_classes)
        if args.resolution is not None:
            layout = layout.with_resolution(args.resolution)
    else:
        layout = scale(args.width or 1.0, args.depth or 1.0, args.resolution or 224, num_classes=args.num_classes)
    counts = make_counter(args.counter)(layout)
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

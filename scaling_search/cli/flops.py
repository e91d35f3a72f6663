"""``scaling-search flops``: one network's params, MACs, activations and realised layout."""

from __future__ import annotations

import argparse

from scaling_search.cli import flags
from scaling_search.cli.common import add_output_flags, emit, fmt, render_table
from scaling_search.counting.counter import count
from scaling_search.models.architecture import EFFICIENTNET_B0, IMAGENET_CLASSES
from scaling_search.models.choice import choose_layout

NO_HEAD = "none (the classifier reads the last stage)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "flops",
        help="params, MACs and activations of one network",
        description="Count one network, named by width/depth multipliers of the base (--base, default B0), by\n"
        "compound scaling, by a released name (B0 only) or by a layout file (default: the base at its own\n"
        "resolution, 224 px for B0).\n\n"
        "  scaling-search flops --width 1.1 --depth 1.2 --resolution 260\n"
        "  scaling-search flops --alpha 1.2 --beta 1.1 --gamma 1.15 --phi 2\n"
        "  scaling-search flops --model b7 --json\n"
        "  scaling-search flops --base resnet50 --width 0.75 --depth 1.5\n\n"
        "MACs count conv and linear layers (SE convs included), as in the paper.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    network = parser.add_argument_group("network")
    flags.BASE.add(network, sets_default=False)
    flags.add_network_flags(network, "the base's own")
    flags.NUM_CLASSES.add(parser, IMAGENET_CLASSES, sets_default=False,
                          help="classifier outputs; a --config layout keeps its own unless this is given")
    flags.COUNTER.add(parser)
    add_output_flags(parser, rows=False)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    base = None if args.base is None else flags.chosen_base(args)
    layout = choose_layout(**flags.network_options(args), num_classes=args.num_classes, base=base)
    counts = count(layout, args.counter)
    payload: dict[str, object] = {
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
    if layout.base != EFFICIENTNET_B0.name:  # the default base goes unnamed, like every flag left at its default
        payload["base"] = layout.base
    summary = (
        f"{layout.base}  width {layout.width:g}  depth {layout.depth:g}  resolution {layout.resolution}  "
        f"classes {layout.num_classes}\n"
        f"params {counts.params:,}   MACs {counts.macs / 1e9:.4f} G   activations {counts.activations / 1e6:.2f} M\n"
        f"stem {layout.stem}  head {NO_HEAD if layout.head is None else layout.head}\n\n"
    )
    stages = [
        {"stage": i + 1, "block": s.block, "kernel": s.kernel, "stride": s.stride, "expand": s.expand_ratio,
         "in": s.in_channels, "out": s.out_channels, "repeats": s.repeats}
        for i, s in enumerate(layout.stages)
    ]
    columns = [("stage", "stage", fmt("d")), ("block", "block", fmt("s"))]
    columns += [(key, key, fmt("d")) for key in ("kernel", "stride", "expand", "in", "out", "repeats")]
    emit(args, payload, summary + render_table(stages, columns))
    return 0

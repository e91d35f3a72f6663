"""``scaling-search derive``: the members phi0..phi7 of (α, β, γ), next to the released B0..B7."""

from __future__ import annotations

import argparse

from scaling_search.cli import flags
from scaling_search.cli.common import add_output_flags, emit, fmt, render_table
from scaling_search.counting.counter import make_counter
from scaling_search.family import derive, released_family
from scaling_search.models.architecture import (
    EFFICIENTNET_B0,
    FAMILY_PHIS,
    IMAGENET_CLASSES,
    PAPER_COEFFICIENTS,
    RESOLUTION_MULTIPLE,
)

FAMILY_COLUMNS = [
    ("name", "name", fmt("s")),
    ("source", "source", fmt("s")),
    ("phi", "phi", fmt("g")),
    ("width", "width", fmt(".3f")),
    ("depth", "depth", fmt(".3f")),
    ("resolution", "res", fmt("d")),
    ("dropout", "dropout", fmt(".1f")),
    ("repeats_text", "repeats", fmt("s")),
    ("params_m", "params (M)", fmt(".2f")),
    ("macs_g", "GMACs", fmt(".3f")),
    ("macs_ratio", "MACs/B0", fmt(".2f")),
    ("target_ratio", "2^phi", fmt(".4g")),
]

NOTE = ("\n\nThe released B1..B7 do not follow one phi-rule (B1 is width 1.0, depth 1.1 at 240 px,\nwhich no single "
        f"phi of {PAPER_COEFFICIENTS} gives): derived and released rows differ, and both are measured here.\n"
        "A derived member's dropout is that of the released member nearest in cost (MACs/B0, log scale).")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "derive",
        help="the members phi0..phi7 of (alpha, beta, gamma) next to the released B0..B7",
        description="Scale B0 by depth alpha^phi, width beta^phi and resolution gamma^phi for each phi; alpha, beta "
        "and gamma are >= 1.\nMembers are named phi0, phi1, phi2.5, phi-1; the released ones keep b0..b7.\n\n"
        "  scaling-search derive --alpha 1.2 --beta 1.1 --gamma 1.15 --phis 0-7\n"
        "  scaling-search derive --alpha 1.2 --beta 1.1 --gamma 1.15 --phis=-2,-1,0 --json   (= before a leading -)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for flag, default in zip((flags.ALPHA, flags.BETA, flags.GAMMA), PAPER_COEFFICIENTS, strict=True):
        flag.add(parser, default)
    parser.add_argument("--phis", type=flags.phi_list, default=list(FAMILY_PHIS),
                        help=f"phis to derive: a range 0-7 or a list 0,1,2.5 (default {FAMILY_PHIS[0]:g}-"
                             f"{FAMILY_PHIS[-1]:g})")
    flags.BASE_RESOLUTION.add(parser, EFFICIENTNET_B0.base_resolution)
    flags.RESOLUTION_MULTIPLE.add(parser, RESOLUTION_MULTIPLE)
    flags.NUM_CLASSES.add(parser, IMAGENET_CLASSES)
    flags.COUNTER.add(parser)
    add_output_flags(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    derived = [m.to_dict() for m in derive(args.alpha, args.beta, args.gamma, args.phis,
                                           base_resolution=args.base_resolution,
                                           resolution_multiple=args.resolution_multiple,
                                           num_classes=args.num_classes, counter=args.counter)]
    released = [m.to_dict() for m in released_family(make_counter(args.counter), args.num_classes)]
    display = [dict(r, params_m=r["params"] / 1e6, macs_g=r["macs"] / 1e9,
                    repeats_text=",".join(map(str, r["repeats"]))) for r in derived + released]
    csv_rows = [{k: v for k, v in r.items() if k != "layout"} for r in derived + released]
    emit(args, {"derived": derived, "released": released}, render_table(display, FAMILY_COLUMNS) + NOTE, csv_rows)
    return 0

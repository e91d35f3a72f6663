"""``scaling-search derive``: B0..B7 from (α, β, γ), next to the released family."""

from __future__ import annotations

import argparse

from scaling_search.cli.common import add_output_flags, emit, fmt, positive_float, positive_int, render_table
from scaling_search.cli.flops import add_common_counting_flags
from scaling_search.counting.counter import make_counter
from scaling_search.family import derive_family, parse_phis, released_family

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
        "phi of (1.2, 1.1, 1.15) gives): derived and released rows differ, and both are measured here.")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "derive",
        help="derived B0..B7 of (alpha, beta, gamma) next to the released family",
        description="Scale B0 by depth alpha^phi, width beta^phi and resolution gamma^phi for each phi.\n\n"
        "  scaling-search derive --alpha 1.2 --beta 1.1 --gamma 1.15 --phis 0-7\n"
        "  scaling-search derive --alpha 1.2 --beta 1.1 --gamma 1.15 --phis=-2,-1,0 --json   (= before a leading -)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--alpha", type=positive_float, default=1.2, help="depth coefficient (default 1.2)")
    parser.add_argument("--beta", type=positive_float, default=1.1, help="width coefficient (default 1.1)")
    parser.add_argument("--gamma", type=positive_float, default=1.15, help="resolution coefficient (default 1.15)")
    parser.add_argument("--phis", default="0-7", help="phis to derive: a range 0-7 or a list 0,1,2.5 (default 0-7)")
    parser.add_argument("--base-resolution", type=positive_int, default=224, help="resolution at phi = 0 (224)")
    parser.add_argument("--resolution-multiple", type=positive_int, default=1,
                        help="round resolutions to a multiple of this (default 1)")
    add_common_counting_flags(parser)
    add_output_flags(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    counter = make_counter(args.counter)
    derived = [m.to_dict() for m in derive_family(args.alpha, args.beta, args.gamma, parse_phis(args.phis), counter,
                                                  args.base_resolution, args.resolution_multiple, args.num_classes)]
    released = [m.to_dict() for m in released_family(counter, args.num_classes)]
    display = [dict(r, params_m=r["params"] / 1e6, macs_g=r["macs"] / 1e9,
                    repeats_text=",".join(map(str, r["repeats"]))) for r in derived + released]
    csv_rows = [{k: v for k, v in r.items() if k != "layout"} for r in derived + released]
    emit(args, {"derived": derived, "released": released}, render_table(display, FAMILY_COLUMNS) + NOTE, csv_rows)
    return 0

"""``scaling-search proxy``: per proxy base resolution, whether the grid's γ train with the compute they cost.

The module is not named after its command: ``training/proxy.py`` has that file name, and no two modules share one.
"""

from __future__ import annotations

import argparse

from scaling_search.cli import flags
from scaling_search.cli.common import add_output_flags, emit, fmt, integer, progress, render_table
from scaling_search.coefficients.faithfulness import (
    DEFAULT_LADDER,
    MIN_SEARCHABLE,
    PROXY_CLASSES,
    check_ladder,
    faithfulness,
    pick_resolution,
)
from scaling_search.coefficients.grid import GridSpec
from scaling_search.support.progress import count_lines

COLUMNS = [
    ("resolution", "proxy px", fmt("d")),
    ("within", "gamma within tol", fmt("s")),
    ("share", "share", fmt(".0%")),
    ("worst", "worst off (gamma)", fmt("s")),
    ("contenders", "contenders", fmt("d")),
    ("contending", "contender gamma > 1", fmt("s")),
    ("trained", "trained px", fmt("s")),
    ("verdict", "gamma searchable", fmt("s")),
]


def resolution_list(text: str) -> list[int]:
    """'32,64,160' → [32, 64, 160]; whether each can be a proxy is the library's to say."""
    parts = [part.strip() for part in text.split(",")]
    if not all(parts):
        raise argparse.ArgumentTypeError(f"expected comma-separated resolutions like 32,64,160, got {text!r}")
    return [integer(part) for part in parts]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "proxy",
        help="where the proxy is faithful: per proxy resolution, which gamma train with the compute they cost",
        description="Candidates are equal in cost at the cost scale (--cost-resolution, default 224 px) but trained\n"
        "at a small proxy base resolution, where one more pixel can add whole rows of feature maps: at 32 px\n"
        "B0 trains every gamma from 1.1 to 1.5 with 2.4-2.7x its MACs while the cost scale charges 1.3-2.3x.\n"
        "For each proxy base resolution this shows:\n\n"
        "  gamma within tol  of the grid's gamma > 1 (alpha = beta = 1), how many train with a proxy cost ratio\n"
        "                    within --tolerance of their cost-scale cost ratio; share: that fraction\n"
        "  worst off         the largest |proxy ratio / cost-scale ratio - 1| among them, and at which gamma\n"
        "  contenders        candidates of the full grid that grow as promised and train with the target\n"
        "                    compute (see 'candidates'), the gamma > 1 they hold and the resolutions they train at\n"
        f"  gamma searchable  yes where the contenders hold at least {MIN_SEARCHABLE} gamma > 1 training at distinct\n"
        "                    resolutions above the base and more than half the grid's gamma are within tolerance\n\n"
        "The last line names the smallest resolution where gamma can be searched: the cheapest proxy whose\n"
        "answer can say something about resolution. Counted in closed form (docs/proxy.md explains the table).\n\n"
        "  scaling-search proxy\n"
        "  scaling-search proxy --tolerance 0.1 --resolutions 64,128,160,224\n"
        "  scaling-search proxy --base resnet50 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    flags.add_grid_flags(parser)
    parser.add_argument("--resolutions", type=resolution_list, default=list(DEFAULT_LADDER), metavar="R1,R2,...",
                        help="proxy base resolutions to look at, each a multiple of --resolution-multiple (default "
                             f"{','.join(map(str, DEFAULT_LADDER))})")
    flags.NUM_CLASSES.add(parser, PROXY_CLASSES, help="classifier outputs of the proxy (the dataset's classes)")
    add_output_flags(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ladder = check_ladder(args.resolutions)
    spec = GridSpec.from_options(args, base_resolution=ladder[0])
    rows = faithfulness(spec, ladder, count_lines(progress, "pre-filtering the grid", "points", quiet_s=2.0))
    picked = pick_resolution(rows)
    payload = {"base": spec.base.name, "phi": spec.phi, "step": spec.step, "gamma_range": list(spec.gamma_range),
               "tolerance": spec.tolerance, "growth_tolerance": spec.growth_tolerance_used,
               "cost_resolution": spec.cost_resolution, "cost_classes": spec.cost_classes,
               "resolution_multiple": spec.resolution_multiple, "num_classes": spec.num_classes,
               "resolutions": [row.to_dict() for row in rows], "searchable_from": picked}
    display = [{
        "resolution": row.resolution,
        "within": f"{len(row.faithful_gammas)}/{len(row.gammas)}",
        "share": row.share,
        "worst": "-" if row.worst_gamma is None else f"{row.worst_deviation:.1%} ({row.worst_gamma:g})",
        "contenders": row.contenders,
        "contending": " ".join(f"{g:g}" for g in row.contender_gammas if g > 1) or "none",
        "trained": " ".join(map(str, row.contender_resolutions)),
        "verdict": "yes" if row.searchable else "no",
    } for row in rows]
    note = (f"\n{spec.base.name}, phi = {spec.phi:g}, gamma {spec.gamma_range[0]:g}..{spec.gamma_range[1]:g} step "
            f"{spec.step:g}, tolerance {spec.tolerance:.0%} (growth {spec.growth_tolerance_used:.0%}); cost scale "
            f"{spec.cost_resolution} px and {spec.cost_classes} classes, proxy {spec.num_classes} classes, resolutions "
            f"rounded to a multiple of {spec.resolution_multiple}.\n" + conclusion(spec, picked))
    emit(args, payload, render_table(display, COLUMNS) + note, [row.to_dict() for row in rows])
    return 0


def conclusion(spec: GridSpec, picked: int | None) -> str:
    """The one line that answers the command's question."""
    if picked is not None:
        return (f"gamma can be searched for {spec.base.name} from a {picked} px proxy (the smallest of these "
                f"resolutions where it can; --base-resolution {picked})")
    return (f"gamma cannot be searched for {spec.base.name} at any of these resolutions: try larger ones "
            "(--resolutions), a finer --step or a looser --tolerance")

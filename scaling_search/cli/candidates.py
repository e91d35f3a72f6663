"""``scaling-search candidates``: the constrained (α, β, γ) grid, nominal and measured cost side by side."""

from __future__ import annotations

import argparse

from scaling_search.cli import flags
from scaling_search.cli.common import UsageError, add_output_flags, emit, fmt, progress, render_table
from scaling_search.coefficients.contention import Contention, count_line, resolution_note
from scaling_search.coefficients.grid import GridSpec, candidates
from scaling_search.coefficients.latency_grid import LatencyTiming, latency_candidates
from scaling_search.counting.cost_kind import COST_WORDS
from scaling_search.counting.counter import make_counter
from scaling_search.models.architecture import PAPER_COEFFICIENTS
from scaling_search.models.bases import released_note
from scaling_search.support.progress import count_lines

CANDIDATE_COLUMNS = [
    ("alpha", "alpha", fmt(".3f")),
    ("beta", "beta", fmt(".3f")),
    ("gamma", "gamma", fmt(".3f")),
    ("nominal_ratio", "nominal", fmt(".3f")),
    ("measured_ratio", "measured", fmt(".3f")),
    ("constraint", "", fmt("s")),
    ("macs_ratio", "MACs x", fmt(".3f")),
    ("activations_ratio", "acts x", fmt(".3f")),
    ("latency_ms", "ms", fmt(".2f")),
    ("latency_iqr_ms", "iqr", fmt(".2f")),
    ("macs_g", "GMACs", fmt(".3f")),
    ("params_m", "params (M)", fmt(".2f")),
    ("activations_m", "acts (M)", fmt(".2f")),
    ("cost_resolution", "cost res", fmt("d")),
    ("proxy_ratio", "proxy", fmt(".3f")),
    ("resolution", "proxy res", fmt("d")),
    ("growth_per_phi", "growth/phi", fmt(".3f")),
    ("contends", "contender", fmt("s")),
    ("kind", "kind", fmt("s")),
]
"""Cost columns (measured: the chosen cost's ratio; MACs x and acts x: each counted cost's ratio; GMACs, params,
acts) are at the cost scale; proxy columns at the base resolution; growth/phi is the family's chosen cost per phi at
the cost scale, measured at phi = 7."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "candidates",
        help="the (alpha, beta, gamma) grid under the cost constraint",
        description="Enumerate (alpha, beta, gamma) >= 1 on a grid and keep those whose cost ratio at phi is within\n"
        "tolerance of target^phi. Rounding makes measured cost differ from alpha*beta^2*gamma^2: both are shown.\n"
        "Cost is measured at the cost scale (--cost-resolution, default 224 px, and --cost-classes, default 1000):\n"
        "at a small proxy resolution one more pixel can double the MACs, so cost is never compared there.\n"
        "--cost names the cost: macs (default, the paper's), activations (Dollar et al. 2021: they predict GPU\n"
        "runtime) or latency (measured on --cost-device); every row shows each counted cost's ratio beside it.\n\n"
        "Only a contender can be picked by a search: its family grows as promised (growth/phi, its phi = 7 member's\n"
        "cost over the base's, per phi, within --growth-tolerance of --target) and it trains with the compute it is\n"
        "charged for (proxy: its MACs over the base's at --base-resolution, within --tolerance of target^phi).\n"
        "Listed: the grid points on the cost constraint or growing as promised. At a small proxy no gamma > 1 trains\n"
        "with the target compute, and the output says so (docs/proxy.md).\n\n"
        f"For B0 the paper's {PAPER_COEFFICIENTS} is always listed as 'reference'; it was found for B0, so another\n"
        "base (--base) has no reference point.\n\n"
        "  scaling-search candidates --phi 1 --step 0.05\n"
        "  scaling-search candidates --constraint nominal --baselines --csv\n"
        "  scaling-search candidates --cost activations --json\n"
        "  scaling-search candidates --base resnet50 --phi 2 --baselines",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    flags.add_grid_flags(parser)
    flags.BASE_RESOLUTION.add(parser, flags.GRID.base_resolution)
    flags.NUM_CLASSES.add(parser, flags.GRID.num_classes)
    flags.COUNTER.add(parser)
    flags.add_latency_flags(parser.add_argument_group("latency (with --cost latency; docs/costs.md)"))
    add_output_flags(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    spec = GridSpec.from_options(args)
    if spec.cost == "latency":
        timing = LatencyTiming(flags.latency_settings(args), use_cache=not args.no_latency_cache)
        found = latency_candidates(spec, make_counter(args.counter), timing, progress=progress)
    else:
        if given := flags.latency_flags_given(args):
            raise UsageError(f"{', '.join(given)} set how latency is measured; add --cost latency")
        found = candidates(spec, args.counter, progress=count_lines(progress, "measuring candidates", "networks"),
                           scan_progress=count_lines(progress, "pre-filtering the grid", "points", quiet_s=2.0))
    found.sort(key=lambda c: (c.kind != "reference", c.kind, c.alpha, c.beta, c.gamma))
    rows = [c.to_dict() for c in found]
    display = [dict(r, macs_g=r["macs"] / 1e9, params_m=r["params"] / 1e6, activations_m=r["activations"] / 1e6,
                    constraint="" if r["on_constraint"] else "off-constraint", contends=contender_word(r))
               for r in rows]
    table = render_table(display, CANDIDATE_COLUMNS)
    note = (f"\n{sum(c.kind == 'compound' for c in found)} grid points of {spec.base.name}: those with a "
            f"{spec.constraint} {spec.cost} ratio of {spec.target_ratio:.3g} ± {spec.tolerance:.0%} at "
            f"phi = {spec.phi:g}, "
            "and those whose family grows as promised. Cost is measured at the "
            f"cost scale ({spec.cost_resolution} px x gamma^phi rounded to a multiple of {spec.resolution_multiple}, "
            f"{spec.cost_classes} classes, counter {args.counter}); the proxy trains at {spec.base_resolution} px x "
            f"gamma^phi with {spec.num_classes} classes."
            + ("" if spec.paper_point is not None else f" {released_note(spec.base)}"))
    counts = Contention.of(found, spec)
    lines = [count_line(counts, spec)] + [line for line in [resolution_note(counts)] if line]
    emit(args, rows, table + note + "\n" + "\n".join(lines), rows)
    for line in lines if args.json or args.csv else []:
        progress(line)  # stdout holds only the rows; the conclusions go to stderr
    return 0


def contender_word(row: dict) -> str:
    """The contender column: yes, or which condition it misses (growth per phi, cost at the proxy)."""
    if row["contender"]:
        return "yes"
    proxy_cost = f"proxy {COST_WORDS[row['cost_kind']]}"
    return "no: " + " and ".join(reason for reason, missed in (("growth", not row["on_growth"]),
                                                                  (proxy_cost, not row["proxy_on_target"]))
                                  if missed)

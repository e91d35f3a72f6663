"""``scaling-search candidates``: the constrained (α, β, γ) grid, nominal and measured cost side by side."""

from __future__ import annotations

import argparse

from scaling_search.cli.common import (
    UsageError,
    add_output_flags,
    emit,
    finite_float,
    fmt,
    positive_float,
    positive_int,
    progress,
    render_table,
)
from scaling_search.cli.flops import add_common_counting_flags
from scaling_search.counting.counter import make_counter
from scaling_search.grid import CONSTRAINTS, GridSpec, enumerate_candidates
from scaling_search.progress import count_lines


def value_range(text: str) -> tuple[float, float]:
    """'1.0:2.0' → (1.0, 2.0)."""
    parts = text.split(":")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected MIN:MAX, got {text!r}")
    low, high = (finite_float(p) for p in parts)
    if low > high:
        raise argparse.ArgumentTypeError(f"min > max in {text!r}")
    return low, high


def add_grid_flags(parser: argparse.ArgumentParser) -> None:
    defaults = GridSpec()
    parser.add_argument("--phi", type=finite_float, default=defaults.phi,
                        help="compound coefficient the candidates are compared at (default 1; negative scales down)")
    parser.add_argument("--step", type=finite_float, default=defaults.step, help="grid step (default 0.05)")
    for name, default in (("alpha", defaults.alpha_range), ("beta", defaults.beta_range),
                          ("gamma", defaults.gamma_range)):
        parser.add_argument(f"--{name}-range", type=value_range, default=default, metavar="MIN:MAX",
                            help=f"{name} range (default {default[0]:g}:{default[1]:g})")
    parser.add_argument("--target", type=positive_float, default=defaults.target,
                        help="cost multiplier per unit of phi (default 2: each step doubles the cost)")
    parser.add_argument("--tolerance", type=positive_float, default=defaults.tolerance,
                        help="relative tolerance on the cost ratio (default 0.05)")
    parser.add_argument("--constraint", choices=CONSTRAINTS, default=defaults.constraint,
                        help="apply the constraint to the measured MACs ratio (default: compares networks of equal "
                             "real cost) or to the nominal alpha*beta^2*gamma^2 (the paper's rule)")
    parser.add_argument("--base-resolution", type=positive_int, default=defaults.base_resolution,
                        help="resolution of the base network (default 224)")
    parser.add_argument("--resolution-multiple", type=positive_int, default=1,
                        help="round resolutions to a multiple of this (default 1)")
    parser.add_argument("--baselines", action="store_true",
                        help="add depth-only, width-only and resolution-only candidates at the same cost")


CANDIDATE_COLUMNS = [
    ("alpha", "alpha", fmt(".3f")),
    ("beta", "beta", fmt(".3f")),
    ("gamma", "gamma", fmt(".3f")),
    ("nominal_ratio", "nominal", fmt(".3f")),
    ("measured_ratio", "measured", fmt(".3f")),
    ("macs_g", "GMACs", fmt(".3f")),
    ("params_m", "params (M)", fmt(".2f")),
    ("activations_m", "acts (M)", fmt(".2f")),
    ("resolution", "res", fmt("d")),
    ("kind", "kind", fmt("s")),
]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "candidates",
        help="the (alpha, beta, gamma) grid under the cost constraint",
        description="Enumerate (alpha, beta, gamma) >= 1 on a grid and keep those whose cost ratio at phi is within\n"
        "tolerance of target^phi. Rounding makes measured cost differ from alpha*beta^2*gamma^2: both are shown.\n"
        "The paper's (1.2, 1.1, 1.15) is always listed as 'reference'.\n\n"
        "  scaling-search candidates --phi 1 --step 0.05\n"
        "  scaling-search candidates --constraint nominal --baselines --csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_grid_flags(parser)
    add_common_counting_flags(parser)
    add_output_flags(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        spec = GridSpec.from_options(args)
    except ValueError as err:
        raise UsageError(str(err)) from None
    counter = make_counter(args.counter)

    candidates = enumerate_candidates(spec, counter, count_lines(progress, "measuring candidates", "networks"),
                                      count_lines(progress, "pre-filtering the grid", "points", quiet_s=2.0))
    candidates.sort(key=lambda c: (c.kind != "reference", c.kind, c.alpha, c.beta, c.gamma))
    rows = [c.to_dict() for c in candidates]
    display = [dict(r, macs_g=r["macs"] / 1e9, params_m=r["params"] / 1e6, activations_m=r["activations"] / 1e6)
               for r in rows]
    table = render_table(display, CANDIDATE_COLUMNS)
    note = (f"\n{sum(c.kind == 'compound' for c in candidates)} compound candidates with {spec.constraint} cost "
            f"ratio {spec.target_ratio:.3g} ± {spec.tolerance:.0%} at phi = {spec.phi:g} (base resolution "
            f"{spec.base_resolution}, counter {args.counter}).")
    emit(args, rows, table + note, rows)
    return 0

"""``scaling-search derive``: the members phi0..phi7 of (α, β, γ), next to the released B0..B7 (B0 only).

Under the members it says how fast the family grows per φ against ``--target``
(:func:`~scaling_search.coefficients.family.family_growth_for`), at the scale the members are counted at.
``--fast [ALPHA_W]`` takes the coefficients from fast scaling (Dollár et al. 2021) instead of
``--alpha``/``--beta``/``--gamma``, matched in closed-form MACs at φ = 1 to ``--target``
(:func:`~scaling_search.coefficients.fast_scaling.fast_point`).
"""

from __future__ import annotations

import argparse

from scaling_search.cli import flags
from scaling_search.cli.common import UsageError, add_output_flags, emit, finite_float, fmt, progress, render_table
from scaling_search.coefficients.family import (
    FamilyGrowth,
    buildable_phis,
    derive_family,
    family_growth_for,
    released_family,
    unbuilt_note,
)
from scaling_search.coefficients.fast_scaling import FAST_WIDTH_SHARE, FastPoint, fast_point
from scaling_search.coefficients.growth import GROWTH_PHI
from scaling_search.coefficients.latency_family import FamilyLatency, family_latency
from scaling_search.coefficients.latency_grid import LatencyTiming
from scaling_search.counting.cost_kind import COUNTED_KINDS
from scaling_search.counting.counter import make_counter
from scaling_search.errors import InputError
from scaling_search.models.architecture import (
    EFFICIENTNET_B0,
    FAMILY_PHIS,
    IMAGENET_CLASSES,
    PAPER_COEFFICIENTS,
    RESOLUTION_MULTIPLE,
    BaseArchitecture,
)
from scaling_search.models.bases import has_released_family, released_note
from scaling_search.models.scaling import base_layout

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
"""The columns of a B0 family; another base's divides by its own unscaled network (:func:`family_columns`)."""
LATENCY_COLUMNS = [
    ("latency_ratio", "latency/phi0", fmt(".3f")),
    ("latency_ms", "ms", fmt(".2f")),
]
"""Added to a family timed with ``--cost latency``: each member's latency over the φ = 0 member's, and its own."""

NOTE = ("\n\nThe released B1..B7 do not follow one phi-rule (B1 is width 1.0, depth 1.1 at 240 px,\nwhich no single "
        f"phi of {PAPER_COEFFICIENTS} gives): derived and released rows differ, and both are measured here.\n"
        "A derived member's dropout is that of the released member nearest in cost (MACs/B0, log scale).")
COEFFICIENT_FLAGS = (flags.ALPHA, flags.BETA, flags.GAMMA)
"""The flags that name the family's coefficients; ``--fast`` names them instead."""
OTHER_BASE_NOTE = ("A derived member's dropout is that of the released B0 member nearest in cost, each over its own "
                   "base (log scale).")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "derive",
        help="the members phi0..phi7 of (alpha, beta, gamma) next to the released B0..B7",
        description="Scale the base network (--base, default B0) by depth alpha^phi, width beta^phi and resolution "
        "gamma^phi\nfor each phi; alpha, beta and gamma are >= 1. Members are named phi0, phi1, phi2.5, phi-1; the\n"
        "released ones keep b0..b7 and are listed for B0 only, the one base they exist for.\n\n"
        "  scaling-search derive --alpha 1.2 --beta 1.1 --gamma 1.15 --phis 0-7\n"
        "  scaling-search derive --base resnet50 --alpha 1.3 --beta 1.1 --gamma 1.1\n"
        "  scaling-search derive --alpha 1.2 --beta 1.1 --gamma 1.15 --phis=-2,-1,0 --json   (= before a leading -)\n\n"
        "Under the table: the family's growth per phi, (cost of its phi = 7 member / the base's)^(1/7), counted in\n"
        "closed form at --base-resolution, --resolution-multiple and --num-classes, beside --target. A family\n"
        "outside --growth-tolerance of it is flagged OFF growth: (1.05, 1.05, 1.05) meets 2x at phi = 1 by rounding,\n"
        "but its phi = 7 member costs 6.5x the base, not 2^7 = 128x. When the phi = 7 member cannot be built\n"
        "(a multiplier or resolution past the limit), the largest phi below 7 that can be is used, and said.\n"
        "JSON adds growth_per_phi, growth_phi, growth_cost, target, growth_tolerance and on_growth.\n"
        "--cost activations counts the growth in activations (conv and linear outputs) instead of MACs; --cost\n"
        "latency times each member against phi0 on --cost-device instead (members in increasing phi, each to phi x a\n"
        "quarter of --growth-tolerance, none whose call would take over 400 ms), and takes the growth at the\n"
        "largest integer phi timed; JSON adds each member's latency_ratio, latency_low/high, latency_ms,\n"
        "latency_note and cost_device.\n"
        "  scaling-search derive --cost latency --cost-device cpu\n\n"
        "--fast [ALPHA_W] derives fast scaling's family instead (Dollar, Singh & Girshick, \"Fast and Accurate Model\n"
        f"Scaling\", CVPR 2021): width takes the share ALPHA_W (default {FAST_WIDTH_SHARE:g}) of the cost exponent "
        "per phi, depth and\nresolution half the rest each, so activations grow slower than cost (s^0.6 for cost s at "
        "0.8). The point\nis matched so that its family grows by --target per phi in --cost (counted in closed form); "
        "JSON adds\nfast: width_share, nominal, matched, growth_per_phi, matched_ratio (its phi = 1 member) and cost.\n"
        "  scaling-search derive --fast --json\n"
        "  scaling-search derive --fast 0.5 --phis 0-3",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for flag, default in zip(COEFFICIENT_FLAGS, PAPER_COEFFICIENTS, strict=True):
        flag.add(parser, default, sets_default=False)  # unset, so that --fast can refuse them
    parser.add_argument("--fast", type=finite_float, nargs="?", const=FAST_WIDTH_SHARE, metavar="ALPHA_W",
                        help="derive fast scaling's coefficients (Dollar et al. 2021) instead of --alpha/--beta/"
                             "--gamma: width takes the share ALPHA_W in (0, 1] of the cost (default "
                             f"{FAST_WIDTH_SHARE:g}), matched in MACs at phi = 1 to --target")
    flags.BASE.add(parser)
    parser.add_argument("--phis", type=flags.phi_list, default=list(FAMILY_PHIS),
                        help=f"phis to derive: a range 0-7 or a list 0,1,2.5 (default {FAMILY_PHIS[0]:g}-"
                             f"{FAMILY_PHIS[-1]:g})")
    flags.BASE_RESOLUTION.add(parser, EFFICIENTNET_B0.base_resolution)
    flags.RESOLUTION_MULTIPLE.add(parser, RESOLUTION_MULTIPLE)
    flags.NUM_CLASSES.add(parser, IMAGENET_CLASSES)
    flags.COUNTER.add(parser)
    flags.TARGET.add(parser, flags.GRID.target)
    flags.COST.add(parser, flags.GRID.cost, help="the cost whose growth per phi is shown (and --fast matches): macs "
                   "(default), activations, or latency (timed on --cost-device; not with --fast)")
    flags.GROWTH_TOLERANCE.add(parser, flags.GRID.tolerance, help="relative tolerance on the family's growth per phi "
                               "(its phi = 7 member's cost over the base's, per phi), around --target; the default is "
                               "the candidate grid's default tolerance")
    flags.add_latency_flags(parser.add_argument_group("latency (with --cost latency; docs/costs.md)"))
    add_output_flags(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.cost == "latency" and args.fast is not None:
        raise UsageError("--fast matches its point in closed form, in macs or activations; time its family with "
                         "--cost latency after deriving it (--alpha/--beta/--gamma)")
    if args.cost in COUNTED_KINDS and (given := flags.latency_flags_given(args)):
        raise UsageError(f"{', '.join(given)} set how latency is measured; add --cost latency")
    base = flags.chosen_base(args)
    fast = chosen_fast(args, base)
    alpha, beta, gamma = fast.matched if fast is not None else given_coefficients(args)
    counter = make_counter(args.counter)
    phis = buildable_phis(alpha, beta, gamma, args.phis, args.base_resolution, args.resolution_multiple, base)
    if not phis:
        raise InputError(f"no member of the family can be built at phis {', '.join(f'{p:g}' for p in args.phis)}: "
                         "a multiplier or the resolution would pass the largest this tool builds; ask for smaller phis")
    unbuilt = unbuilt_note([phi for phi in args.phis if phi not in phis])
    members = derive_family(alpha, beta, gamma, phis, counter, base_resolution=args.base_resolution,
                            resolution_multiple=args.resolution_multiple, num_classes=args.num_classes, base=base)
    derived = [m.to_dict() for m in members]
    columns = FAMILY_COLUMNS if has_released_family(base) else family_columns(base)
    if args.cost == "latency":
        timing = LatencyTiming(flags.latency_settings(args), use_cache=not args.no_latency_cache)
        timed = family_latency(members, base_layout(args.base_resolution, args.num_classes, args.resolution_multiple,
                                                    base=base),
                               timing, target=args.target, tolerance=args.growth_tolerance, progress=progress)
        derived = [dict(row, **member.to_dict(), cost_device=timed.device)
                   for row, member in zip(derived, timed.members, strict=True)]
        growth_payload, growth_text = latency_growth(timed, args.target, args.growth_tolerance)
        columns = [*columns, *LATENCY_COLUMNS]
    else:
        growth = family_growth_for(alpha, beta, gamma, target=args.target, tolerance=args.growth_tolerance,
                                   base_resolution=args.base_resolution, resolution_multiple=args.resolution_multiple,
                                   num_classes=args.num_classes, base=base, cost=args.cost)
        growth_payload, growth_text = growth.to_dict(), growth_line(growth)
    if has_released_family(base):
        released = [m.to_dict() for m in released_family(counter, args.num_classes)]
        payload: dict = {"derived": derived, "released": released, **growth_payload}
        table = render_table(display_rows(derived + released), columns) + f"\n\n{growth_text}" + NOTE
    else:
        released = []
        payload = {"base": base.name, "derived": derived, "released": [], "released_note": released_note(base),
                   **growth_payload}
        table = render_table(display_rows(derived), columns) + f"\n\n{growth_text}\n\n" \
            f"{released_note(base)}\n" + OTHER_BASE_NOTE
    if unbuilt:
        payload["not_built"] = unbuilt
        table += f"\n{unbuilt}."
    if fast is not None:
        payload["fast"] = fast.to_dict()
        table = f"{fast_line(fast, args.target)}\n\n{table}"
    csv_rows = [{k: v for k, v in r.items() if k != "layout"} for r in derived + released]
    emit(args, payload, table, csv_rows)
    return 0


def given_coefficients(args: argparse.Namespace) -> tuple[float, float, float]:
    """--alpha, --beta and --gamma, each the paper's where not given (the flags are unset so --fast can refuse them)."""
    given = (getattr(args, flag.dest) for flag in COEFFICIENT_FLAGS)
    alpha, beta, gamma = (paper if value is None else value
                          for value, paper in zip(given, PAPER_COEFFICIENTS, strict=True))
    return alpha, beta, gamma


def chosen_fast(args: argparse.Namespace, base: BaseArchitecture) -> FastPoint | None:
    """The fast-scaling point ``--fast`` asks for, matched at the derivation's scale; None without ``--fast``."""
    if args.fast is None:
        return None
    given = [flag.name for flag in COEFFICIENT_FLAGS if getattr(args, flag.dest) is not None]
    if given:
        raise UsageError(f"--fast chooses alpha, beta and gamma itself: drop {'/'.join(given)} or --fast")
    return fast_point(args.fast, args.target, cost=args.cost, base_resolution=args.base_resolution,
                      resolution_multiple=args.resolution_multiple, num_classes=args.num_classes, base=base)


def fast_line(fast: FastPoint, target: float) -> str:
    """The line over the table: which coefficients --fast chose, from which width share, nominal and matched."""
    nominal = ", ".join(f"{value:.4f}" for value in fast.nominal)
    matched = ", ".join(f"{value:g}" for value in fast.matched)
    return (f"Fast scaling (Dollar et al. 2021), width share {fast.width_share:g}: nominal ({nominal}) for {target:g}x "
            f"per phi; matched to grow {target:g}x per phi in {fast.cost}: ({matched}), {fast.growth_per_phi:.3f}x per "
            f"phi, its phi = 1 member {fast.matched_ratio:.3f}x the base.")


def latency_growth(timed: FamilyLatency, target: float, tolerance: float) -> tuple[dict[str, object], str]:
    """The JSON keys and the line under the table of a family timed member by member."""
    if timed.growth is None:
        assert timed.growth_note is not None
        return ({"growth_per_phi": None, "growth_phi": None, "growth_cost": "latency", "target": target,
                 "growth_tolerance": tolerance, "on_growth": None, "growth_note": timed.growth_note,
                 "cost_device": timed.device},
                f"Growth per phi in latency on {timed.device}: not known - {timed.growth_note}.")
    return {**timed.growth.to_dict(), "cost_device": timed.device}, growth_line(timed.growth, timed.device)


def growth_line(found: FamilyGrowth, device: str | None = None) -> str:
    """The line under the table: the growth per phi beside the target, and whether the family is off it; ``device``
    names where latency was timed."""
    growth = found.growth
    in_cost = "" if growth.cost == "macs" else f" in {growth.cost}" + (f" on {device}" if device else "")
    line = (f"Growth per phi{in_cost}: {growth.per_phi:.3f} (phi = {growth.phi} member {found.member_ratio:.1f}x the "
            "base), "
            f"target {found.target:g} +- {found.tolerance:.0%}")
    if found.on_growth:
        line += ": on growth."
    else:
        grows = "double" if found.target == 2 else f"grow {found.target:g}x"
        line += (f": OFF growth - this family does not {grows} per phi; its phi = {growth.phi} member costs "
                 f"{found.member_ratio:.1f}x the base, not {found.target**growth.phi:.4g}x.")
    if growth.reduced and growth.cost == "latency":
        line += (f" Members past phi = {growth.phi} were not timed (their calls would pass the budget, or could not be "
                 "pinned down).")
    elif growth.reduced:
        line += (f" The phi = {GROWTH_PHI} member cannot be built (a multiplier or resolution past the limit), so "
                 f"phi = {growth.phi} was used.")
    return line


def display_rows(rows: list[dict]) -> list[dict]:
    """Members as the table shows them: params in millions, GMACs, repeats as text."""
    return [dict(r, params_m=r["params"] / 1e6, macs_g=r["macs"] / 1e9, repeats_text=",".join(map(str, r["repeats"])))
            for r in rows]


def family_columns(base: BaseArchitecture) -> list:
    """:data:`FAMILY_COLUMNS`, the MACs ratio headed by the base it divides by."""
    return [(key, f"MACs/{base.name}" if key == "macs_ratio" else header, formatter)
            for key, header, formatter in FAMILY_COLUMNS]

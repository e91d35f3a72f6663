"""``scaling-search validate``: does a study's answer hold on longer training and when scaled up?"""

from __future__ import annotations

import argparse
import math
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from scaling_search.cli import answer_lines, flags
from scaling_search.cli.common import (
    emit,
    finite_float,
    fmt,
    integer,
    location_words,
    progress,
    render_table,
    run_exit_code,
)

if TYPE_CHECKING:
    from scaling_search.validation.validation_driver import ValidationOutcome

DESCRIPTION = """\
Check a finished study's answer in two ways, as trials of the linked Optuna study <study>.validate
in the same storage (resumable like run; results in studies/<study>/validation.json and, after
'scaling-search report', in the report's "Does the answer hold?" section):

  rank fidelity  at least K of the study's candidates (distinct networks; --top, default 5): its
                 best contenders first, the paper's point, then its best other candidates while fewer
                 than K; retrained for --epochs-factor x the study's epochs on fresh seeds: Spearman's
                 rho and Kendall's tau between proxy and long scores with 95 % intervals, a
                 permutation p, and whether the winner keeps its place. "Agree" needs at least 5
                 candidates (with K of them even a perfect order has p = 1/K!) and p < 0.05;
  scale-up       at each --phis (default twice the study's phi), the member of the study's
                 coefficients against the paper's and the depth-, width- and resolution-only members
                 matched to its cost at the study's cost scale, all on the same seeds: each accuracy
                 with its interval, and the paired difference with its 95 % interval against each
                 member that also trains with the study member's compute (within the tolerance) at
                 the proxy; a member not matched at both scales is shown, not judged.

  scaling-search validate c10                                 both checks
  scaling-search validate c10 --fidelity-only --top 5 --epochs-factor 4
  scaling-search validate c10 --scale-up-only --phis 2,3
  scaling-search validate c10 --resume                        after a crash, Ctrl-C or kill -9"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help="check a study's answer: rank fidelity and the scale-up check",
                                   description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("study", help="the study to check (as 'scaling-search run' named it)")
    flags.STUDY_BASE.add(parser)
    checks = parser.add_mutually_exclusive_group()
    checks.add_argument("--fidelity-only", action="store_true", help="only the rank-fidelity check")
    checks.add_argument("--scale-up-only", action="store_true", help="only the scale-up check")
    what = parser.add_argument_group("what is trained")
    what.add_argument("--top", type=integer,
                      help="retrain at least K candidates for rank fidelity where the study has them (default 5, "
                           "the fewest a verdict needs): its K best contenders, the paper's point on top, and its "
                           "best other candidates while there are fewer than K")
    what.add_argument("--epochs-factor", type=finite_float,
                      help="long runs train this many times the study's epochs (default 4 for a GPU study, 2 for "
                           "a CPU one)")
    what.add_argument("--long-resolution", type=integer,
                      help="base resolution of the long runs (default the study's)")
    what.add_argument("--phis", type=phi_values, help="phi of the scale-up check, comma-separated, each above the "
                                                      "study's (default twice its phi)")
    what.add_argument("--scale-up-epochs-factor", type=finite_float,
                      help="scale-up members train this many times the study's epochs (default 1)")
    what.add_argument("--seeds", type=integer, help="fresh seeds per network (default the study's finalist seeds)")
    how = parser.add_argument_group("how it runs")
    how.add_argument("--resume", action="store_true", help="continue an interrupted validation")
    how.add_argument("--studies-dir", default="studies", help="folder of study files (default studies)")
    how.add_argument("--storage", help="Optuna storage URL (default sqlite:///<studies-dir>/<study>.db)")
    how.add_argument("--max-concurrent", type=integer, help="at most this many trials at once")
    how.add_argument("--address", help="an existing Ray cluster ('auto' or host:port); default a local Ray")
    how.add_argument("--ray-temp-dir", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    parser.set_defaults(func=run)


def phi_values(text: str) -> tuple[float, ...]:
    """'2,3' → (2.0, 3.0); whether each is above the study's phi is the validation's to say."""
    parts = [part.strip() for part in text.split(",")]
    if not all(parts):
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    return tuple(finite_float(part) for part in parts)


def run(args: argparse.Namespace) -> int:
    from scaling_search.validation.options import ValidationOptions
    from scaling_search.validation.validation_driver import validate_study

    options = ValidationOptions(top=args.top, epochs_factor=args.epochs_factor,
                                scale_up_epochs_factor=args.scale_up_epochs_factor, seeds=args.seeds, phis=args.phis,
                                long_resolution=args.long_resolution, fidelity=not args.scale_up_only,
                                scale_up=not args.fidelity_only)
    outcome = validate_study(args.study, options, studies_dir=args.studies_dir, storage=args.storage,
                             address=args.address, max_concurrent=args.max_concurrent, resume=args.resume,
                             log=progress, ray_temp_dir=args.ray_temp_dir, base=args.base)
    payload = {"study": outcome.study, "validation_study": outcome.validation_study, "counts": outcome.counts,
               "failures": outcome.failures, "interrupted": outcome.interrupted, "trained": outcome.trained,
               "file": str(outcome.file) if outcome.file else None, **outcome.validation.to_json()}
    emit(args, payload, summary(outcome))
    resume = shlex.join(["scaling-search", "validate", args.study, "--resume",
                         *location_words(args.storage, args.studies_dir)])
    return run_exit_code(outcome.interrupted, outcome.counts["complete"], resume, "validation run")


FIDELITY_COLUMNS = [
    ("candidate", "candidate", fmt("s")),
    ("kind", "kind", fmt("s")),
    ("contends", "contender", fmt("s")),
    ("measured_ratio", "cost", fmt(".2f")),
    ("proxy_score", "proxy acc", fmt(".4f")),
    ("proxy_seeds", "n", fmt("d")),
    ("proxy_rank", "proxy rank", fmt("d")),
    ("long", "long acc [95 % interval]", fmt("s")),
    ("long_n_seeds", "n", fmt("d")),
    ("long_n_failed", "failed", fmt("d")),
    ("long_rank", "long rank", fmt("d")),
]
SCALE_UP_COLUMNS = [
    ("kind", "member", fmt("s")),
    ("alpha", "alpha", fmt(".4g")),
    ("beta", "beta", fmt(".4g")),
    ("gamma", "gamma", fmt(".4g")),
    ("gmacs", "GMACs", fmt(".3f")),
    ("cost_ratio", "cost vs study", fmt(".3f")),
    ("proxy_ratio", "trained vs study", fmt(".3f")),
    ("flag", "", fmt("s")),
    ("resolution", "res", fmt("d")),
    ("accuracy", "val acc [95 % interval]", fmt("s")),
    ("n_seeds", "n", fmt("d")),
    ("n_failed", "failed", fmt("d")),
    ("difference", "study − member [95 % interval]", fmt("s")),
]


def summary(outcome: ValidationOutcome) -> str:
    """The rank-fidelity table with rho, tau and p, the scale-up table per phi, the counts and the paragraph."""
    validation = outcome.validation
    lines = []
    fidelity = validation.fidelity
    if fidelity:
        rows = [row.to_json() | {"long": accuracy(row.long.score, row.long.ci95),
                                 "contends": "yes" if row.contender else "no"} for row in fidelity.candidates]
        lines += [f"rank fidelity: {fidelity.epochs} epochs from {fidelity.base_resolution} px on fresh seeds",
                  render_table(rows, FIDELITY_COLUMNS)]
        found = fidelity.rank_fidelity
        if found:
            lines.append(f"Spearman rho = {correlation(found.spearman, found.spearman_ci95)}, "
                         f"Kendall tau = {correlation(found.kendall, found.kendall_ci95)}, "
                         f"permutation p = {fmt('.2g')(found.permutation_p)}")
        lines += [fidelity.sentence, ""]
    for check in validation.scale_up:
        against = {comparison.against: comparison.comparison for comparison in check.comparisons}
        rows = [member.to_json() | {"gmacs": member.macs / 1e9,
                                    "accuracy": accuracy(member.accuracy.score, member.accuracy.ci95),
                                    "flag": "" if member.comparable else "not judged",
                                    "difference": "" if (compared := against.get(member.kind)) is None else
                                     answer_lines.difference_text(compared.difference, compared.ci95,
                                                                  compared.resolved)}
                for member in check.members]
        lines += [f"scale-up at phi = {check.phi:g} ({validation.settings.scale_up_epochs} epochs; cost at the "
                  "study's cost scale, and of the network trained at the proxy; 'not judged': outside the tolerance "
                  "of the study member's at either, shown, not judged)",
                  render_table(rows, SCALE_UP_COLUMNS)]
        lines += [f"  {member.not_judged}" for member in check.members[1:] if member.not_judged] + [""]
    c = outcome.counts
    lines.append(f"{c['complete']} complete, {c['fail']} failed, {c['waiting'] + c['running']} unfinished "
                 f"(in {outcome.validation_study})")
    lines += [f"  failed: {failure}" for failure in outcome.failures]
    if validation.paragraph:
        lines.append(validation.paragraph)
    if outcome.file:
        lines.append(f"wrote {outcome.file}")
    return "\n".join(lines)


def accuracy(score: float | None, interval: Sequence[float] | None) -> str:
    if score is None:
        return "–"
    return f"{score:.4f}" + (f" [{interval[0]:.4f}, {interval[1]:.4f}]" if interval else "")


def correlation(value: float, interval: Sequence[float] | None) -> str:
    """A rank correlation with its interval; nan (every candidate scored the same on one side) is "undefined"."""
    if math.isnan(value):
        return "undefined"
    return f"{value:.2f}" + (f" [{interval[0]:.2f}, {interval[1]:.2f}]" if interval else " (no interval)")

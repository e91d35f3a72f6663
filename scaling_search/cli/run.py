"""``scaling-search run``: the search. Options come from defaults, a study file, then flags."""

from __future__ import annotations

import argparse
import shlex
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, cast

from scaling_search.cli import answer_lines, flags
from scaling_search.cli.common import (
    Row,
    emit,
    finite_float,
    fmt,
    integer,
    location_words,
    progress,
    render_table,
    run_exit_code,
)
from scaling_search.study.definition import STRATEGIES, StudyDefinition, default_study_name
from scaling_search.study.schema import Stage
from scaling_search.study.study_file import from_mapping, load_definition

if TYPE_CHECKING:
    import pandas as pd

    from scaling_search.search.outcome import StudyOutcome

DESCRIPTION = """\
Search (alpha, beta, gamma): measure every candidate's cost, train short proxy runs of them in
parallel on Ray Tune, keep every trial in an Optuna study, and export the best coefficients with
their derived phi0..phi7 configs to studies/<study>/. Cost is measured at the cost scale
(--cost-resolution, default 224 px, and --cost-classes, default 1000); the proxy trains at
--base-resolution times the same gamma^phi. Only compound candidates on the constraint can be
the best; the paper's point (for B0, the one base it was found for) and the baselines are trained
beside them and flagged when off it. --base scales another network (a built-in or a TOML stage
table, which the study stores, so it resumes and reports without the file).

  scaling-search run --phi 1                                  built-in default: synthetic data, sized to the device
  scaling-search run studies/paper_phi1.toml                  a study file (flags override it)
  scaling-search run --base resnet50 --phi 1                  another base network (CPU: sized to its cost)
  scaling-search run --phi 1 --dataset cifar10 --data-root ~/data --epochs 5 --seeds 3 --study c10-phi1
  scaling-search run --phi 1 --strategy tpe --trials 40 --study c10-tpe
  scaling-search run --phi 1 --cost latency --cost-device cpu    held to latency timed on this CPU (grid only)
  scaling-search run --resume --study c10-phi1               after a crash, Ctrl-C or kill -9
  scaling-search run --address auto ...                       on an existing Ray cluster

Options left unset are sized to the device: on CPU only, a small synthetic task at 32 px with
3 candidates plus the paper's point, and fewer images per epoch for a base that costs more per
image than B0; on GPUs, 64 px, 5 epochs and the whole grid."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="search (alpha, beta, gamma) by parallel proxy training",
                                   description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
                                   argument_default=argparse.SUPPRESS)
    parser.add_argument("study_file", nargs="?", type=Path, default=None, help="a TOML study definition (see studies/)")
    what = parser.add_argument_group("what is searched")
    what.add_argument("--study", help="study name (default: <dataset>-phi<phi>-<strategy>, with -<base> after the "
                                      "dataset for a base other than B0)")
    what.add_argument("--strategy", choices=STRATEGIES, help="grid: every candidate x seed (default); "
                                                             "tpe: Optuna TPE over the split of the cost budget")
    what.add_argument("--trials", type=integer, help="number of TPE trials (default 20)")
    what.add_argument("--seeds", type=integer, help="seeds per grid candidate (default 1)")
    flags.add_grid_flags(what)
    timed = parser.add_argument_group("how latency is timed (with --cost latency; docs/costs.md), before any training")
    for flag in flags.LATENCY_FLAGS:
        if flag is not flags.NO_LATENCY_CACHE:
            flag.add(timed)
    what.add_argument("--max-candidates", type=integer,
                      help="train at most this many compound candidates, spread over the grid (the paper's point "
                           "and baselines come on top)")
    answer = parser.add_argument_group("how the answer is decided")
    answer.add_argument("--finalists", type=integer,
                        help="re-train the top K compound candidates and the paper's point on fresh seeds, and decide "
                             "on those runs only (default 3; 0: decide on the search's own runs)")
    answer.add_argument("--finalist-seeds", type=integer,
                        help="fresh seeds per finalist (default 3 CPU, 5 GPU; below 3 no difference is resolved)")
    answer.add_argument("--min-effect", type=finite_float, metavar="POINTS",
                        help="the smallest difference in accuracy worth resolving, in points: what the verdicts' "
                             "'would need about N seeds' plans are for (default 1)")
    answer.add_argument("--refine", action=argparse.BooleanOptionalAction,
                        help="train the networks the winning class splits into at twice phi, and export their "
                             "best once it beats the class's representative on fresh seeds (default: when the "
                             "class is wider than a grid step)")
    answer.add_argument("--refine-step", type=finite_float, help="finer step inside the winning class (default step/5)")
    answer.add_argument("--max-refine", type=integer,
                        help="train at most this many refinement networks (default 2 CPU, all GPU)")
    task = parser.add_argument_group("the proxy task")
    flags.add_dataset_flags(task)
    task.add_argument("--val-fraction", type=finite_float, help="share of training data held out (default 0.1)")
    flags.BASE_RESOLUTION.add(task, help="proxy resolution at phi = 0 (default 32 CPU, 64 GPU)")
    flags.EPOCHS.add(task, help="epochs per proxy run (default 2 CPU, 1 for a base too costly for two, 5 GPU)")
    flags.BATCH_SIZE.add(task, help="training batch (default 64 CPU, 256 GPU)")
    flags.RECIPE.add(task)
    flags.LR.add(task)
    task.add_argument("--max-train-images", type=integer,
                      help="training images per epoch (default: all on GPUs; on CPU 1000 for B0, fewer for a base "
                           "that costs more per image, at least 128)")
    how = parser.add_argument_group("how it runs")
    how.add_argument("--resume", action="store_true", help="continue an interrupted study")
    how.add_argument("--storage", help="Optuna storage URL (default sqlite:///studies/<study>.db)")
    how.add_argument("--studies-dir", help="folder for study files and outputs (default studies)")
    flags.DEVICE.add(how, help="auto, cpu or cuda (auto: cuda when the cluster has a GPU)")
    how.add_argument("--trials-per-gpu", type=integer, help="proxy runs sharing one GPU (default 1)")
    how.add_argument("--cpus-per-trial", type=finite_float,
                     help="CPU cores per trial, fractions allowed (default 1 on CPU, 2 with GPUs)")
    how.add_argument("--max-concurrent", type=integer, help="at most this many trials at once")
    how.add_argument("--max-failures", type=integer, help="retries of a trial whose worker dies (default 1)")
    how.add_argument("--early-stop", action="store_true", help="stop weak trials early with ASHA")
    how.add_argument("--address", help="an existing Ray cluster ('auto' or host:port); default a local Ray")
    how.add_argument("--ray-temp-dir", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", default=False, help="print the outcome as JSON")
    parser.set_defaults(func=run)


def definition_from(args: argparse.Namespace) -> StudyDefinition:
    """Defaults, then the study file, then the flags given on the command line."""
    base = StudyDefinition()
    if getattr(args, "study_file", None):
        base = from_mapping(load_definition(args.study_file), base)
    given = {f.name: getattr(args, f.name) for f in fields(StudyDefinition) if hasattr(args, f.name)}
    return from_mapping(given, base)


RANKED_COLUMNS = [
    ("rank", "rank", fmt("d")),
    ("alpha", "alpha", fmt(".3f")),
    ("beta", "beta", fmt(".3f")),
    ("gamma", "gamma", fmt(".3f")),
    ("plateau", "plateau: alpha | beta | gamma", fmt("s")),
    ("kind", "kind", fmt("s")),
    ("measured_ratio", "cost", fmt(".2f")),
    ("constraint", "", fmt("s")),
    ("proxy_ratio", "proxy cost", fmt(".2f")),
    ("resolution", "proxy res", fmt("d")),
    ("upsample", "upsample", fmt(".2f")),
    ("growth_per_phi", "growth/phi", fmt(".3f")),
    ("contends", "contender", fmt("s")),
    ("val_acc", "val acc (mean ± std)", fmt("s")),
    ("n_seeds", "n", fmt("d")),
    ("n_failed", "failed", fmt("d")),
    ("test_acc", "test acc", fmt(".4f")),
]
STAGE_HEADINGS = {
    Stage.FINALIST: "finalists, on fresh seeds (the verdict uses these runs only):",
    Stage.REFINE: "refinement, at twice phi inside the winning class:",
    Stage.CONFIRM: "confirmation, on fresh seeds at twice phi (the refinement's best against the class's "
                   "representative):",
}


def run(args: argparse.Namespace) -> int:
    from scaling_search.search.search_driver import run_study

    definition = definition_from(args).named()
    outcome = run_study(definition, resume=getattr(args, "resume", False), log=progress,
                        ray_temp_dir=getattr(args, "ray_temp_dir", None))
    payload: dict[str, object] = {
        "study": outcome.study, "best": None if outcome.best is None else outcome.best.to_json(),
        "counts": outcome.counts, "failures": outcome.failures,
        "interrupted": outcome.interrupted, "trained": outcome.trained, "files": [str(path) for path in outcome.files],
    }
    emit(args, payload, summary(outcome, definition.study_dir()))
    return run_exit_code(outcome.interrupted, outcome.counts["complete"], resume_command(definition), "trial")


def resume_command(definition: StudyDefinition) -> str:
    """The command that continues this study, with where it is stored (a password shown as ***)."""
    words = ["scaling-search", "run", "--resume", "--study", definition.study or default_study_name(definition)]
    return shlex.join(words + location_words(definition.storage, definition.studies_dir))


def summary(outcome: StudyOutcome, folder: Path) -> str:
    """The ranked candidates, the trial counts, the failures and the best coefficients of a ``StudyOutcome``."""
    from scaling_search.reporting.wording import detail_note
    from scaling_search.search.results import contenders

    lines = [] if outcome.table.empty else [ranked_table(outcome.table)]
    if outcome.counts["complete"] == 0:
        lines.append(answer_lines.NO_TRIAL)
    for stage, table in outcome.stages.items():
        lines += ["", STAGE_HEADINGS[stage], ranked_table(table)]
    c = outcome.counts
    lines.append(f"\n{c['complete']} complete, {c['fail']} failed, {c['pruned']} stopped early, "
                 f"{c['waiting'] + c['running']} unfinished")
    for failure in outcome.failures:
        lines.append(f"  failed: {failure}")
    if outcome.best is not None:
        b = outcome.best
        lines += answer_lines.best_lines(alpha=b.alpha, beta=b.beta, gamma=b.gamma, score=b.score, n_seeds=b.n_seeds,
                                         decided_by=b.decided_by, measured_ratio=b.measured_ratio,
                                         cost_resolution=b.cost_resolution, plateau=dict(b.plateau.intervals()),
                                         representative=b.representative, growth_per_phi=b.growth_per_phi,
                                         proxy_ratio=b.proxy_ratio, resolution=b.resolution)
        for comparison in b.comparisons:
            lines.append(answer_lines.comparison_line(comparison.against, comparison.sentence))
        refined = b.refinement
        if not refined.ran and refined.reason is not None:
            lines.append(answer_lines.refinement_not_run(refined.reason))
        if refined.winner is not None and refined.confirmation is not None:
            compared = refined.confirmation.comparison
            lines += answer_lines.refinement_confirmation(refined.winner.candidate, refined.confirmation.outcome,
                                                          None if compared is None else compared.sentence())
        lines.append(f"wrote {folder}/results.csv, best.json, derived.json and configs/ (one file per derived member)")
    elif not outcome.table.empty:
        lines.append(answer_lines.NO_BEST)
    if not outcome.table.empty:
        upsamples = [float(value) for value in contenders(outcome.table)["upsample"] if value == value]  # NaN-safe
        note = detail_note(upsamples)
        if note is not None:
            lines.append(f"note: {note}")
    return "\n".join(lines)


def ranked_table(table: pd.DataFrame) -> str:
    """A stage's ranked candidates as a text table, with each row's plateau and its failed seeds."""
    from scaling_search.reporting.tables import ranked_rows
    from scaling_search.search.results import on_constraint

    shown = ranked_rows(table, plateau=answer_lines.plateau_cell)
    shown = shown.assign(contends=["yes" if on_constraint(flag) else "no" for flag in table["contender"]])
    rows = cast("list[Row]", shown.to_dict("records"))
    return render_table(rows, RANKED_COLUMNS)

"""How long the commands and operations take that the README and the docs promise a duration for.

The tests check what these produce, never how long they take (a shared CI machine's load decides
that); the durations are measured here instead, each beside its promise:

- ``commands``: the README's search (``scaling-search run --phi 1``, the built-in default, "under
  five minutes on a 2-core CPU"), ``validate`` of that study (10 minutes), the same search on
  ResNet-50 (``run --base resnet50 --phi 1``, sized to finish like B0's) and ``train --dataset
  synthetic --epochs 2 --json`` (a minute). Each runs as a user runs it, in a fresh folder with
  a fresh cache, one after another.
- ``operations``: the in-process work whose speed a user waits on, on the tests' own inputs:
  the slowest docstring example, rank fidelity of 10 candidates x 3 seeds (2,000 resamples), the
  verdict on 50,000 images x 3 seeds (variance components), the refinement of the paper's
  plateau at phi 2, ``run --resume`` and ``report`` of a finished 500-trial study, and a cached
  count against measuring it.

``--record docs/benchmarks.md`` adds the table, the command line and the machine (CPU model,
cores, torch) to that file's "Durations" section.

    PYTHONPATH=. python benchmarks/durations.py                       # everything: the commands take minutes
    PYTHONPATH=. python benchmarks/durations.py --only operations     # seconds
    PYTHONPATH=. python benchmarks/durations.py --only run validate --record docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Durations — `benchmarks/durations.py`"
COMMANDS = ("run", "validate", "resnet50", "train")
OPERATIONS = ("examples", "fidelity", "verdict", "refinement", "resume", "report", "cache")
DEFAULT_ONLY = ["commands", "operations"]


@dataclass(frozen=True)
class Row:
    """One measured duration beside the limit it is promised to stay under."""

    key: str
    what: str
    seconds: float
    limit_s: float
    promise: str

    @property
    def meets(self) -> bool:
        return self.seconds < self.limit_s


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", default=DEFAULT_ONLY, metavar="NAME",
                        choices=["commands", "operations", *COMMANDS, *OPERATIONS],
                        help=f"groups (commands, operations) or rows: {', '.join(COMMANDS + OPERATIONS)}")
    parser.add_argument("--record", type=Path, metavar="MARKDOWN",
                        help=f"add the table and the machine to this file's section '{SECTION}'")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args()


def selected(only: list[str]) -> list[str]:
    """The row keys ``--only`` names, in the order they run."""
    keys = set(only)
    keys |= set(COMMANDS) if "commands" in keys else set()
    keys |= set(OPERATIONS) if "operations" in keys else set()
    return [key for key in COMMANDS + OPERATIONS if key in keys]


# --------------------------------------------------------------------------- commands


def command_rows(keys: list[str]) -> list[Row]:
    """Time each selected command in a fresh folder with a fresh cache; ``validate`` validates ``run``'s study."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="durations-") as folder:
        work = Path(folder)
        env = dict(os.environ, PYTHONUNBUFFERED="1", RAY_USAGE_STATS_ENABLED="0",
                   SCALING_SEARCH_CACHE=str(work / "cache"))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))

        def timed_command(*argv: str) -> float:
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "scaling_search", *argv], cwd=work, env=env,
                                  capture_output=True, text=True)
            seconds = time.perf_counter() - start
            if proc.returncode != 0:
                raise SystemExit(f"scaling-search {' '.join(argv)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
            return seconds

        if "run" in keys or "validate" in keys:
            seconds = timed_command("run", "--phi", "1")
            if "run" in keys:
                rows.append(Row("run", "scaling-search run --phi 1", seconds, 300, "under five minutes (README)"))
        if "validate" in keys:
            rows.append(Row("validate", "scaling-search validate synthetic-phi1-grid",
                            timed_command("validate", "synthetic-phi1-grid"), 600, "under ten minutes"))
        if "resnet50" in keys:
            rows.append(Row("resnet50", "scaling-search run --base resnet50 --phi 1",
                            timed_command("run", "--base", "resnet50", "--phi", "1"), 300,
                            "under five minutes, like B0's"))
        if "train" in keys:
            rows.append(Row("train", "scaling-search train --dataset synthetic --epochs 2 --json",
                            timed_command("train", "--dataset", "synthetic", "--epochs", "2", "--json"), 60,
                            "under a minute"))
    return rows


# --------------------------------------------------------------------------- operations


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def slowest_example() -> Row:
    """Every docstring example in the package, as tests/test_api.py runs them; the slowest one is the row."""
    import doctest

    from tests.test_api import package_examples

    durations = {}
    for example in package_examples():
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        with contextlib.redirect_stdout(io.StringIO()):
            durations[example.name] = timed(partial(runner.run, example))
        if runner.summarize(verbose=False).failed:
            raise SystemExit(f"{example.name}'s example failed")
    name = max(durations, key=durations.__getitem__)
    short = name.removeprefix("scaling_search.")
    return Row("examples", f"slowest of {len(durations)} docstring examples ({short})", durations[name], 30,
               "under 30 s each")


def fidelity_row() -> Row:
    import numpy as np

    from scaling_search.stats.fidelity import rank_fidelity
    from tests.stats.test_fidelity import noisy_study

    proxy, long = noisy_study(np.random.default_rng(6), np.linspace(0.5, 0.6, 10), np.linspace(0.7, 0.8, 10), 0.01)
    rank_fidelity(proxy, long, resamples=20)  # imports and first calls out of the timing
    return Row("fidelity", "rank fidelity, 10 candidates x 3 seeds, 2,000 resamples",
               timed(lambda: rank_fidelity(proxy, long, resamples=2000)), 0.5, "well under two seconds")


def verdict_row() -> Row:
    import numpy as np

    from scaling_search.stats.comparison import compare_runs
    from tests.stats.test_verdict_stats import runs

    rng = np.random.default_rng(21)
    first, second = runs(rng, 0.80, range(3), 50_000), runs(rng, 0.79, range(3), 50_000)
    return Row("verdict", "a verdict (variance components, t interval), 50,000 images x 3 seeds",
               timed(lambda: compare_runs(first, second, "a", "b")), 3, "a few seconds")


def refinement_row() -> Row:
    from scaling_search.coefficients.plateaus import plateau, refinement_points
    from scaling_search.counting.analytic import analytic_counts
    from tests.coefficients.test_plateaus import PAPER, SPEC

    parent = plateau(SPEC, PAPER)
    return Row("refinement", "refinement of the paper's plateau at phi 2",
               timed(lambda: refinement_points(SPEC, parent, analytic_counts)), 5, "a few seconds")


def big_study_rows(keys: list[str], work: Path) -> list[Row]:
    """``run --resume`` and ``report`` of a finished 500-trial study (tests/reliability/test_load.py's)."""
    import optuna

    from scaling_search.cli import main
    from tests.reliability.test_load import big_study

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    definition = big_study(work, 500)
    where = ["--studies-dir", definition.studies_dir]

    def command(*argv: str) -> None:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            if main(list(argv)) != 0:
                raise SystemExit(f"scaling-search {' '.join(argv)} failed")

    rows = []
    if "resume" in keys:
        rows.append(Row("resume", "run --resume of a finished 500-trial study",
                        timed(lambda: command("run", "--resume", "--study", "big", *where, "--json")), 15,
                        "stays fast"))
    if "report" in keys:
        rows.append(Row("report", "report of a 500-trial study",
                        timed(lambda: command("report", "big", *where, "--out", str(work / "report"))), 10,
                        "stays fast"))
    return rows


def cache_row(work: Path) -> Row:
    from scaling_search.counting.measured import measured_counts
    from scaling_search.models.scaling import scale

    layout = scale(0.5, 0.5, 48, num_classes=10)
    measuring = timed(lambda: measured_counts(layout, work))
    cached = timed(lambda: measured_counts(layout, work))
    return Row("cache", f"counts read from the cache (measuring took {measuring:.2f} s)", cached, measuring / 5,
               "a fifth of measuring")


def operation_rows(keys: list[str]) -> list[Row]:
    """The operations run in this process, one thread as in the tests, with a private cache."""
    if not set(keys) & set(OPERATIONS):
        return []
    import torch

    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="durations-") as folder:
        work = Path(folder)
        os.environ["SCALING_SEARCH_CACHE"] = str(work / "cache")
        makers = {"examples": slowest_example, "fidelity": fidelity_row, "verdict": verdict_row,
                  "refinement": refinement_row}
        rows += [makers[key]() for key in keys if key in makers]
        if "resume" in keys or "report" in keys:
            (work / "big").mkdir()
            rows += big_study_rows(keys, work / "big")
        if "cache" in keys:
            rows.append(cache_row(work / "counts"))
    return rows


# --------------------------------------------------------------------------- output


def machine() -> str:
    """CPU model, cores, torch and Python: what a duration means depends on all four."""
    import torch

    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
        model = names[0] if names else model
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {usable} cores, torch {torch.__version__}, Python {platform.python_version()}"


def table(rows: list[Row]) -> str:
    width = max(len("what"), *(len(row.what) for row in rows))
    lines = [f"{'what':<{width}}  {'seconds':>8}  {'limit s':>8}  verdict",
             f"{'-' * width}  --------  --------  -------"]
    lines += [f"{row.what:<{width}}  {row.seconds:>8.2f}  {row.limit_s:>8.2f}  "
              f"{'meets' if row.meets else 'misses'} ({row.promise})" for row in rows]
    return "\n".join(lines)


def record(path: Path, rows: list[Row], only: list[str]) -> None:
    """Add the table under its machine at the end of ``SECTION`` in ``path`` (the section is added when missing)."""
    day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    command = " ".join(["PYTHONPATH=. python benchmarks/durations.py", *(["--only", *only] if only else [])])
    block = (f"### {machine()}, {day}\n\n```\n$ {command}\n"
             f"{table(rows)}\n```\n")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if SECTION + "\n" not in lines:
        lines += ["\n", SECTION + "\n"]
    start = lines.index(SECTION + "\n") + 1
    end = next((n for n in range(start, len(lines)) if lines[n].startswith("## ")), len(lines))
    while end > start and not lines[end - 1].strip():
        end -= 1
    lines[end:end] = ["\n", block] + (["\n"] if end < len(lines) and lines[end].strip() else [])
    path.write_text("".join(lines), encoding="utf-8")


def main() -> int:
    args = parse_args()
    keys = selected(args.only)
    rows = command_rows(keys) + operation_rows(keys)
    if args.json:
        print(json.dumps({"machine": machine(), "rows": [{**asdict(row), "meets": row.meets} for row in rows]},
                         indent=2))
    else:
        print(machine())
        print(table(rows))
    if args.record:
        record(args.record, rows, [] if args.only == DEFAULT_ONLY else args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())

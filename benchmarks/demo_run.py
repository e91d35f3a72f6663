"""The built-in demo as a user runs it: ``scaling-search run --phi 1`` in a fresh folder, timed, and what it learned.

The issue's promise for the demo (docs/proxy.md, "The built-in demo") is measured here, never asserted
in a test: about five minutes on a 2-core CPU, contenders holding at least two distinct γ with nothing
upsampled, and a best search-stage validation accuracy at least twice chance. The run's results.csv
gives the rest: per stage, the trials, the distinct γ (and trained resolutions) among the search's
rows, and the best validation accuracy against chance (1 / the classes of the demo's dataset).

The machine's load average is recorded beside the wall time: on a shared machine it decides the time.

    PYTHONPATH=. python benchmarks/demo_run.py                               # one run, printed
    PYTHONPATH=. python benchmarks/demo_run.py --record docs/benchmarks.md   # and its row added there
    PYTHONPATH=. python benchmarks/demo_run.py --keep /tmp/demo               # run there, and keep the study
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from durations import machine  # noqa: E402  (a sibling script, not a package)

SECTION = "## The built-in demo — `benchmarks/demo_run.py`"
STUDY = "synthetic-phi1-grid"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", type=Path, metavar="MARKDOWN", help="add the measurement to this file's section")
    parser.add_argument("--keep", type=Path, metavar="FOLDER", help="run in FOLDER (kept) instead of a temp folder")
    return parser.parse_args()


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def demo_run(folder: Path) -> dict[str, object]:
    """Run the demo in ``folder``; its wall time, the load around it, its header line and what results.csv holds."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", RAY_USAGE_STATS_ENABLED="0",
               SCALING_SEARCH_CACHE=str(folder / "cache"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    load_before = load_average()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "scaling_search", "run", "--phi", "1"], cwd=folder, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"scaling-search run --phi 1 failed ({proc.returncode}): {proc.stderr[-2000:]}")
    header = next((line for line in proc.stderr.splitlines() if line.startswith("Demo:")), None)
    return {"seconds": round(seconds, 1), "load_before": load_before, "load_after": load_average(), "header": header,
            **summary(folder)}


def summary(folder: Path) -> dict[str, object]:
    """What the demo's study in ``folder`` trained: trials per stage, the search's γ and resolutions, its best."""
    definition = (folder / "studies" / STUDY / "study.toml").read_text()
    found = re.search(r"^dataset = \"synthetic:(?:.*,)?classes=(\d+)", definition, re.M)
    classes = int(found.group(1)) if found else 10  # the synthetic task's default
    rows = pd.read_csv(folder / "studies" / STUDY / "results.csv")
    search = rows[(rows["stage"] == "search") & (rows["state"] == "COMPLETE")]
    contenders = search[search["contender"].astype(bool)] if "contender" in search else search
    upsample = contenders["upsample"].max() if "upsample" in contenders else None
    best = float(search["val_acc"].max())
    return {
        "trials": {str(stage): int(n) for stage, n in rows.groupby("stage").size().items()},
        "search_gammas": sorted(float(g) for g in contenders["gamma"].unique()),
        "search_resolutions": sorted(int(r) for r in contenders["resolution"].unique())
        if "resolution" in contenders else None,
        "max_upsample": None if upsample is None else float(upsample),
        "best_search_val_acc": round(best, 4), "chance": round(1 / classes, 4),
        "times_chance": round(best * classes, 2),
        "search_val_acc": {f"a{row.alpha:g}-b{row.beta:g}-g{row.gamma:g}@{row.resolution}px":
                           round(float(row.val_acc), 4) for row in search.itertuples()},
    }


def record(path: Path, result: dict[str, object]) -> None:
    """Add the measurement under its machine and date at the end of :data:`SECTION` in ``path``."""
    day = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = f"### {machine()}, {day}\n\n```\n$ PYTHONPATH=. python benchmarks/demo_run.py\n" \
            f"{json.dumps(result, indent=2)}\n```\n"
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
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        result = demo_run(args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="demo-run-") as folder:
            result = demo_run(Path(folder))
    print(machine())
    print(json.dumps(result, indent=2))
    if args.record:
        record(args.record, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

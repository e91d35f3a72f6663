"""What every command shares: errors that exit 2, tables for people, JSON and CSV for machines."""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from scaling_search.errors import InputError
from scaling_search.support.formatting import format_number


class UsageError(InputError):
    """A command line that cannot be parsed or whose flags contradict each other."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line as a single line, like every other error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


def finite_float(text: str) -> float:
    """A number flag's value: parsed here, its bounds checked by the library it goes to."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return value


def integer(text: str) -> int:
    """An integer flag's value: parsed here, its bounds checked by the library it goes to."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def positive_int(text: str) -> int:
    value = integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text!r}")
    return value


def path_arg(text: str) -> Path:
    """A path flag's value; an empty one is an error rather than the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return Path(text).expanduser()


def add_output_flags(parser: argparse.ArgumentParser, rows: bool = True) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true", help="print JSON instead of a table")
    if rows:
        group.add_argument("--csv", action="store_true", help="print CSV rows instead of a table")


Column = tuple[str, str, Callable[[Any], str]]
"""(key in the row, header, formatter)."""
Row = Mapping[str, object]
"""One row of a table or of CSV output: each column's key and value."""


def fmt(spec: str) -> Callable[[Any], str]:
    """A cell formatter from a format spec; None and NaN show as '-'."""

    def format_cell(value: Any) -> str:
        return format_number(value, spec)

    return format_cell


def render_table(rows: Sequence[Row], columns: Sequence[Column]) -> str:
    """Right-aligned columns with a header rule, as people read in a terminal."""
    cells = [[header for _, header, _ in columns]]
    cells += [[formatter(row.get(key)) for key, _, formatter in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)) for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def render_csv(rows: Sequence[Row]) -> str:
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in row.items()})
    return out.getvalue()


def emit(args: argparse.Namespace, payload: object, table: str, csv_rows: Sequence[Row] | None = None) -> None:
    """Print ``payload`` as JSON, ``csv_rows`` as CSV, or ``table`` for people, as the flags ask."""
    if getattr(args, "json", False):
        print(json.dumps(payload, indent=2))
    elif getattr(args, "csv", False) and csv_rows is not None:
        sys.stdout.write(render_csv(csv_rows))
    else:
        print(table)


def progress(message: str) -> None:
    """A progress line on stderr, so stdout stays clean for --json and --csv."""
    print(message, file=sys.stderr, flush=True)


def run_exit_code(interrupted: bool, complete: int, resume: str, runs: str) -> int:
    """How a training command ends: 130 with the resume command when interrupted, 1 when no ``runs`` completed."""
    if interrupted:
        progress(f"interrupted; continue with: {resume}")
        return 130
    if complete == 0:
        progress(f"scaling-search: no {runs} completed, so there is no result (the reasons are above)")
        return 1
    return 0


def location_words(storage: str | None, studies_dir: str) -> list[str]:
    """The flags that say where a study lives, for a command to repeat (a password shown as ***)."""
    from scaling_search.study.storage import redact

    if storage:
        return ["--storage", redact(storage)]
    return [] if studies_dir == "studies" else ["--studies-dir", studies_dir]

"""benchmarks/durations.py: its rows name their limits, and --record files the table under the machine."""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType

import pytest

from tests.test_benchmarks import ROOT, run


def durations_module() -> ModuleType:
    """The benchmark script as a module (benchmarks/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("durations", ROOT / "benchmarks" / "durations.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_groups_expand_to_their_rows_in_running_order():
    durations = durations_module()
    assert durations.selected(["operations"]) == list(durations.OPERATIONS)
    assert durations.selected(["report", "run"]) == ["run", "report"]
    assert durations.selected(durations.DEFAULT_ONLY) == list(durations.COMMANDS + durations.OPERATIONS)


def test_record_adds_each_table_at_the_end_of_its_section(tmp_path):
    durations = durations_module()
    page = tmp_path / "benchmarks.md"
    page.write_text(f"# Benchmarks\n\n{durations.SECTION}\n\nWhat it measures.\n\n## Later\n\nMore.\n")
    durations.record(page, [durations.Row("cache", "counts from the cache", 0.01, 0.1, "a fifth")], ["cache"])
    durations.record(page, [durations.Row("report", "a report", 12.0, 10.0, "stays fast")], [])
    text = page.read_text()
    section = text[text.index(durations.SECTION):text.index("## Later")]
    assert section.index("--only cache\n") < section.index("counts from the cache") < section.index("a report")
    assert section.count("### ") == 2 and section.endswith("```\n\n")
    assert "counts from the cache" in section and "misses (stays fast)" in section
    assert text.endswith("## Later\n\nMore.\n")
    missing = tmp_path / "other.md"
    missing.write_text("# Other\n")
    durations.record(missing, [durations.Row("train", "train", 30.0, 60.0, "under a minute")], ["train"])
    assert durations.SECTION in missing.read_text() and "meets (under a minute)" in missing.read_text()


@pytest.mark.slow
def test_quick_rows_run_and_report_their_limits():
    proc = run("benchmarks/durations.py", "--only", "fidelity", "verdict", "refinement", "cache", "--json",
               timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    payload = json.loads(proc.stdout)
    assert [row["key"] for row in payload["rows"]] == ["fidelity", "verdict", "refinement", "cache"]
    assert all(row["seconds"] >= 0 and row["limit_s"] > 0 for row in payload["rows"])
    assert "cores" in payload["machine"]


"""`flops`, `candidates` and `derive` from the command line: JSON keys, tables and bad input."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import cli_error, run_cli


def test_flops_json_keys(capsys):
    code, out, _ = run_cli(capsys, "flops", "--width", "1.1", "--depth", "1.2", "--resolution", "260", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"width", "depth", "resolution", "num_classes", "params", "macs", "activations", "stem",
                         "head", "channels", "repeats"}
    assert data["params"] == 9_109_994 and len(data["channels"]) == len(data["repeats"]) == 7
    assert data["repeats"] == [2, 3, 3, 4, 4, 5, 2]


def test_flops_table_by_default(capsys):
    code, out, _ = run_cli(capsys, "flops", "--model", "b0", "--counter", "analytic")
    assert code == 0 and "params 5,288,548" in out and "repeats" in out


def test_candidates_json_and_csv(capsys):
    code, out, _ = run_cli(capsys, "candidates", "--phi", "1", "--step", "0.05", "--counter", "analytic", "--json",
                           "--baselines")
    assert code == 0
    rows = json.loads(out)
    assert all(set(r) == {"alpha", "beta", "gamma", "phi", "nominal_ratio", "measured_ratio", "macs", "params",
                          "activations", "cost_resolution", "proxy_ratio", "resolution", "kind", "on_constraint",
                          "growth_per_phi", "growth_phi", "on_growth", "proxy_on_target", "contender", "cost_kind",
                          "macs_ratio", "activations_ratio", "latency_ratio", "latency_ms", "latency_iqr_ms",
                          "cost_device", "latency_note"}
               for r in rows)
    assert all(r["cost_kind"] == "macs" and r["measured_ratio"] == r["macs_ratio"] for r in rows)
    assert all(r["latency_ratio"] is None and r["cost_device"] is None for r in rows)  # counted, not timed
    kinds = {r["kind"] for r in rows}
    assert kinds == {"compound", "reference", "depth-only", "width-only", "resolution-only", "fast"}
    (reference,) = [r for r in rows if r["kind"] == "reference"]
    assert round(reference["nominal_ratio"], 2) == 1.92 and round(reference["measured_ratio"], 2) == 2.23
    assert reference["cost_resolution"] == 256 and reference["on_constraint"] is False
    code, out, _ = run_cli(capsys, "candidates", "--counter", "analytic", "--csv")
    parsed = list(csv.DictReader(io.StringIO(out)))
    assert parsed and "measured_ratio" in parsed[0]


@pytest.mark.slow  # measures every network with fvcore
def test_candidates_at_a_32_px_proxy_list_gamma_but_say_it_cannot_be_searched(capsys):
    """Issue #12: measured at the 32 px proxy, every kept point had gamma = 1; the cost scale lists gamma > 1 again.
    Issue #21: but none of those trains with the target compute at 32 px, and the command says so."""
    code, out, err = run_cli(capsys, "candidates", "--phi", "1", "--base-resolution", "32", "--json")
    rows = [r for r in json.loads(out) if r["kind"] == "compound"]
    assert code == 0 and len({r["gamma"] for r in rows if r["gamma"] > 1 and r["on_constraint"]}) >= 3
    assert all(abs(r["measured_ratio"] - 2) <= 0.1 for r in rows if r["on_constraint"])
    assert {r["resolution"] for r in rows if r["contender"]} == {32}
    assert "resolution cannot be searched at this proxy: every contender trains at 32 px" in err


def test_candidates_table_shows_both_ratios(capsys):
    code, out, _ = run_cli(capsys, "candidates", "--counter", "analytic", "--constraint", "nominal")
    assert code == 0 and "nominal" in out and "measured" in out and "reference" in out


def test_derive_json(capsys):
    code, out, _ = run_cli(capsys, "derive", "--alpha", "1.2", "--beta", "1.1", "--gamma", "1.15", "--phis", "0-7",
                           "--counter", "analytic", "--json")
    assert code == 0
    data = json.loads(out)
    assert [r["name"] for r in data["derived"]] == [f"phi{i}" for i in range(8)]
    assert [r["name"] for r in data["released"]] == [f"b{i}" for i in range(8)]
    assert [r["dropout"] for r in data["derived"]] == [0.2, 0.3, 0.3, 0.4, 0.4, 0.4, 0.5, 0.5]  # nearest in MACs
    assert [r["source"] for r in data["released"]] == ["released"] * 8
    for row in data["derived"] + data["released"]:
        assert {"name", "phi", "width", "depth", "resolution", "dropout", "params", "macs", "macs_ratio"} <= set(row)
    assert data["released"][7]["params"] == 66_347_960


def test_derive_table_labels_and_explains(capsys):
    code, out, _ = run_cli(capsys, "derive", "--phis", "0,1", "--counter", "analytic")
    assert code == 0 and "derived" in out and "released" in out and "no single" in out
    assert "phi1" in out and "nearest in cost" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["candidates", "--phi", "abc"],
        ["candidates", "--phi", "0"],
        ["candidates", "--step", "0"],
        ["candidates", "--step", "-0.1"],
        ["candidates", "--alpha-range", "2:1"],
        ["candidates", "--alpha-range", "1"],
        ["candidates", "--counter", "analytic", "--alpha-range", "1:1", "--beta-range", "1:1", "--gamma-range",
         "1:1.05", "--tolerance", "0.01"],
        ["flops", "--resolution", "0"],
        ["flops", "--width", "nan"],
        ["flops", "--model", "b9"],
        ["flops", "--model", "b1", "--width", "2"],
        ["derive", "--phis", "7-0"],
        ["derive", "--alpha", "-1"],
        ["derive", "--alpha", "0.5", "--counter", "analytic"],  # coefficients are >= 1
        ["flops", "--bogus"],
        ["nonsense"],
        # too large to build, count or enumerate: refused at once instead of hanging or running out of memory
        ["flops", "--depth", "1000"],
        ["flops", "--width", "1e308"],
        ["flops", "--resolution", "100000"],
        ["flops", "--num-classes", "1000000000"],
        ["derive", "--phis", "50", "--counter", "analytic"],
        ["derive", "--alpha", "1e300", "--counter", "analytic"],
        ["candidates", "--phi", "30", "--counter", "analytic"],
        ["candidates", "--step", "1e-300"],
        ["candidates", "--alpha-range", "1:1e308", "--step", "1e300"],
        ["flops", "--debug"],
        ["flops", "--model", ""],  # --debug belongs before the command: a usage error, not a traceback
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, argv):
    cli_error(capsys, *argv)


def test_console_script_entry_point_exits_2_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "scaling_search", "candidates", "--step", "0"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "step" in proc.stderr and "Traceback" not in proc.stderr


def test_unusable_cache_is_one_warning_line_not_an_error(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder would go")
    env = {**os.environ, "SCALING_SEARCH_CACHE": str(blocker), "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.run([sys.executable, "-m", "scaling_search", "flops", "--width", "1.13", "--json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and json.loads(proc.stdout)["params"] > 0
    assert proc.stderr.strip().splitlines() == [
        f"scaling-search: warning: could not cache counts in {blocker / 'counts'} (set SCALING_SEARCH_CACHE to "
        "move the cache): Not a directory"
    ]

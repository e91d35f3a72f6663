"""`scaling-search flops --cost latency`: a median with its spread and settings, cached, and the flags' checks.

The network is the CPU demo's base at 32 px, timed for real (a second or two); only the shape of
the output is checked, never how long anything took.
"""

from __future__ import annotations

import json

import pytest

from scaling_search.cli import main
from scaling_search.cli.flags import LATENCY_FLAGS, LATENCY_PROCESSES
from tests.cli_helpers import cli_error, run_cli

pytestmark = pytest.mark.filterwarnings("ignore:the latency is known only to")  # a busy test machine

TINY = ("flops", "--base", "efficientnet_demo", "--resolution", "32", "--num-classes", "10", "--counter", "analytic")
IN_PROCESS = ("--latency-processes", "1")  # fresh processes cost seconds each: the slow test below spawns them
LATENCY_KEYS = {"latency_ms", "latency_low_ms", "latency_high_ms", "latency_iqr_ms", "latency_processes",
                "latency_rounds", "latency_blocks", "latency_pinned", "peak_memory_bytes", "cost_kind", "cost_device",
                "latency_settings", "torch_version", "from_cache"}


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SCALING_SEARCH_CACHE", str(tmp_path))
    return tmp_path


def test_latency_is_measured_then_served_from_the_cache_then_measured_again(capsys, own_cache):
    code, out, _ = run_cli(capsys, *TINY, "--cost", "latency", "--cost-device", "cpu", *IN_PROCESS, "--json")
    assert code == 0
    first = json.loads(out)
    assert set(first) >= LATENCY_KEYS
    assert first["cost_kind"] == "latency" and first["from_cache"] is False and first["peak_memory_bytes"] is None
    assert first["latency_low_ms"] <= first["latency_ms"] <= first["latency_high_ms"]
    assert first["latency_settings"] == {"device": "cpu", "batch_size": 1, "dtype": "float32", "threads": 1,
                                         "channels_last": False, "compile": False, "mode": "inference"}
    assert 6 <= first["latency_rounds"] <= 40 and first["latency_blocks"] == 5 * first["latency_rounds"]
    assert first["params"] > 0  # the counts are still there

    code, out, _ = run_cli(capsys, *TINY, "--cost", "latency", *IN_PROCESS, "--json")
    cached = json.loads(out)
    assert code == 0 and cached["from_cache"] is True
    assert {key: cached[key] for key in LATENCY_KEYS - {"from_cache"}} == \
        {key: first[key] for key in LATENCY_KEYS - {"from_cache"}}

    code, out, _ = run_cli(capsys, *TINY, "--cost", "latency", "--no-latency-cache", *IN_PROCESS, "--json")
    fresh = json.loads(out)
    assert code == 0 and fresh["from_cache"] is False and fresh["cost_device"] == first["cost_device"]
    assert len(list((own_cache / "latency").iterdir())) == 1  # the fresh blocks replaced the cached ones


def test_latency_table_says_what_was_measured_and_how(capsys, own_cache):
    code, out, err = run_cli(capsys, *TINY, "--cost", "latency", "--latency-mode", "train", "--latency-batch-size",
                             "2", "--latency-channels-last", *IN_PROCESS)
    assert code == 0
    assert "ms per call (median of" in out and "IQR" in out
    assert "cpu, batch 2, float32, 1 thread, channels-last, train" in out and "measured now" in out
    assert "stage" in out  # the layout table follows
    assert all(line.startswith(("scaling-search: warning: the latency is known only to", "measuring latency:"))
               for line in err.splitlines())


def test_activations_as_the_cost_is_named_and_measures_nothing(capsys):
    code, out, _ = run_cli(capsys, *TINY, "--cost", "activations", "--json")
    data = json.loads(out)
    assert code == 0 and data["cost_kind"] == "activations" and "latency_ms" not in data


@pytest.mark.parametrize(("argv", "message"), [
    (["--cost-device", "cuda"], "--cost-device apply only with --cost latency"),
    (["--cost", "macs", "--latency-compile", "--no-latency-cache"],
     "--latency-compile, --no-latency-cache apply only with --cost"),
    (["--cost", "latency", "--cost-device", "gpu"], "latency device must be cpu, cuda or cuda:N, got 'gpu'"),
    (["--cost", "latency", "--cost-device", "cuda:99"], "latency device cuda:99: this machine has"),
    (["--cost", "latency", "--latency-dtype", "float16"], "latency dtype float16 runs only on CUDA"),
    (["--cost", "latency", "--latency-threads", "0"], "latency threads must be an integer in [1, "),
    (["--cost", "latency", "--latency-mode", "train"], "latency mode train needs a batch size of 2 or more"),
    (["--cost", "time"], "argument --cost: invalid choice: 'time'"),
    (["--latency-processes", "6"], "--latency-processes apply only with --cost latency"),
    (["--cost", "latency", "--latency-processes", "3"],
     "latency processes must be 1 (this process) or 6 to 100 (a 95 % interval needs 6), got 3"),
])
def test_bad_latency_flags_are_one_line(capsys, argv, message):
    assert message in cli_error(capsys, *TINY, *argv)


def test_every_latency_flag_is_in_the_help(capsys):
    with pytest.raises(SystemExit):
        main(["flops", "--help"])
    text = capsys.readouterr().out
    assert all(flag.name in text for flag in (*LATENCY_FLAGS, LATENCY_PROCESSES))
    assert "scaling-search flops --model b0 --cost latency --cost-device cpu --json" in text
    assert "from_cache" in text and "interquartile range" in text


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_by_default_latency_is_the_median_of_six_fresh_processes(capsys, own_cache):
    code, out, _ = run_cli(capsys, *TINY, "--cost", "latency", "--json")
    first = json.loads(out)
    assert code == 0 and first["latency_processes"] == 6 and first["latency_rounds"] == 36
    assert first["latency_low_ms"] <= first["latency_ms"] <= first["latency_high_ms"] and not first["from_cache"]
    code, out, _ = run_cli(capsys, *TINY, "--cost", "latency", "--json")
    again = json.loads(out)
    assert again["from_cache"] and again["latency_ms"] == first["latency_ms"]

"""The benchmarks run on CPU and print what they promise; `train --json` on the built-in data gives every key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def run(*argv: str, timeout: float) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=env)


def test_proxy_throughput_cpu_prints_the_ratio():
    pytest.importorskip("timm")
    proc = run("benchmarks/proxy_throughput.py", "--device", "cpu", "--resolutions", "32", "--batch", "8",
               "--steps", "2", "--repeats", "1", "--threads", "2", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ours/timm" in proc.stdout
    row = next(line for line in proc.stdout.splitlines() if line.strip().startswith("32"))
    assert float(row.split()[6]) > 0


def test_data_pipeline_cpu_prints_the_ratio():
    proc = run("benchmarks/data_pipeline.py", "--device", "cpu", "--resolutions", "16", "48", "--batch", "16",
               "--images", "64", "--batches", "2", "--repeats", "1", "--workers", "0", "--threads", "1", "--json",
               timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    payload = json.loads(proc.stdout)
    assert [row["resolution"] for row in payload["rows"]] == [16, 48]
    assert all(row["ours"] > 0 and row["torchvision"] > 0 for row in payload["rows"])
    assert all(row["ratio"] == row["ours"] / row["torchvision"] for row in payload["rows"])


def test_search_throughput_cpu_runs():
    proc = run("benchmarks/search_throughput.py", "--device", "cpu", "--concurrency", "1", "2", "--epochs", "1",
               "--dataset", "synthetic:classes=4,train=200,test=40", "--resolution", "32", "--batch-size", "16",
               "--threads", "1", "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(proc.stdout)
    assert [r["runs"] for r in rows] == [1, 2] and rows[0]["ratio"] == 1.0
    assert all(r["aggregate_img_per_s"] > 0 for r in rows)


def test_train_synthetic_two_epochs_json():
    proc = run("-m", "scaling_search", "train", "--dataset", "synthetic", "--epochs", "2", "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert {"status", "val_acc", "best_val_acc", "test_acc", "epochs", "wall_s", "img_per_s", "peak_mem_mb",
            "params", "macs", "resolution"} <= set(result)
    assert result["status"] == "ok" and result["epochs"] == 2


def test_counting_throughput_checks_counts_and_prints_the_ratio():
    proc = run("benchmarks/counting_throughput.py", "--networks", "3", "--resolution", "32", "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    payload = json.loads(proc.stdout)
    assert payload["networks"] == 3 and [row["method"] for row in payload["rows"]][:2] == ["fvcore, usual",
                                                                                           "ours, 1 process"]
    assert all(row["networks_per_s"] > 0 for row in payload["rows"]) and payload["rows"][0]["ratio"] == 1.0


def test_latency_agreement_prints_each_way_and_its_agreement():
    proc = run("benchmarks/latency_agreement.py", "--base", "efficientnet_demo", "--resolution", "32", "--calls", "2",
               "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(proc.stdout)
    assert len(rows) == 3 and any(name.startswith("torch.utils.benchmark") for name in rows)
    for row in rows.values():
        assert len(row["calls"]) == 2 and row["spread"] >= 1.0
        assert row["agree"] in ("0 of 1", "1 of 1") and row["inside"] in ("0 of 1", "1 of 1")
        assert all(low <= median <= high for median, low, high in row["calls"])

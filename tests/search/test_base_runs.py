"""A search of another base network, end to end on CPU: sized to the base's cost, it finishes like B0's default."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from tests.search_helpers import cli, cli_env

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@pytest.mark.slow
@pytest.mark.timeout(1200)  # a hang guard only: about four times what the run takes on an idle 2-core machine
def test_resnet50_default_run(tmp_path):
    """ResNet-50 costs ~10x B0's MACs per image, so its CPU study trains 1 epoch of 203 images, not 2 of 1,000."""
    proc = subprocess.run(cli("run", "--base", "resnet50", "--phi", "1"), cwd=tmp_path, capture_output=True,
                          text=True, env=cli_env(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    folder = tmp_path / "studies" / "synthetic-resnet50-phi1-grid"
    best = json.loads((folder / "best.json").read_text())
    assert best["base"] == "resnet50" and best["kind"] == "compound" and best["decided_by"] == "finalists"
    definition = tomllib.loads((folder / "study.toml").read_text())
    assert definition["base"] == "resnet50" and (definition["epochs"], definition["max_train_images"]) == (1, 203)
    trained = list(csv.DictReader((folder / "results.csv").read_text().splitlines()))
    assert trained and not any(row["kind"] == "reference" for row in trained)  # the paper's point is B0's
    derived = json.loads((folder / "derived.json").read_text())
    assert derived["released"] == [] and {row["layout"]["base"] for row in derived["derived"]} == {"resnet50"}

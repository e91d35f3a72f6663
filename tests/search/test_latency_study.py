"""A study held to latency: timed before training, its trials and best.json naming the cost and the device."""

from __future__ import annotations

import json

import pytest

from scaling_search.cli import main
from scaling_search.coefficients.latency_grid import LatencyTiming
from scaling_search.counting.analytic import analytic_counts
from scaling_search.errors import InputError
from scaling_search.search import search_plan
from scaling_search.search.search_driver import run_study
from scaling_search.study.definition import StudyDefinition
from tests.search_helpers import fake_trainable, load, tiny_definition

LATENCY_ATTRS = {"latency_ratio", "latency_ms", "latency_iqr_ms", "cost_device", "latency_note"}


def device_time(layout, settings, blocks):
    """A device whose time per call follows activations more than MACs, steady to 0.2 %."""
    counts = analytic_counts(layout)
    ms = 1e-5 * counts.macs**0.3 * counts.activations**0.7
    return [ms * (1 + 0.002 * (i % 3)) for i in range(blocks)]


def test_a_latency_study_needs_the_grid_and_no_refinement():
    with pytest.raises(InputError, match="latency study searches the grid"):
        StudyDefinition(cost="latency", strategy="tpe", seeds=1)
    with pytest.raises(InputError, match="does not refine yet"):
        StudyDefinition(cost="latency", refine=True)
    with pytest.raises(InputError, match="rule for MACs"):
        StudyDefinition(cost="latency", constraint="nominal")
    with pytest.raises(InputError, match="latency device must be cpu, cuda or cuda:N"):
        StudyDefinition(cost="latency", cost_device="tpu")
    StudyDefinition(cost="macs", cost_device="tpu")  # how latency would be timed matters only when it is the cost


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_latency_study_end_to_end(tmp_path, ray_dir, monkeypatch):
    monkeypatch.setattr(search_plan, "LatencyTiming",
                        lambda settings: LatencyTiming(settings, tmp_path / "latency", timer=device_time))
    definition = tiny_definition(tmp_path, cost="latency", constraint="measured", base_resolution=224,
                                 tolerance=0.1, finalists=0)
    outcome = run_study(definition, ray_temp_dir=ray_dir, trainable=fake_trainable())
    trials = load(definition).get_trials()
    assert trials and all(set(t.user_attrs) >= LATENCY_ATTRS for t in trials)
    for trial in trials:
        attrs = trial.user_attrs
        assert attrs["measured_ratio"] == pytest.approx(attrs["latency_ratio"]) and attrs["cost_device"]
    best = json.loads((tmp_path / "studies" / "tiny" / "best.json").read_text())
    assert best["cost_kind"] == "latency" and best["cost_device"] == trials[0].user_attrs["cost_device"]
    assert "latency" in best["representative"]
    assert outcome.best is not None and outcome.best.cost_kind == "latency"
    out = tmp_path / "report"
    assert main(["report", "tiny", "--studies-dir", definition.studies_dir, "--out", str(out)]) == 0
    assert all((out / "figures" / f"accuracy_vs_{cost}.png").exists() for cost in ("macs", "activations", "latency"))
    index = (out / "index.md").read_text()
    assert f"timed on {best['cost_device']}" in index and "accuracy_vs_latency.png" in index
    assert "## Under latency and under MACs" in index and (out / "latency_vs_macs.csv").exists()
    beside = (out / "latency_vs_macs.csv").read_text().splitlines()
    assert beside[0].startswith("picked_by,alpha,beta,gamma,latency_ratio,macs_ratio")
    assert beside[1].startswith("latency")

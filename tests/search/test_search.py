"""The search end to end on a local Ray: study contents, exports and failures.

Resume after SIGKILL through the command line is `tests/search/test_stages_e2e.py` (killed in the refinement stage)
and, at every moment of a search, `tests/reliability/test_faults.py`.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess

import pytest
from optuna.trial import TrialState

from scaling_search.search.search_driver import run_study
from tests.search_helpers import cli_env, load, run_argv, tiny_definition

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

TRIAL_ATTRS = {"macs", "measured_ratio", "params", "activations", "resolution", "wall_s", "img_per_s", "test_acc",
               "status", "reason", "key", "candidate", "kind"}


def test_end_to_end_study_and_exports(tmp_path, ray_dir, capsys):
    definition = tiny_definition(tmp_path, seeds=1)
    outcome = run_study(definition, ray_temp_dir=ray_dir)
    study = load(definition)
    trials = study.get_trials()
    assert outcome.counts["complete"] == len(trials) == 4  # 3 spread candidates + the paper's point
    keys = [t.user_attrs["key"] for t in trials]
    assert len(set(keys)) == len(keys)
    assert any(t.user_attrs["kind"] == "reference" for t in trials)
    assert study.user_attrs["train_images"] == 216  # 240 less the validation split: the report's step count
    for trial in trials:
        assert trial.state == TrialState.COMPLETE
        assert set(trial.user_attrs) >= TRIAL_ATTRS
        assert {"alpha", "beta", "gamma", "seed"} == set(trial.params)
        assert trial.user_attrs["status"] == "ok" and trial.user_attrs["reason"] is None
        assert 0.0 <= trial.value <= 1.0
        assert trial.intermediate_values == {1: pytest.approx(trial.value)}
    folder = tmp_path / "studies" / "tiny"
    rows = list(csv.DictReader((folder / "results.csv").read_text().splitlines()))
    assert sorted(int(r["number"]) for r in rows) == sorted(t.number for t in trials)
    by_number = {t.number: t for t in trials}
    for row in rows:
        assert float(row["val_acc"]) == pytest.approx(by_number[int(row["number"])].value)
    best = json.loads((folder / "best.json").read_text())
    top_value = max(t.value for t in trials)
    assert best["score"] == pytest.approx(top_value)
    tied = {(t.params["alpha"], t.params["beta"], t.params["gamma"]) for t in trials if t.value == top_value}
    trained = best["trained"]
    assert (trained["alpha"], trained["beta"], trained["gamma"]) in tied
    for name in ("alpha", "beta", "gamma"):  # exported: the midpoint of the winner's plateau, which holds both
        low, high = best["plateau"][name]
        assert low <= trained[name] <= high and best[name] == pytest.approx((low + high) / 2, abs=1e-4)
    assert {"alpha", "beta", "gamma", "phi", "score", "score_std", "n_seeds", "measured_ratio"} <= set(best)
    derived = json.loads((folder / "derived.json").read_text())
    assert [m["name"] for m in derived["derived"]] == [f"phi{i}" for i in range(8)]
    assert derived["plateau"] == best["plateau"]  # how far phi 7 moves across the plateau the export stands for
    low, high = best["plateau"]["alpha"]
    assert derived["plateau_spread"][7]["phi"] == 7
    assert derived["plateau_spread"][7]["depth"] == pytest.approx([low**7, high**7], abs=1e-3)
    assert (folder / "configs" / "phi3.json").exists() and (folder / "study.toml").exists()
    # Each derived config trains with `scaling-search train --config`: phi1 is at the cost scale (~290 px), so a
    # few images of the tiny task (training one batch of them) show that as well as the whole task would.
    from scaling_search.cli import main

    assert main(["train", "--config", str(folder / "configs" / "phi1.json"), "--dataset",
                 "synthetic:classes=4,train=40,test=8", "--train-images", "16", "--epochs", "1", "--batch-size", "16",
                 "--device", "cpu", "--json"]) == 0
    trained = json.loads(capsys.readouterr().out)
    assert trained["status"] == "ok" and trained["resolution"] == derived["derived"][1]["resolution"]

    # Running the finished study again trains nothing and reports the same result.
    again = run_study(definition, ray_temp_dir=ray_dir)
    assert not again.trained and again.best == outcome.best
    assert len(load(definition).get_trials()) == 4


def test_failed_and_diverged_trials_are_fail_with_reasons(tmp_path, ray_dir):
    from dataclasses import replace

    def flaky(config, data, settings):
        from scaling_search.execution.trainable import run_trial

        if config["number"] == 1:
            config = dict(config, layout={"not": "a layout"})  # building the candidate raises
        if config["number"] == 2:
            settings = replace(settings, recipe=replace(settings.recipe, lr_per_256=1e9))  # diverges
        run_trial(config, data, settings)

    definition = tiny_definition(tmp_path, study="flaky")
    outcome = run_study(definition, ray_temp_dir=ray_dir, trainable=flaky)
    trials = {t.number: t for t in load(definition).get_trials()}
    assert trials[1].state == TrialState.FAIL and trials[1].user_attrs["status"] == "failed"
    assert "layout" in trials[1].user_attrs["reason"]
    assert trials[2].state == TrialState.FAIL and trials[2].user_attrs["status"] == "diverged"
    assert trials[2].user_attrs["reason"]
    others = [t for n, t in trials.items() if n not in (1, 2)]
    assert others and all(t.state == TrialState.COMPLETE for t in others)
    assert outcome.counts["fail"] == 2 and len(outcome.failures) == 2
    assert any("diverged" in f for f in outcome.failures) and any("failed" in f for f in outcome.failures)
    for trial in trials.values():
        for value in trial.intermediate_values.values():
            assert math.isfinite(value)


def test_cli_run_failure_summary_exit_1_when_nothing_completed(tmp_path, ray_dir):
    """The command line reports failed trials by name, and exits 1 when no trial completed."""
    definition = tiny_definition(tmp_path, study="lr", max_candidates=1, lr=1e9)
    proc = subprocess.run(run_argv(definition, "--ray-temp-dir", ray_dir), capture_output=True, text=True,
                          timeout=300, env=cli_env(tmp_path))
    assert proc.returncode == 1, proc.stderr
    assert "failed: " in proc.stdout and "diverged" in proc.stdout
    assert "no trial completed" in proc.stdout and "no trial completed, so there is no result" in proc.stderr

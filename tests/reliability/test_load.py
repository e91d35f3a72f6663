"""Load: many concurrent trials on one local Ray, and a 500-trial study that still reports and resumes fast."""

from __future__ import annotations

import json
import time
from pathlib import Path

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from scaling_search.cli import main
from scaling_search.search.definition import StudyDefinition
from scaling_search.search.runner import run_study
from scaling_search.search.sizing import resolve_for_device
from tests.search_helpers import load, tiny_definition

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_sixteen_concurrent_trials_lose_no_record(tmp_path, ray_dir):
    spans = tmp_path / "spans"
    spans.mkdir()

    def light(config, data, settings):
        """A stand-in for training: hold the slot 40 s (worker start-up is slow on 2 cores), log when it ran."""
        import json as json_
        import time as time_

        from ray import tune

        from scaling_search.search.trainable import PROXY_RESULT

        start = time_.time()
        value = round(0.5 + config["number"] / 1000, 4)
        for epoch in (1, 2):
            time_.sleep(20)
            tune.report({"epoch": epoch, "val_acc": value, "train_loss": 1.0})
        (spans / f"{config['number']}.json").write_text(json_.dumps([start, time_.time()]))
        result = {"status": "ok", "reason": None, "val_acc": value, "test_acc": value, "epochs": 2, "wall_s": 40.0}
        tune.report({"epoch": 2, PROXY_RESULT: json_.dumps(result)})

    definition = tiny_definition(tmp_path, study="load", max_candidates=20, step=0.05, cpus_per_trial=0.1)
    outcome = run_study(definition, ray_temp_dir=ray_dir, trainable=light)
    trials = load(definition).get_trials()
    assert len(trials) == 21 and outcome.counts["complete"] == 21
    assert all(t.value == round(0.5 + t.number / 1000, 4) for t in trials)
    assert all(t.intermediate_values == {1: t.value, 2: t.value} for t in trials)
    intervals = [json.loads(p.read_text()) for p in spans.iterdir()]
    assert len(intervals) == 21
    peak = max(sum(start <= moment < end for start, end in intervals) for moment, _ in intervals)
    assert peak >= 16, f"only {peak} trials ran at once"


def big_study(tmp_path: Path, trials: int) -> StudyDefinition:
    definition = resolve_for_device(StudyDefinition(study="big", studies_dir=str(tmp_path / "studies")), gpus=0)
    (tmp_path / "studies").mkdir()
    study = optuna.create_study(study_name="big", storage=definition.storage_url(), direction="maximize")
    study.set_user_attr("definition", definition.to_dict())
    study.set_user_attr("num_classes", 10)
    space = {"alpha": FloatDistribution(1, 2), "beta": FloatDistribution(1, 1.5), "gamma": FloatDistribution(1, 1.5),
             "seed": IntDistribution(0, 4)}
    batch = []
    for number in range(trials):
        candidate, seed = divmod(number, 5)
        alpha = round(1 + candidate / 100, 2)
        batch.append(create_trial(
            params={"alpha": alpha, "beta": 1.1, "gamma": 1.15, "seed": seed}, distributions=space,
            value=0.5 + (candidate % 13) / 100 + seed / 1000, state=TrialState.COMPLETE,
            intermediate_values={1: 0.4, 2: 0.5},
            user_attrs={"key": f"a{alpha}/seed{seed}", "candidate": f"a{alpha}", "kind": "compound",
                        "macs": 10_000_000, "measured_ratio": 2.0, "nominal_ratio": 1.9, "params": 5_000_000,
                        "activations": 100_000, "resolution": 37, "test_acc": 0.5, "wall_s": 30.0,
                        "status": "ok", "reason": None}))
    study.add_trials(batch)
    return definition


def test_500_trials_resume_and_report_stay_fast(tmp_path, capsys):
    definition = big_study(tmp_path, 500)
    start = time.perf_counter()
    assert main(["run", "--resume", "--study", "big", "--studies-dir", definition.studies_dir, "--json"]) == 0
    resume_s = time.perf_counter() - start
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["trained"] is False and outcome["counts"]["complete"] == 500
    assert len((Path(definition.studies_dir) / "big" / "results.csv").read_text().splitlines()) == 501
    start = time.perf_counter()
    assert main(["report", "big", "--studies-dir", definition.studies_dir, "--out", str(tmp_path / "r")]) == 0
    report_s = time.perf_counter() - start
    print(f"500 trials: resume of the finished study {resume_s:.1f} s, report {report_s:.1f} s")
    assert resume_s < 15 and report_s < 10

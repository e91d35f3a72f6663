"""Load: many concurrent trials on one local Ray, and a 500-trial study that still reports and resumes fast."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from scaling_search.cli import main
from scaling_search.search.search_driver import run_study
from scaling_search.study.definition import StudyDefinition
from scaling_search.study.schema import stamp
from scaling_search.study.sizing import resolve_for_device
from tests.search_helpers import fake_trainable, load, read_attempts, tiny_definition

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_sixteen_concurrent_trials_lose_no_record(tmp_path, ray_dir):
    """21 trials on one local Ray, at least 16 at once, all reporting together: every report reaches the study.

    The trials do not train (fake_trainable): each holds its slot until 16 trials have started (worker
    start-up is slow on 2 cores, so no fixed hold would be long enough), then reports two epochs. The hold
    ends after 240 s whatever happens, so a Ray that runs fewer than 16 at once fails the peak check below.
    """
    attempts = tmp_path / "attempts.jsonl"

    def sixteen_started() -> bool:
        return attempts.read_text().count('"event": "start"') >= 16

    # 21 trials as 7 candidates x 3 seeds of the grid every search test measures (cached): 21 candidates needed a
    # finer grid (step 0.05), whose costs alone took ~50 s more to measure on 2 cores.
    definition = tiny_definition(tmp_path, study="load", max_candidates=6, seeds=3, cpus_per_trial=0.1,
                                 tolerance=0.1)  # 7 networks contend at 16 px within 10 %: 6 spread and the paper's
    trainable = fake_trainable(epochs=2, attempts=attempts, hold_until=sixteen_started, hold_s=240)
    outcome = run_study(definition, ray_temp_dir=ray_dir, trainable=trainable)
    trials = load(definition).get_trials()
    assert len(trials) == 21 and outcome.counts["complete"] == 21
    assert all(t.value == round(0.5 + t.number / 1000, 4) for t in trials)
    assert all(t.intermediate_values == {1: t.value, 2: t.value} for t in trials)
    events = read_attempts(attempts)
    spans = {a["number"]: [a["time"]] for a in events if a["event"] == "start"}
    for a in events:
        if a["event"] == "end":
            spans[a["number"]].append(a["time"])
    intervals = list(spans.values())
    assert len(intervals) == 21 and all(len(span) == 2 for span in intervals)
    peak = max(sum(start <= moment < end for start, end in intervals) for moment, _ in intervals)
    assert peak >= 16, f"only {peak} trials ran at once"


def big_study(tmp_path: Path, trials: int) -> StudyDefinition:
    definition = resolve_for_device(StudyDefinition(study="big", studies_dir=str(tmp_path / "studies"),
                                                    base_resolution=32), gpus=0)
    (tmp_path / "studies").mkdir()
    study = optuna.create_study(study_name="big", storage=definition.storage_url(), direction="maximize")
    study.set_user_attr("definition", definition.to_dict())
    stamp(study)  # as scaling-search run stores a study: this version's schema
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


def test_500_trials_resume_and_report(tmp_path, capsys):
    definition = big_study(tmp_path, 500)
    assert main(["run", "--resume", "--study", "big", "--studies-dir", definition.studies_dir, "--json"]) == 0
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["trained"] is False and outcome["counts"]["complete"] == 500
    assert len((Path(definition.studies_dir) / "big" / "results.csv").read_text().splitlines()) == 501
    assert main(["report", "big", "--studies-dir", definition.studies_dir, "--out", str(tmp_path / "r")]) == 0

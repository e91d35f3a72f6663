"""`scaling-search export --study`: the study's best family, as its configs/ hold it, with the latency it timed."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import optuna
import torch
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import create_trial

from scaling_search.execution.session import study_classes, study_definition
from scaling_search.handoff.members import load_member
from scaling_search.handoff.sources import study_source
from scaling_search.search.answer import study_answer
from scaling_search.search.export import write_family
from scaling_search.study.definition import StudyDefinition
from scaling_search.study.schema import stamp
from scaling_search.study.sizing import resolve_for_device
from tests.cli_helpers import cli_error, run_cli
from tests.search_helpers import contender_attrs

SPACE = {"alpha": FloatDistribution(1.0, 2.0), "beta": FloatDistribution(1.0, 1.5),
         "gamma": FloatDistribution(1.0, 1.5), "seed": IntDistribution(0, 9)}
WINNER, RUNNER_UP = (1.0, 1.1, 1.3), (1.4, 1.1, 1.05)
TIMED = {WINNER: 3.25, RUNNER_UP: 4.5}
"""Median ms per call each candidate was timed at, at the cost scale."""


def latency_study(tmp_path: Path) -> StudyDefinition:
    """A finished latency study written through Optuna, 3 seeds per candidate, the winner clear; costs at 128 px (the
    smallest where the measured constraint is smooth) and 10 classes, so that its members export in seconds."""
    definition = resolve_for_device(StudyDefinition(
        study="timed", studies_dir=str(tmp_path / "studies"), base_resolution=32, cost_resolution=128,
        cost_classes=10, cost="latency", latency_threads=2), gpus=0)
    (tmp_path / "studies").mkdir()
    study = optuna.create_study(study_name="timed", storage=definition.storage_url(), direction="maximize")
    study.set_user_attr("definition", definition.to_dict())
    stamp(study)
    study.set_user_attr("num_classes", 4)
    study.set_user_attr("native_resolution", 32)
    for (alpha, beta, gamma), scores in ((WINNER, [0.80, 0.81, 0.82]), (RUNNER_UP, [0.60, 0.62, 0.58])):
        for seed, score in enumerate(scores):
            name = f"a{alpha}-b{beta}-g{gamma}"
            attrs = {"key": f"{name}/seed{seed}", "candidate": name, "kind": "compound", "phi": 1.0,
                     "macs": 10_000_000, "measured_ratio": 2.0, "nominal_ratio": alpha * beta**2 * gamma**2,
                     "params": 5_000_000, "activations": 200_000, "resolution": round(32 * gamma),
                     "test_acc": score - 0.01, "wall_s": 10.0, "cost_resolution": round(128 * gamma),
                     "proxy_ratio": 2.0, "on_constraint": True, **contender_attrs(True, round(32 * gamma)),
                     "latency_ratio": 2.0, "latency_ms": TIMED[alpha, beta, gamma], "latency_iqr_ms": 0.5,
                     "cost_device": "test CPU", "status": "ok", "reason": None, "hardware": "test CPU"}
            study.add_trial(create_trial(params={"alpha": alpha, "beta": beta, "gamma": gamma, "seed": seed},
                                         distributions=SPACE, value=score, user_attrs=attrs,
                                         intermediate_values={1: score}))
    return definition


def test_a_study_exports_its_best_family_as_its_configs_hold_it(tmp_path, capsys):
    definition = latency_study(tmp_path)
    out = tmp_path / "handoff"
    code, stdout, err = run_cli(capsys, "export", "--study", "timed", "--studies-dir", str(tmp_path / "studies"),
                                "--members", "phi1", "--formats", "torch-export", "--out", str(out), "--json")
    assert code == 0, err
    manifest = json.loads(stdout)
    stored = optuna.load_study(study_name="timed", storage=definition.storage_url())
    best = study_answer(stored.get_trials(), study_definition(stored), study_classes(stored))
    assert manifest["study"] == "timed" and manifest["cost_kind"] == "latency"
    assert manifest["coefficients"] == {"alpha": best.alpha, "beta": best.beta, "gamma": best.gamma}
    assert manifest["scale"] == {"base_resolution": 128, "resolution_multiple": 4, "num_classes": 10}
    written = tmp_path / "written"
    written.mkdir()
    write_family(written, best, study_definition(stored), study_classes(stored))  # what `run` writes in configs/
    assert load_member(out) == load_member(written / "configs" / "phi1.json")
    (phi1,) = manifest["members"]
    assert phi1["latency"] == {"median_ms": TIMED[WINNER], "iqr_ms": 0.5, "device": "test CPU", "batch_size": 1,
                               "dtype": "float32", "threads": 2, "channels_last": False, "compile": False,
                               "mode": "inference"}  # the winner's network at the cost scale, as the study timed it
    program = torch.export.load(out / "phi1.pt2").module()
    assert program(torch.randn(3, 3, phi1["resolution"], phi1["resolution"])).shape == (3, 10)
    source = study_source("timed", studies_dir=tmp_path / "studies")
    assert source.latency(load_member(written / "configs" / "phi0.json")) is None  # the base was never a candidate
    assert study_source("timed", studies_dir=tmp_path / "studies", num_classes=4).latency(
        replace(load_member(out), num_classes=4)) is None  # another classifier is another network, never timed


def test_a_study_takes_no_coefficients_and_only_its_own_base(tmp_path, capsys):
    latency_study(tmp_path)
    where = ("--studies-dir", str(tmp_path / "studies"), "--out", str(tmp_path / "out"))
    assert "drop the alpha or the study" in cli_error(capsys, "export", "--study", "timed", "--alpha", "1.2", *where)
    assert "drop the base resolution or the study" in cli_error(capsys, "export", "--study", "timed",
                                                                "--base-resolution", "64", *where)
    assert "scales the base efficientnet_b0, not resnet50" in cli_error(capsys, "export", "--study", "timed",
                                                                        "--base", "resnet50", *where)
    assert "no study 'other'" in cli_error(capsys, "export", "--study", "other", *where)
    assert not (tmp_path / "out").exists()

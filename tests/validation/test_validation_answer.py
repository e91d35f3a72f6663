"""validation.json as one typed answer: its keys and values as readers expect them, read back whole, version checked.

The answer is built from constructed trials (no training): the study's search runs and its
validation runs for both checks, with the per-image records the comparisons pair over.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState, create_trial

from scaling_search.cli.validate import summary
from scaling_search.counting.analytic import analytic_counts
from scaling_search.errors import InputError
from scaling_search.execution.trainable import PLANNED_BASE_RESOLUTION, PLANNED_EPOCHS
from scaling_search.reporting.validation_section import correlation_title, fidelity_frame, validation_lines
from scaling_search.search.results import VAL_CORRECT
from scaling_search.search.search_plan import candidate_id, grid_spec
from scaling_search.stats.fidelity import RankFidelity
from scaling_search.study.definition import StudyDefinition
from scaling_search.training.correctness import pack_correctness
from scaling_search.validation.options import ValidationOptions
from scaling_search.validation.validation_answer import (
    SCHEMA_VERSION,
    ValidatedAnswer,
    ValidationAnswer,
    ValidationSettings,
    validation_answer,
)
from scaling_search.validation.validation_driver import ValidationOutcome
from scaling_search.validation.validation_plan import member_records, members_at

SPACE = {"alpha": FloatDistribution(1.0, 3.0), "beta": FloatDistribution(1.0, 2.0),
         "gamma": FloatDistribution(1.0, 2.0), "seed": IntDistribution(0, 10_000)}
WINNER, RUNNER_UP, THIRD = (1.0, 1.2, 1.1), (1.3, 1.0, 1.1), (1.4, 1.1, 1.0)
SEEDS = (2000, 2001, 2002)


def run(stage: str, coefficients: tuple[float, float, float], seed: int, rate: float, *, kind: str = "compound",
        phi: float = 1.0, failed: bool = False) -> FrozenTrial:
    """One finished run as the study (stage "search") or its validation study holds it."""
    rng = np.random.default_rng([seed, *(round(c * 1000) for c in coefficients)])
    correct = rng.random(400) < rate
    attrs = {"stage": stage, "phi": phi, "candidate": candidate_id(coefficients), "kind": kind, "macs": 750_000_000,
             "measured_ratio": 1.95, "on_constraint": True, "contender": kind == "compound", "cost_ratio": 1.95,
             "matched": True, "resolution": 35, "cost_resolution": 248, PLANNED_EPOCHS: 8, PLANNED_BASE_RESOLUTION: 32}
    return create_trial(params=dict(zip(("alpha", "beta", "gamma"), coefficients, strict=True)) | {"seed": seed},
                        distributions=SPACE, value=None if failed else float(correct.mean()),
                        state=TrialState.FAIL if failed else TrialState.COMPLETE, user_attrs=attrs,
                        system_attrs={} if failed else {VAL_CORRECT: pack_correctness(correct)})


def answer(long_rates: dict, failed: tuple = ()) -> ValidationAnswer:
    """Both checks of a study searched at φ = 1 whose answer is WINNER, its members scaled up to φ = 2."""
    parent = [run("search", point, seed, rate) for point, rate in {WINNER: 0.8, RUNNER_UP: 0.7, THIRD: 0.6}.items()
              for seed in (0, 1)]
    trials = [run("fidelity", point, seed, rate, failed=(point, seed) in failed) for point, rate in long_rates.items()
              for seed in SEEDS]
    members = members_at(grid_spec(StudyDefinition(study="made", base_resolution=224, epochs=2), 10), WINNER, (2.0,),
                         analytic_counts)[2.0]  # a proxy at the cost scale's resolution: members match where trained
    rates = {"study": 0.85, "paper": 0.80, "depth-only": 0.60, "width-only": 0.84, "resolution-only": 0.70}
    trials += [run("scaleup", member.coefficients, seed, rates[member.kind], kind=member.kind, phi=2.0)
               for member in members for seed in SEEDS]
    records = member_records(members)
    records[1] = dict(records[1], matched=False, cost_ratio=1.56)
    settings = ValidationSettings.of(ValidationOptions(top=3, epochs_factor=4.0, scale_up_epochs_factor=1.0, seeds=2,
                                                       phis=(2.0,), long_resolution=32), 2, "synthetic", None)
    best = ValidatedAnswer.from_json({"alpha": 1.0, "beta": 1.2, "gamma": 1.1, "phi": 1.0,
                                      "trained": {"candidate": candidate_id(WINNER), "alpha": 1.0, "beta": 1.2,
                                                  "gamma": 1.1}})
    return validation_answer("made", "made.validate", settings, best, parent, trials, {"2": records},
                             {"complete": len(trials), "fail": len(failed), "waiting": 0, "running": 0})


def reread(found: ValidationAnswer) -> ValidationAnswer:
    return ValidationAnswer.from_json(json.loads(json.dumps(found.to_json())))


def test_validation_json_keeps_its_keys_and_carries_a_schema_version():
    data = json.loads(json.dumps(answer({WINNER: 0.5, RUNNER_UP: 0.7, THIRD: 0.9}).to_json()))
    assert list(data) == ["schema_version", "study", "validation_study", "settings", "best", "fidelity", "scale_up",
                          "counts", "paragraph"]
    assert data["schema_version"] == SCHEMA_VERSION == 3
    assert list(data["settings"]) == ["top", "epochs_factor", "scale_up_epochs_factor", "seeds", "phis",
                                      "long_resolution", "fidelity", "scale_up", "study_epochs", "long_epochs",
                                      "scale_up_epochs", "dataset", "max_train_images"]
    assert data["settings"]["phis"] == [2.0] and data["settings"]["long_epochs"] == 8
    assert list(data["best"]) == ["alpha", "beta", "gamma", "phi", "trained"]
    fidelity = data["fidelity"]
    assert list(fidelity) == ["epochs", "base_resolution", "candidates", "left_out", "rank_fidelity", "sentence",
                              "long_winner", "answer_long_rank"]
    assert list(fidelity["candidates"][0]) == [
        "candidate", "kind", "contender", "alpha", "beta", "gamma", "proxy_score", "proxy_seeds", "long_score",
        "long_ci95", "long_n_seeds", "long_n_failed", "proxy_rank", "long_rank", "macs", "measured_ratio",
        "on_constraint", "resolution"]
    assert list(fidelity["long_winner"]) == ["candidate", "score", "ci95", "n_seeds", "n_failed",
                                             "against_proxy_winner"]
    assert fidelity["long_winner"]["against_proxy_winner"]["sentence"].startswith(candidate_id(THIRD))
    assert fidelity["rank_fidelity"]["spearman"] == pytest.approx(-1.0)
    assert fidelity["rank_fidelity"]["permutation_p_opposite"] == pytest.approx(1 / 6)
    assert [row["contender"] for row in fidelity["candidates"]] == [True, True, True]
    check = data["scale_up"][0]
    assert list(check) == ["phi", "members", "comparisons"]
    assert list(check["members"][0]) == ["kind", "candidate", "alpha", "beta", "gamma", "macs", "cost_ratio",
                                         "matched", "proxy_macs", "proxy_ratio", "proxy_matched", "comparable",
                                         "not_judged", "resolution", "cost_resolution", "score", "ci95", "n_seeds",
                                         "n_failed"]
    assert list(check["comparisons"][0]) == ["first", "second", "difference", "ci95", "standard_error", "df",
                                             "detectable", "p_value", "resolved", "seeds", "images", "paired",
                                             "basis", "min_effect", "seeds_needed", "images_needed", "split",
                                             "sentence", "against", "cost_ratio", "proxy_ratio", "other_failed"]
    assert [c["against"] for c in check["comparisons"]] == ["depth-only", "width-only", "resolution-only"]
    paper = check["members"][1]
    assert paper["kind"] == "paper" and not paper["comparable"] and paper["not_judged"].startswith("paper costs 1.56×")


def test_the_answer_reads_back_whole_from_its_json():
    kept = answer({WINNER: 0.9, RUNNER_UP: 0.8, THIRD: 0.7})
    assert kept.fidelity.answer_long_rank == 1 and kept.fidelity.long_winner.against_proxy_winner is None
    assert reread(kept) == kept and reread(kept).to_json() == kept.to_json()
    flipped = answer({WINNER: 0.5, RUNNER_UP: 0.7, THIRD: 0.9})
    assert reread(flipped) == flipped
    too_few = answer({WINNER: 0.9, RUNNER_UP: 0.8}, failed=((RUNNER_UP, SEEDS[1]),))
    assert too_few.fidelity.rank_fidelity is None and too_few.fidelity.long_winner is None
    assert "rank_fidelity" not in too_few.to_json()["fidelity"]
    assert reread(too_few) == too_few


def test_an_undefined_correlation_is_null_in_the_file_and_undefined_in_words():
    found = RankFidelity(("a", "b", "c"), (0.6, 0.5, 0.4), (0.7, 0.7, 0.7), math.nan, None, math.nan, None, "a", "a",
                         True, 1, 2, 2, True)
    data = json.loads(json.dumps(found.to_dict()))
    assert data["spearman"] is None and math.isnan(RankFidelity.from_dict(data).spearman)
    assert correlation_title(RankFidelity.from_dict(data)) == "Proxy against long runs: ρ undefined, τ undefined"


def test_a_file_of_another_schema_version_is_refused_in_one_line():
    data = answer({WINNER: 0.9, RUNNER_UP: 0.8, THIRD: 0.7}).to_json()
    for version in (None, SCHEMA_VERSION + 1):
        with pytest.raises(InputError, match="run 'scaling-search validate made' again") as refused:
            ValidationAnswer.from_json(data | {"schema_version": version})
        assert len(str(refused.value).splitlines()) == 1


def test_the_cli_summary_and_the_report_section_read_the_answer():
    found = answer({WINNER: 0.9, RUNNER_UP: 0.8, THIRD: 0.7})
    outcome = ValidationOutcome("made", "made.validate", found, found.counts, [], False, True, Path("validation.json"))
    text = summary(outcome)
    assert "rank fidelity: 8 epochs from 32 px" in text and "Spearman rho = " in text
    assert "permutation p = 0.17" in text and "contender" in text  # 3 candidates: p = 1/3! at best
    assert "No verdict from 3 candidates" in found.paragraph and "3 of them contenders" in found.paragraph
    assert list(fidelity_frame(found.fidelity)["contender"]) == ["yes", "yes", "yes"]
    assert correlation_title(found.fidelity.rank_fidelity).endswith(", p = 0.17")
    assert "scale-up at phi = 2 (2 epochs;" in text and "not judged" in text and found.paragraph in text
    assert "  paper costs 1.56× the study member's MACs at the cost scale" in text
    lines = "\n".join(validation_lines(found, {"fidelity": "TABLE", "scale_up_phi2": "TABLE"}))
    assert "long runs of 8 epochs (4× the study's 2) from 32 px" in lines and "### Scaled up to φ = 2" in lines
    assert "- paper costs 1.56× the study member's MACs at the cost scale" in lines and "*not judged*" in lines

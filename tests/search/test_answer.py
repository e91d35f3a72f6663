"""best.json is one typed, versioned StudyAnswer: written and read back through it, with the keys it always had."""

from __future__ import annotations

import json

import pytest

from scaling_search.errors import InputError
from scaling_search.search.answer import StudyAnswer, read_answer, write_answer
from scaling_search.study.schema import SCHEMA_VERSION
from tests.search.test_verdict import PAPER, RUNNER_UP, WINNER, definition, finalists, new_study, searched

KEYS = ["alpha", "beta", "gamma", "phi", "plateau", "representative", "trained", "decided_by", "finalist_seeds",
        "score", "score_std", "n_seeds", "n_failed", "test_acc", "ci95", "verdict_split", "verdict", "comparisons",
        "open_candidates", "refinement",
        "measured_ratio", "nominal_ratio", "proxy_ratio", "growth_per_phi", "growth_phi", "on_growth", "contender",
        "upsample", "macs", "params", "cost_resolution", "resolution", "candidate", "kind", "metric", "cost",
        "cost_kind", "cost_device", "study", "base", "schema_version"]
"""best.json's keys in their order: those before it was typed, what schema version 2 added (growth and contention,
after ``proxy_ratio``), what version 3 added (``verdict_split``, ``open_candidates``), what version 4 added
(``cost_kind``, ``cost_device``), and the schema version."""


def answer() -> StudyAnswer:
    from scaling_search.search.answer import study_answer

    study = new_study()
    searched(study, {WINNER: 0.6, RUNNER_UP: 0.62, PAPER: 0.5})
    finalists(study, {WINNER: 0.8, RUNNER_UP: 0.6, PAPER: 0.5})
    found = study_answer(study.get_trials(), definition(refine=False), 10)
    assert found is not None
    return found


def test_best_json_keeps_its_keys_and_adds_the_schema_version(tmp_path):
    write_answer(tmp_path / "best.json", answer())
    data = json.loads((tmp_path / "best.json").read_text())
    assert list(data) == KEYS and data["schema_version"] == SCHEMA_VERSION == 4
    assert data["cost_kind"] == "macs" and data["cost_device"] is None
    assert data["verdict_split"] == "test"
    assert all(c["split"] == "test" for c in data["comparisons"])
    assert {c["against"] for c in data["comparisons"]} == {"runner-up", "paper"}
    assert data["refinement"] == {"phi": 2.0, "parent_plateau": data["refinement"]["parent_plateau"], "trained": 0,
                                  "ran": False, "reason": "turned off (--no-refine)"}


def test_best_json_reads_back_as_the_answer_that_wrote_it(tmp_path):
    written = answer()
    write_answer(tmp_path / "best.json", written)
    back = read_answer(tmp_path / "best.json")
    assert back.to_json() == written.to_json()
    assert back.comparisons[0].comparison.resolved == written.comparisons[0].comparison.resolved
    assert back.as_plateau().contains(back.coefficients)


def test_a_refined_best_json_reads_back_with_its_confirmation_and_the_same_keys(tmp_path):
    from scaling_search.search.answer import study_answer
    from tests.search.test_verdict import REFINED, REFINED_LAST, REPRESENTATIVE, refined_study

    study = refined_study({REFINED: 0.7, REFINED_LAST: 0.5}, {REFINED: 0.8, REPRESENTATIVE: 0.6})
    written = study_answer(study.get_trials(), definition(base_resolution=160), 10)
    assert written is not None
    write_answer(tmp_path / "best.json", written)
    data = json.loads((tmp_path / "best.json").read_text())
    assert list(data) == KEYS and list(data["refinement"]) == [
        "phi", "parent_plateau", "trained", "ran", "winner", "plateau", "comparison", "confirmation"]
    back = read_answer(tmp_path / "best.json")
    assert back == written and back.refinement.exported


def test_a_best_json_of_another_schema_version_is_refused(tmp_path):
    data = answer().to_json()
    del data["schema_version"]
    (tmp_path / "best.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match="schema version 0"):
        read_answer(tmp_path / "best.json")

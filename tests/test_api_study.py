"""The library end to end without the command line: ``run_study`` on the caller's own Ray, then ``report``."""

from __future__ import annotations

import pytest
from optuna.trial import TrialState

from scaling_search.reporting.api import report
from scaling_search.search.results import candidate_table
from scaling_search.search.search_driver import run_study
from tests.search_helpers import fake_trainable, load, tiny_definition

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_a_study_and_its_report_through_the_api_on_the_callers_ray(tmp_path, callers_ray):
    """The trials do not train (fake_trainable, each its own accuracy): what is tested is what run_study hands back
    and leaves behind, and that it leaves the caller's Ray running; real training is test_search.py's."""
    definition = tiny_definition(tmp_path, study="api", seeds=2, max_candidates=1)
    lines: list[str] = []
    outcome = run_study(definition, log=lines.append, trainable=fake_trainable())
    assert callers_ray.is_initialized(), "the caller's Ray session was shut down"

    assert any("planned trials" in line for line in lines)
    trials = load(definition).get_trials()
    assert len(trials) == 4 and all(t.state == TrialState.COMPLETE for t in trials)  # 2 candidates x 2 seeds
    assert outcome.study == "api" and outcome.trained and not outcome.interrupted and outcome.failures == []
    assert outcome.counts == {"complete": 4, "fail": 0, "pruned": 0, "running": 0, "waiting": 0}

    table = outcome.table
    assert {"rank", "candidate", "kind", "alpha", "beta", "gamma", "score", "score_std", "n_seeds",
            "measured_ratio", "resolution"} <= set(table.columns)
    assert table["candidate"].is_unique and len(table) == len({t.user_attrs["candidate"] for t in trials}) == 2
    assert list(table["rank"]) == [1, 2] and table["score"].is_monotonic_decreasing
    assert table["n_seeds"].sum() == outcome.counts["complete"]
    ranked = candidate_table(trials)
    assert table[ranked.columns].equals(ranked)  # outcome.table adds each row's plateau
    assert {"plateau_alpha", "plateau_beta", "plateau_gamma"} <= set(table.columns)
    compound = table[table["kind"] == "compound"]  # the nominal constraint here: every compound row is on it
    assert outcome.best is not None and outcome.best.candidate == compound.iloc[0]["candidate"]
    assert outcome.best.kind == "compound"
    folder = tmp_path / "studies" / "api"
    assert outcome.files == tuple(folder / name for name in
                                  ("study.toml", "results.csv", "best.json", "derived.json", "configs"))

    out = report("api", studies_dir=definition.studies_dir, out=tmp_path / "report")
    assert out == (tmp_path / "report").resolve()
    assert "## The α/β/γ table" in (out / "index.md").read_text()

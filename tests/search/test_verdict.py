"""The study's answer on constructed studies: finalists decide, intervals not slogans, failures counted, plateaus.

Each study is built trial by trial in memory (no training), so every verdict can be checked
against what the constructed runs make true.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from scaling_search.counting.analytic import analytic_counts
from scaling_search.search.answer import study_answer
from scaling_search.search.results import TEST_CORRECT, VAL_CORRECT, candidate_table, contenders
from scaling_search.search.search_plan import candidate_id, grid_spec
from scaling_search.search.stages import FINALIST_SEED_BASE, next_stage
from scaling_search.study.definition import StudyDefinition
from scaling_search.study.schema import stamp
from scaling_search.training.correctness import pack_correctness
from tests.search_helpers import contender_attrs

CLASSES = 10
IMAGES = 400
WINNER = (1.0, 1.1, 1.3)  # points of the default grid whose families grow within 5 % of 2x per φ
RUNNER_UP = (1.0, 1.0, 1.4)
THIRD = (1.0, 1.4, 1.0)
PAPER = (1.2, 1.1, 1.15)
# At a 160 px proxy the class of SPLITS (α in (1.75, 2]) is wider than a step and splits into networks that contend
# at φ = 2; REFINED and REFINED_LAST are the two a refinement of at most 2 trains (the first and last), and neither
# is the network the class's representative (the point exported without the refinement) trains at φ = 2;
# REPRESENTATIVES_NETWORK is.
SPLITS = (1.9, 1.0, 1.0)
REFINED = (1.8928, 1.0008, 1.0022)
REFINED_LAST = (1.9682, 1.0023, 1.0053)
REPRESENTATIVE = (1.875, 1.0016, 1.0045)
REPRESENTATIVES_NETWORK = (1.8928, 1.0023, 1.0053)
FRESH = tuple(FINALIST_SEED_BASE + i for i in range(3))
SPACE = {"alpha": FloatDistribution(1.0, 3.0), "beta": FloatDistribution(1.0, 2.0),
         "gamma": FloatDistribution(1.0, 2.0), "seed": IntDistribution(0, 10_000)}


def definition(**overrides) -> StudyDefinition:
    values = dict(study="made", base_resolution=32, epochs=2, finalists=2, finalist_seeds=3, max_refine=2,
                  device="cpu", cpus_per_trial=1, batch_size=64)
    return StudyDefinition(**(values | overrides))


def new_study() -> optuna.Study:
    return optuna.create_study(direction="maximize")


def correct_at(rate: float, seed: int, coefficients=(1.0, 1.0, 1.0)) -> np.ndarray:
    """A validation run that gets ``rate`` of the images right, which ones drawn from ``seed`` and the candidate."""
    rng = np.random.default_rng([seed, *(round(c * 1000) for c in coefficients)])
    return rng.random(IMAGES) < rate


def add(study: optuna.Study, coefficients, seed: int, *, stage: str = "search", kind: str = "compound",
        correct: np.ndarray | None = None, state: TrialState = TrialState.COMPLETE, on_constraint: bool = True,
        phi: float = 1.0, keep_correct: bool = True) -> None:
    name = candidate_id(coefficients)
    value = float(correct.mean()) if correct is not None and state == TrialState.COMPLETE else None
    attrs = {"key": f"{stage}/{name}/seed{seed}", "stage": stage, "phi": phi, "candidate": name, "kind": kind,
             "macs": 750_000_000, "measured_ratio": 1.95 if on_constraint else 2.23, "nominal_ratio": 1.9,
             "params": 7_000_000, "activations": 11_000_000, "cost_resolution": 248, "on_constraint": on_constraint,
             "proxy_ratio": 3.6, "resolution": 35, "status": "ok" if state == TrialState.COMPLETE else "diverged",
             "test_acc": value, **contender_attrs(on_constraint, 35)}
    # the test split's records: the validation ones reversed (the same accuracy; identical runs stay identical)
    system = {VAL_CORRECT: pack_correctness(correct), TEST_CORRECT: pack_correctness(correct[::-1])} \
        if correct is not None and keep_correct and value is not None else {}
    study.add_trial(create_trial(
        params=dict(zip(("alpha", "beta", "gamma"), coefficients, strict=True)) | {"seed": seed}, distributions=SPACE,
        value=value, state=state, user_attrs=attrs, system_attrs=system))


def searched(study: optuna.Study, rates: dict, seeds=(0,)) -> None:
    for coefficients, rate in rates.items():
        kind = "reference" if coefficients == PAPER else "compound"
        for seed in seeds:
            add(study, coefficients, seed, kind=kind, correct=correct_at(rate, seed, coefficients),
                on_constraint=kind != "reference")


def finalists(study: optuna.Study, rates: dict, seeds=tuple(FINALIST_SEED_BASE + i for i in range(3)), **options
              ) -> None:
    for coefficients, rate in rates.items():
        kind = "reference" if coefficients == PAPER else "compound"
        for seed in seeds:
            add(study, coefficients, seed, stage="finalist", kind=kind, correct=correct_at(rate, seed, coefficients),
                on_constraint=kind != "reference", **options)


def test_a_clear_winner_is_resolved_on_the_finalists_fresh_seeds():
    study = new_study()
    searched(study, {WINNER: 0.6, RUNNER_UP: 0.62, THIRD: 0.4, PAPER: 0.5})
    finalists(study, {WINNER: 0.8, RUNNER_UP: 0.6, PAPER: 0.5})
    best = study_answer(study.get_trials(), definition(refine=False), CLASSES).to_json()
    # the search ranked RUNNER_UP first; the finalists decide, and they put WINNER first
    assert best["trained"]["candidate"] == candidate_id(WINNER)
    assert best["decided_by"] == "finalists" and best["finalist_seeds"] == [1000, 1001, 1002]
    assert best["verdict"] == "resolved" and best["verdict_split"] == "test"
    low, high = best["ci95"]
    assert 0 < low < 0.2 < high  # contains the true difference of 0.2 points of accuracy, excludes 0
    against = {c["against"]: c for c in best["comparisons"]}
    assert set(against) == {"runner-up", "paper"} and against["paper"]["resolved"]
    assert against["runner-up"]["p_value"] > 0
    assert "tied" not in " ".join(c["sentence"] for c in best["comparisons"])


def test_an_unresolved_pair_says_so_and_what_would_resolve_it():
    study = new_study()
    searched(study, {WINNER: 0.7, RUNNER_UP: 0.7, PAPER: 0.7})
    finalists(study, {WINNER: 0.7, RUNNER_UP: 0.7, PAPER: 0.7})
    best = study_answer(study.get_trials(), definition(refine=False), CLASSES).to_json()
    assert best["verdict"] == "not resolved at this budget"
    low, high = best["ci95"]
    assert low < 0 < high
    runner_up = next(c for c in best["comparisons"] if c["against"] == "runner-up")
    assert "not resolved at this budget" in runner_up["sentence"] and "tied" not in runner_up["sentence"]
    assert runner_up["detectable"] > 0


def test_every_finalist_the_winner_is_not_resolved_from_is_open_and_widens_the_spread(tmp_path):
    from scaling_search.coefficients.plateaus import open_spread, plateau_spread
    from scaling_search.models.architecture import FAMILY_PHIS

    study = new_study()
    searched(study, {WINNER: 0.7, RUNNER_UP: 0.69, THIRD: 0.4})
    finalists(study, {WINNER: 0.7, RUNNER_UP: 0.69, THIRD: 0.3})  # a near tie, and one far behind
    answer = study_answer(study.get_trials(), definition(refine=False, finalists=3), CLASSES)
    assert answer.trained.candidate == candidate_id(WINNER)
    runner_up = answer.comparisons[0].comparison
    assert answer.comparisons[0].against == "runner-up" and not runner_up.resolved
    assert [found.candidate for found in answer.open_candidates] == [candidate_id(RUNNER_UP)]  # THIRD is resolved
    assert answer.to_json()["open_candidates"][0]["plateau"]["gamma"][1] >= RUNNER_UP[2]
    # the open spread holds the winner's family and the runner-up's: wider than the plateau's own
    own = plateau_spread(answer.as_plateau(), FAMILY_PHIS)
    opened = open_spread(answer.open_boxes(), FAMILY_PHIS)
    seven = next(row for row in opened if row["phi"] == 7)
    assert seven["resolution"][1] >= RUNNER_UP[2] ** 7 - 1e-3 > next(r for r in own if r["phi"] == 7)["resolution"][1]
    assert all(o["depth"][0] <= p["depth"][0] and o["depth"][1] >= p["depth"][1]
               for o, p in zip(opened, own, strict=True))
    import pandas as pd

    from scaling_search.reporting.tables import spread_rows
    from scaling_search.reporting.wording import spread_caption
    table = spread_rows(pd.DataFrame(own), pd.DataFrame(opened))
    assert list(table.columns) == ["phi", "depth", "width", "resolution", "depth (open)", "width (open)",
                                   "resolution (open)"]
    assert candidate_id(RUNNER_UP) in spread_caption([f.candidate for f in answer.open_candidates])


def test_identical_seeds_on_both_sides_are_never_p_zero():
    study = new_study()
    same = {seed: correct_at(0.175, 7) for seed in (FINALIST_SEED_BASE, FINALIST_SEED_BASE + 1)}
    searched(study, {WINNER: 0.3, RUNNER_UP: 0.3})
    for coefficients in (WINNER, RUNNER_UP):
        for seed, correct in same.items():
            add(study, coefficients, seed, stage="finalist", correct=correct)
    best = study_answer(study.get_trials(), definition(refine=False), CLASSES).to_json()
    runner_up = best["comparisons"][0]
    assert runner_up["difference"] == 0 and runner_up["p_value"] == 1.0 and not runner_up["resolved"]
    assert best["verdict"] == "not resolved at this budget"


def test_identical_scores_without_per_image_records_cannot_tell(recwarn):
    study = new_study()
    searched(study, {WINNER: 0.3, RUNNER_UP: 0.3})
    for coefficients in (WINNER, RUNNER_UP):  # an older study: seed scores only, each seed exactly 0.175
        for seed in (FINALIST_SEED_BASE, FINALIST_SEED_BASE + 1, FINALIST_SEED_BASE + 2):
            add(study, coefficients, seed, stage="finalist", correct=correct_at(0.175, 7), keep_correct=False)
    best = study_answer(study.get_trials(), definition(refine=False), CLASSES).to_json()
    runner_up = best["comparisons"][0]
    assert runner_up["p_value"] is None and runner_up["ci95"] is None and not runner_up["resolved"]
    assert "cannot tell" in runner_up["sentence"] and best["ci95"] is None
    assert not [w for w in recwarn if "precision" in str(w.message).lower()]


def test_a_failed_seed_is_counted_and_ranks_its_candidate_below_every_complete_one():
    study = new_study()
    searched(study, {WINNER: 0.5, RUNNER_UP: 0.6, PAPER: 0.4})
    finalists(study, {WINNER: 0.7, PAPER: 0.4})
    # RUNNER_UP is the best on its surviving seed, but its other finalist seed diverged
    add(study, RUNNER_UP, FINALIST_SEED_BASE, stage="finalist", correct=correct_at(0.9, 1000))
    add(study, RUNNER_UP, FINALIST_SEED_BASE + 1, stage="finalist", state=TrialState.FAIL)
    add(study, THIRD, FINALIST_SEED_BASE, stage="finalist", state=TrialState.FAIL)  # nothing completed
    trials = study.get_trials()
    table = candidate_table(trials, "finalist").set_index("candidate")
    assert (table.loc[candidate_id(RUNNER_UP), ["n_seeds", "n_failed"]] == [1, 1]).all()
    assert (table.loc[candidate_id(THIRD), ["n_seeds", "n_failed"]] == [0, 1]).all()
    ranked = list(candidate_table(trials, "finalist")["candidate"])
    assert ranked == [candidate_id(c) for c in (WINNER, PAPER, RUNNER_UP, THIRD)]
    assert list(contenders(candidate_table(trials, "finalist"))["candidate"]) == [candidate_id(WINNER)]
    best = study_answer(trials, definition(refine=False), CLASSES).to_json()
    assert best["trained"]["candidate"] == candidate_id(WINNER) and best["n_failed"] == 0
    assert best["verdict"] == "no runner-up"


def test_best_json_holds_the_plateau_and_its_midpoint_not_the_corner():
    study = new_study()
    searched(study, {PAPER: 0.5, WINNER: 0.6, RUNNER_UP: 0.55})
    finalists(study, {WINNER: 0.6, RUNNER_UP: 0.55, PAPER: 0.5})
    best = study_answer(study.get_trials(), definition(refine=False), CLASSES).to_json()
    box = best["plateau"]
    for name, value in zip(("alpha", "beta", "gamma"), WINNER, strict=True):
        low, high = box[name]
        assert low <= value <= high and low <= best[name] <= high
        assert best[name] == pytest.approx(round((low + high) / 2, 4), abs=1e-4)
    assert box["alpha"] == [1.0, 1.0]  # any α > 1 adds a block: α = 1 is a class of one point
    assert box["beta"][1] - box["beta"][0] > 0.001 and box["gamma"][1] - box["gamma"][0] > 0.001
    assert best["refinement"] == best["refinement"] | {"ran": False, "reason": "turned off (--no-refine)"}


def test_stages_are_planned_from_finished_trials_in_order():
    study = new_study()
    plan_for = definition(base_resolution=160)  # refine left to the class's width; γ contends at a 160 px proxy
    searched(study, {SPLITS: 0.6, RUNNER_UP: 0.55, THIRD: 0.5, PAPER: 0.45})
    stage, planned = next_stage(study.get_trials(), plan_for, CLASSES, analytic_counts)
    assert stage == "finalist"
    assert sorted(p.key for p in planned) == sorted(
        f"finalist/{candidate_id(c)}/seed{s}" for c in (SPLITS, RUNNER_UP, PAPER) for s in FRESH)
    finalists(study, {SPLITS: 0.6, RUNNER_UP: 0.55, PAPER: 0.45})
    stage, planned = next_stage(study.get_trials(), plan_for, CLASSES, analytic_counts)
    assert stage == "refine" and len(planned) == plan_for.max_refine
    assert [p.candidate.coefficients for p in planned] == [REFINED, REFINED_LAST]
    spec = grid_spec(plan_for, CLASSES)
    for trial in planned:
        assert trial.candidate.phi == 2.0 and trial.candidate.contender and trial.key.startswith("refine/")
        assert abs(trial.candidate.proxy_ratio - spec.target**2) <= spec.tolerance * spec.target**2
        assert abs(trial.candidate.growth_per_phi - spec.target) <= spec.tolerance * spec.target
    for trial in planned:  # REFINED is the refinement's best
        rate = 0.7 if trial.candidate.coefficients == REFINED else 0.5
        add(study, trial.candidate.coefficients, trial.seed, stage="refine", phi=2.0,
            correct=correct_at(rate, trial.seed, trial.candidate.coefficients))
    # then the refinement's best and the class's representative at φ = 2, on the finalists' fresh seeds
    stage, planned = next_stage(study.get_trials(), plan_for, CLASSES, analytic_counts)
    assert stage == "confirm"
    assert sorted(p.key for p in planned) == sorted(
        f"confirm/{candidate_id(c)}/seed{s}" for c in (REFINED, REPRESENTATIVE) for s in FRESH)
    assert {p.candidate.phi for p in planned} == {2.0} and {p.seed for p in planned} == set(FRESH)
    # nothing more once the confirmation's trials exist; none while a trial is unfinished
    for trial in planned:
        add(study, trial.candidate.coefficients, trial.seed, stage="confirm", phi=2.0,
            correct=correct_at(0.6, trial.seed, trial.candidate.coefficients))
    assert next_stage(study.get_trials(), plan_for, CLASSES, analytic_counts) is None
    add(study, WINNER, 5, state=TrialState.WAITING)
    assert next_stage(study.get_trials(), plan_for, CLASSES, analytic_counts) is None


def refined_study(refined: dict, confirmed: dict, study: optuna.Study | None = None) -> optuna.Study:
    """SPLITS won the finalists; ``refined`` are the refinement's rates on seed 0, ``confirmed`` the fresh seeds'."""
    study = study or new_study()
    searched(study, {SPLITS: 0.6, RUNNER_UP: 0.55, PAPER: 0.45})
    finalists(study, {SPLITS: 0.6, RUNNER_UP: 0.55, PAPER: 0.45})
    for coefficients, rate in refined.items():
        add(study, coefficients, 0, stage="refine", phi=2.0, correct=correct_at(rate, 0, coefficients))
    for coefficients, rate in confirmed.items():
        for seed in FRESH:
            add(study, coefficients, seed, stage="confirm", phi=2.0, correct=correct_at(rate, seed, coefficients))
    return study


def refined_answer(study: optuna.Study) -> dict:
    found = study_answer(study.get_trials(), definition(base_resolution=160), CLASSES)
    assert found is not None
    return found.to_json()


def exported(best: dict) -> tuple[float, float, float]:
    return best["alpha"], best["beta"], best["gamma"]


def test_a_refinement_best_not_resolved_on_fresh_seeds_does_not_replace_the_class_representative():
    # the refinement's best leads by 20 points on its one seed; on fresh seeds it is no better than the representative
    best = refined_answer(refined_study({REFINED: 0.7, REFINED_LAST: 0.5}, {REFINED: 0.6, REPRESENTATIVE: 0.6}))
    refined = best["refinement"]
    assert refined["winner"]["candidate"] == candidate_id(REFINED)
    assert exported(best) == REPRESENTATIVE and best["plateau"] == refined["parent_plateau"]
    assert best["representative"].startswith("the midpoint of each interval of the plateau")
    confirmation = refined["confirmation"]
    assert confirmation["confirmed"] is False and confirmation["seeds"] == list(FRESH)
    assert confirmation["representative"] == candidate_id(REPRESENTATIVE)
    assert confirmation["outcome"] == (f"not resolved on fresh seeds against the class's representative "
                                       f"({candidate_id(REPRESENTATIVE)}): the class's representative is kept")
    compared = confirmation["comparison"]
    assert (compared["first"], compared["second"]) == (candidate_id(REFINED), candidate_id(REPRESENTATIVE))
    assert compared["split"] == "test" and compared["seeds"] == 3 and not compared["resolved"]
    assert "not resolved at this budget" in compared["sentence"]


def test_a_refinement_best_resolved_better_on_fresh_seeds_replaces_the_class_representative():
    best = refined_answer(refined_study({REFINED: 0.7, REFINED_LAST: 0.5}, {REFINED: 0.8, REPRESENTATIVE: 0.6}))
    refined = best["refinement"]
    assert exported(best) == REFINED and best["plateau"] == refined["plateau"] != refined["parent_plateau"]
    assert best["representative"] == ("the best of the class's networks at phi = 2, from the refinement; confirmed "
                                      "on fresh seeds: it beats the class's representative "
                                      f"({candidate_id(REPRESENTATIVE)}) at phi = 2")
    confirmation = refined["confirmation"]
    assert confirmation["confirmed"] is True and confirmation["outcome"].startswith("confirmed on fresh seeds")
    assert confirmation["comparison"]["resolved"] and confirmation["comparison"]["difference"] > 0
    assert confirmation["comparison"]["split"] == "test"


@pytest.mark.parametrize(("confirmed", "outcome"), [
    ({}, "not confirmed: the runs on fresh seeds did not all complete"),  # the confirmation has not run yet
    ({REFINED: 0.5, REPRESENTATIVE: 0.7}, "resolved the other way on fresh seeds"),
])
def test_a_refinement_best_worse_or_unconfirmed_on_fresh_seeds_keeps_the_class_representative(confirmed, outcome):
    best = refined_answer(refined_study({REFINED: 0.7, REFINED_LAST: 0.5}, confirmed))
    confirmation = best["refinement"]["confirmation"]
    assert exported(best) == REPRESENTATIVE and confirmation["confirmed"] is False
    assert confirmation["outcome"].startswith(outcome) and confirmation["outcome"].endswith("kept")


def test_a_refinement_best_with_a_failed_fresh_seed_is_not_confirmed():
    study = refined_study({REFINED: 0.7, REFINED_LAST: 0.5}, {REPRESENTATIVE: 0.6})
    for seed in FRESH[:2]:
        add(study, REFINED, seed, stage="confirm", phi=2.0, correct=correct_at(0.9, seed, REFINED))
    add(study, REFINED, FRESH[2], stage="confirm", phi=2.0, state=TrialState.FAIL)
    best = refined_answer(study)
    assert exported(best) == REPRESENTATIVE and best["refinement"]["confirmation"]["confirmed"] is False


def test_a_refinement_best_that_is_the_representatives_network_needs_no_confirmation():
    study = refined_study({REPRESENTATIVES_NETWORK: 0.7, REFINED: 0.5, REFINED_LAST: 0.5}, {})
    assert next_stage(study.get_trials(), definition(base_resolution=160), CLASSES, analytic_counts) is None
    best = refined_answer(study)
    assert exported(best) == REPRESENTATIVES_NETWORK
    assert best["refinement"]["confirmation"] == {
        "representative": candidate_id(REPRESENTATIVE), "seeds": [], "confirmed": True,
        "outcome": "the class's representative trains the same network at phi = 2, so there is nothing to confirm",
        "comparison": None}


def test_without_refinement_the_class_representative_is_exported():
    study = refined_study({}, {})
    assert exported(study_answer(study.get_trials(), definition(base_resolution=160, refine=False), CLASSES).to_json()
                    ) == REPRESENTATIVE
    assert next_stage(study.get_trials(), definition(base_resolution=160, refine=False), CLASSES,
                      analytic_counts) is None


def test_refinement_is_skipped_when_the_winning_class_has_no_network_on_the_constraint_at_twice_phi():
    study = new_study()
    searched(study, {WINNER: 0.6, RUNNER_UP: 0.55})
    finalists(study, {WINNER: 0.6, RUNNER_UP: 0.55})
    trials = study.get_trials()
    assert next_stage(trials, definition(refine=True), CLASSES, analytic_counts) is None
    refined = study_answer(trials, definition(refine=True), CLASSES).to_json()["refinement"]
    assert refined["ran"] is False and "meets the constraint at phi = 2" in refined["reason"]


def test_no_finalists_decides_on_the_search_and_says_so():
    study = new_study()
    searched(study, {WINNER: 0.8, RUNNER_UP: 0.6, PAPER: 0.5}, seeds=(0, 1, 2))
    plan_for = definition(finalists=0, refine=False)
    assert next_stage(study.get_trials(), plan_for, CLASSES, analytic_counts) is None
    best = study_answer(study.get_trials(), plan_for, CLASSES).to_json()
    assert best["decided_by"] == "search" and best["finalist_seeds"] == [] and best["verdict"] == "resolved"


def stored_study(made: StudyDefinition) -> optuna.Study:
    """An empty study of ``made`` in its storage, as a search stores it (what a report reads)."""
    Path(made.studies_dir).mkdir(exist_ok=True)
    study = optuna.create_study(study_name=made.study, storage=made.storage_url(), direction="maximize")
    study.set_user_attr("definition", made.to_dict())
    study.set_user_attr("num_classes", CLASSES)
    study.set_user_attr("native_resolution", 32)
    stamp(study)
    return study


def test_the_report_shows_plateaus_finalists_intervals_and_what_the_study_can_conclude(tmp_path):
    from scaling_search.reporting.api import report

    made = definition(study="staged", studies_dir=str(tmp_path / "studies"), refine=False)
    study = stored_study(made)
    searched(study, {WINNER: 0.6, RUNNER_UP: 0.62, PAPER: 0.5})
    finalists(study, {WINNER: 0.8, RUNNER_UP: 0.6, PAPER: 0.5})
    add(study, THIRD, 0, state=TrialState.FAIL)
    folder = report("staged", studies_dir=tmp_path / "studies", out=tmp_path / "out", formats=["md", "csv"])
    index = (folder / "index.md").read_text()
    assert "standing for the plateau α ∈ [1, 1]" in index and "over 3 fresh finalist seeds (1000, 1001, 1002)" in index
    assert "## Finalists" in index and "## Refinement" not in index
    assert "Refinement at φ = 2: not run (turned off (--no-refine))" in index
    assert "Against the runner-up" in index and ": resolved" in index and "tied" not in index
    assert "**What this study can and cannot conclude.** It can conclude that the winner beats the runner-up" in index
    assert "It cannot tell apart the coefficients inside the winning plateau" in index
    assert "| phi | depth | width | resolution |" in (folder / "plateau_spread.md").read_text()
    rows = list(csv.DictReader((folder / "alpha_beta_gamma.csv").read_text().splitlines()))
    assert [(r["n_seeds"], r["n_failed"]) for r in rows][-1] == ("0", "1")  # the failed candidate, counted, last
    assert rows[0]["plateau"].startswith("[1.000, 1.000] × [1.000, 1.003] × [")  # the search's first, RUNNER_UP
    final = list(csv.DictReader((folder / "finalists.csv").read_text().splitlines()))
    assert final[0]["alpha"] == "1.0" and {r["n_seeds"] for r in final} == {"3"}


def test_the_report_and_run_say_whether_fresh_seeds_confirmed_the_refinements_best(tmp_path):
    from scaling_search.cli.run import summary
    from scaling_search.reporting.api import report
    from scaling_search.search.search_driver import finish

    made = definition(study="confirmed", studies_dir=str(tmp_path / "studies"), base_resolution=160)
    study = refined_study({REFINED: 0.7, REFINED_LAST: 0.5}, {REFINED: 0.6, REPRESENTATIVE: 0.6}, stored_study(made))
    said = (f"the best is {candidate_id(REFINED)}, not resolved on fresh seeds against the class's representative "
            f"({candidate_id(REPRESENTATIVE)}): the class's representative is kept. {candidate_id(REFINED)} vs "
            f"{candidate_id(REPRESENTATIVE)}: ")
    folder = report("confirmed", studies_dir=tmp_path / "studies", out=tmp_path / "out", formats=["md"])
    index = (folder / "index.md").read_text()
    assert f"- Refinement at φ = 2: 2 networks trained; {said}" in index
    assert "It gives the coefficients above" not in index and "## Confirmation" in index
    assert "It cannot tell apart the coefficients inside the winning plateau" in index  # nothing refined exported
    console = summary(finish(study, made, interrupted=False, trained=False), tmp_path / "studies" / "confirmed")
    assert "confirmation, on fresh seeds at twice phi" in console
    assert (f"  refinement's best {candidate_id(REFINED)}: not resolved on fresh seeds against the class's "
            f"representative ({candidate_id(REPRESENTATIVE)}): the class's representative is kept") in console
    assert f"  confirmation: {candidate_id(REFINED)} vs {candidate_id(REPRESENTATIVE)}: " in console

"""``validate`` without training: its options, its plan and its answer on constructed studies, and its bad input.

Studies are built trial by trial (no training), in memory or in an SQLite file the command line
reads, so each number the validation reports can be checked against what the constructed runs
make true.
"""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from scaling_search.cli import main
from scaling_search.counting.analytic import analytic_counts
from scaling_search.errors import InputError
from scaling_search.execution.trainable import PLANNED_BASE_RESOLUTION, PLANNED_EPOCHS
from scaling_search.search.search_plan import candidate_id, grid_spec
from scaling_search.study.storage import create_study, open_storage
from scaling_search.validation.options import VALIDATION_SEED_BASE, ValidationOptions, validation_study_name
from scaling_search.validation.validation_answer import fidelity_answer, scale_up_answer
from scaling_search.validation.validation_driver import plan_line, space_holding
from scaling_search.validation.validation_plan import (
    fidelity_plan,
    fidelity_rows,
    member_records,
    members_at,
    scale_up_plan,
)
from tests.search.test_verdict import PAPER, RUNNER_UP, THIRD, WINNER, add, correct_at, definition, searched

CLASSES = 10
SEEDS = (VALIDATION_SEED_BASE, VALIDATION_SEED_BASE + 1, VALIDATION_SEED_BASE + 2)
MORE = [(1.1, 1.0, 1.3), (1.3, 1.0, 1.2), (1.0, 1.3, 1.1), (1.2, 1.2, 1.0)]
"""Compound points whose networks differ from each other's and from WINNER's, RUNNER_UP's, THIRD's and PAPER's."""


def validated(study: optuna.Study, rates: dict, *, stage: str = "fidelity", phi: float = 1.0, kinds=None,
              failed=()) -> None:
    """Validation runs of ``rates``' networks on the fresh seeds, as the validation study holds them."""
    for coefficients, rate in rates.items():
        kind = (kinds or {}).get(coefficients, "reference" if coefficients == PAPER else "compound")
        for seed in SEEDS:
            state = TrialState.FAIL if (coefficients, seed) in failed else TrialState.COMPLETE
            add(study, coefficients, seed, stage=stage, kind=kind, correct=correct_at(rate, seed, coefficients),
                phi=phi, state=state)


def memory_study() -> optuna.Study:
    return optuna.create_study(direction="maximize")


def with_validation_attrs(study: optuna.Study) -> optuna.Study:
    """A copy of ``study`` whose trials carry the attributes a validation run has (cost ratio, match, budget)."""
    copy = memory_study()
    for trial in study.get_trials():
        attrs = dict(trial.user_attrs, cost_ratio=trial.user_attrs["measured_ratio"],
                     matched=trial.user_attrs["on_constraint"], **{PLANNED_EPOCHS: 8, PLANNED_BASE_RESOLUTION: 32})
        copy.add_trial(optuna.trial.create_trial(params=trial.params, distributions=trial.distributions,
                                                 value=trial.value, state=trial.state, user_attrs=attrs,
                                                 system_attrs=trial.system_attrs))
    return copy


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize(("options", "message"), [
    (dict(top=1), "top must be >= 2"),
    (dict(top=0), "top must be >= 2"),
    (dict(epochs_factor=0), "epochs-factor must be a number > 0"),
    (dict(epochs_factor=-2.0), "epochs-factor must be a number > 0"),
    (dict(epochs_factor=float("nan")), "epochs-factor must be a number > 0"),
    (dict(scale_up_epochs_factor=0), "scale-up-epochs-factor must be a number > 0"),
    (dict(seeds=0), "seeds must be >= 1"),
    (dict(phis=()), "phis is empty"),
    (dict(phis=(0.0,)), "scale-up phi must be a number > 0"),
    (dict(long_resolution=3), "long-resolution must be an integer"),
    (dict(fidelity=False, scale_up=False), "nothing to validate"),
])
def test_bad_options_are_refused_naming_the_option(options, message):
    with pytest.raises(InputError, match=message):
        ValidationOptions(**options)


def test_options_resolve_from_the_study_and_refuse_to_change_a_saved_validation():
    resolved = ValidationOptions().resolved(study_phi=1.0, study_seeds=3)
    assert (resolved.top, resolved.epochs_factor, resolved.scale_up_epochs_factor, resolved.seeds,
            resolved.phis) == (5, 4.0, 1.0, 3, (2.0,))
    assert ValidationOptions().resolved(study_phi=1.0, study_seeds=1).seeds == 3  # a verdict needs 3 seeds
    assert ValidationOptions().resolved(study_phi=1.0, study_seeds=2, device="cpu").epochs_factor == 2.0
    assert ValidationOptions().resolved(study_phi=-1.0, study_seeds=2).phis == (1.0,)
    with pytest.raises(InputError, match="larger than the study's phi 1"):
        ValidationOptions(phis=(2.0, 1.0)).resolved(study_phi=1.0, study_seeds=2)
    saved = ValidationOptions(top=3, epochs_factor=2.0).resolved(study_phi=1.0, study_seeds=2)
    again = ValidationOptions(phis=(3.0,)).resolved(1.0, 2, saved)  # unset options follow the saved ones
    assert (again.top, again.epochs_factor, again.phis) == (3, 2.0, (3.0,))
    with pytest.raises(InputError, match=r"other settings \(epochs-factor 2\.0\)"):
        ValidationOptions(epochs_factor=4.0).resolved(1.0, 2, saved)
    assert ValidationOptions.from_dict(saved.to_dict()) == saved


# --------------------------------------------------------------------------- plan


def test_fidelity_takes_the_top_k_contenders_then_the_papers_point_on_fresh_seeds():
    study = memory_study()
    searched(study, {WINNER: 0.8, RUNNER_UP: 0.7, THIRD: 0.6, PAPER: 0.75})
    add(study, (1.1, 1.1, 1.2), 0, correct=correct_at(0.95, 0), on_constraint=False)  # off the constraint
    spec = grid_spec(definition(), CLASSES)
    rows = fidelity_rows(study.get_trials(), spec, top=2)
    assert list(rows["candidate"]) == [candidate_id(WINNER), candidate_id(RUNNER_UP), candidate_id(PAPER)]
    plan = fidelity_plan(rows, spec, seeds=2, planned_epochs=8, long_resolution=48)
    assert len(plan) == 6 and {run.seed for run in plan} == set(SEEDS[:2])
    assert {run.planned_epochs for run in plan} == {8} and {run.base_resolution for run in plan} == {48}
    assert plan[0].key == f"fidelity/{candidate_id(WINNER)}/seed{SEEDS[0]}" and len({r.key for r in plan}) == 6
    assert plan[0].resolution == 64  # 48 px scaled by gamma 1.3 at phi 1 (62.4), to a multiple of 4: what trains
    assert plan[0].attrs()[PLANNED_EPOCHS] == 8 and plan[0].attrs()[PLANNED_BASE_RESOLUTION] == 48
    # the same trials planned again give the same keys: what resume relies on
    assert [run.key for run in fidelity_plan(rows, spec, 2, 8, 48)] == [run.key for run in plan]


def test_the_default_retrains_five_candidates_contenders_first():
    top = ValidationOptions().resolved(study_phi=1.0, study_seeds=2).top
    assert top == 5
    spec = grid_spec(definition(), CLASSES)
    # six contenders: the best five of them, then the paper's point
    many = memory_study()
    searched(many, {WINNER: 0.8, RUNNER_UP: 0.78, THIRD: 0.76, MORE[0]: 0.74, MORE[1]: 0.72, MORE[2]: 0.7,
                    PAPER: 0.75})
    rows = fidelity_rows(many.get_trials(), spec, top)
    assert list(rows["candidate"]) == [candidate_id(p) for p in (WINNER, RUNNER_UP, THIRD, *MORE[:2], PAPER)]
    assert list(rows["contender"]) == [True] * 5 + [False]
    # three contenders: they come first, then the paper's point, then the best of the others up to five in all
    few = memory_study()
    searched(few, {WINNER: 0.8, RUNNER_UP: 0.7, THIRD: 0.6, PAPER: 0.75})
    add(few, MORE[0], 0, correct=correct_at(0.95, 0), on_constraint=False)  # no contender, the best proxy score
    add(few, MORE[1], 0, kind="depth-only", correct=correct_at(0.65, 0), on_constraint=False)  # a baseline
    add(few, MORE[2], 0, correct=correct_at(0.9, 0), state=TrialState.FAIL)  # a failed seed: never retrained
    add(few, MORE[3], 0, correct=correct_at(0.5, 0), on_constraint=False)  # a sixth: not needed
    rows = fidelity_rows(few.get_trials(), spec, top)
    assert list(rows["candidate"]) == [candidate_id(p) for p in (WINNER, RUNNER_UP, THIRD, PAPER, MORE[0])]
    assert list(rows["contender"]) == [True, True, True, False, False]
    plan = fidelity_plan(rows, spec, seeds=2, planned_epochs=8, long_resolution=32)
    assert len({run.candidate for run in plan}) == 5 and len(plan) == 10
    # an explicit choice is kept: at least 6 where the study has them
    assert list(fidelity_rows(few.get_trials(), spec, 6)["candidate"])[-2:] == [candidate_id(MORE[0]),
                                                                               candidate_id(MORE[1])]
    # a study with fewer candidates retrains what it has
    two = memory_study()
    searched(two, {WINNER: 0.8, RUNNER_UP: 0.7, PAPER: 0.75})
    assert len(fidelity_rows(two.get_trials(), spec, top)) == 3


def test_the_plan_line_says_when_too_few_candidates_allow_no_verdict():
    spec = grid_spec(definition(), CLASSES)
    study = memory_study()
    searched(study, {WINNER: 0.8, RUNNER_UP: 0.7, THIRD: 0.6, PAPER: 0.75})
    plan = fidelity_plan(fidelity_rows(study.get_trials(), spec, 5), spec, 2, 8, 32)
    options = ValidationOptions().resolved(study_phi=1.0, study_seeds=2)
    line = plan_line("made", plan, plan, options)
    assert line.startswith("validation of 'made': 8 rank-fidelity runs and 0 scale-up runs to add")
    assert "only 4 candidates to rank, so rank fidelity will report rho, tau and p without a verdict" in line
    searched(study, {MORE[0]: 0.65})
    plan = fidelity_plan(fidelity_rows(study.get_trials(), spec, 5), spec, 2, 8, 32)
    assert "without a verdict" not in plan_line("made", plan, [], options)


def test_scale_up_members_match_in_cost_and_a_member_equal_to_another_trains_once():
    spec = grid_spec(definition(), CLASSES)
    members = members_at(spec, WINNER, (2.0,), analytic_counts)[2.0]
    kinds = [member.kind for member in members]
    assert kinds == ["study", "paper", "depth-only", "width-only", "resolution-only"]
    for member in members:
        if member.kind != "paper":
            assert member.matched and abs(member.cost_ratio - 1) <= spec.tolerance
    plan = scale_up_plan(members, spec, seeds=2, planned_epochs=2)
    assert len(plan) == 10 and {run.phi for run in plan} == {2.0}
    assert all(run.key.startswith("scaleup/phi2/") for run in plan)
    same = members_at(spec, PAPER, (2.0,), analytic_counts)[2.0]  # the study's answer is the paper's point
    assert len(scale_up_plan(same, spec, seeds=2, planned_epochs=2)) == 8
    records = member_records(same)
    assert records[0]["candidate"] == records[1]["candidate"] == candidate_id(PAPER)


def test_the_search_space_grows_to_hold_every_planned_value():
    spec = grid_spec(definition(), CLASSES)
    plan = scale_up_plan(members_at(spec, WINNER, (2.0,), analytic_counts)[2.0], spec, seeds=2, planned_epochs=2)
    bounds = space_holding({"alpha": [1.0, 1.2]}, plan)
    for index, name in enumerate(("alpha", "beta", "gamma")):
        low, high = bounds[name]
        assert all(low <= run.coefficients[index] <= high for run in plan)
    assert bounds["alpha"][0] == 1.0 and bounds["seed"] == [SEEDS[0], SEEDS[1]]


# --------------------------------------------------------------------------- answer


def test_a_ranking_the_long_runs_keep_agrees_and_the_winner_keeps_its_place():
    parent = memory_study()
    proxy = {WINNER: 0.80, RUNNER_UP: 0.75, THIRD: 0.70, MORE[0]: 0.65, MORE[1]: 0.60, PAPER: 0.50}
    searched(parent, proxy, seeds=(0, 1))
    runs = memory_study()
    validated(runs, {point: rate + 0.1 for point, rate in proxy.items()})
    answer = fidelity_answer(parent.get_trials(), with_validation_attrs(runs).get_trials(), candidate_id(WINNER))
    found = answer.rank_fidelity
    assert found.spearman == pytest.approx(1.0) and found.kendall == pytest.approx(1.0)
    assert found.permutation_p == pytest.approx(1 / 720) and found.winner_kept
    assert answer.sentence.startswith("Proxy and long ranks agree")
    assert answer.answer_long_rank == 1 and answer.long_winner.against_proxy_winner is None
    assert [row.proxy_rank for row in answer.candidates] == [1, 2, 3, 4, 5, 6]
    assert [row.contender for row in answer.candidates] == [True] * 5 + [False]  # the paper's point does not contend
    assert all(row.long.n_seeds == 3 and row.long.ci95[0] < row.long.score < row.long.ci95[1]
               for row in answer.candidates)


def test_the_same_ranking_of_four_candidates_gives_no_verdict():
    parent = memory_study()
    searched(parent, {WINNER: 0.80, RUNNER_UP: 0.70, THIRD: 0.60, PAPER: 0.50}, seeds=(0, 1))
    runs = memory_study()
    validated(runs, {WINNER: 0.90, RUNNER_UP: 0.80, THIRD: 0.70, PAPER: 0.60})
    answer = fidelity_answer(parent.get_trials(), with_validation_attrs(runs).get_trials(), candidate_id(WINNER))
    assert answer.rank_fidelity.spearman == pytest.approx(1.0)
    assert answer.rank_fidelity.permutation_p == pytest.approx(1 / 24)
    assert answer.sentence.startswith("No verdict from 4 candidates") and "agree:" not in answer.sentence


def test_a_reversed_ranking_is_reported_and_the_flip_compared():
    parent = memory_study()
    proxy = {WINNER: 0.80, RUNNER_UP: 0.75, THIRD: 0.70, MORE[0]: 0.65, MORE[1]: 0.60}
    searched(parent, proxy, seeds=(0, 1))
    runs = memory_study()
    validated(runs, {point: 1.4 - rate for point, rate in proxy.items()})
    answer = fidelity_answer(parent.get_trials(), with_validation_attrs(runs).get_trials(), None)
    assert answer.rank_fidelity.spearman == pytest.approx(-1.0)
    assert answer.rank_fidelity.permutation_p_opposite == pytest.approx(1 / 120)
    assert answer.sentence.startswith("Proxy and long ranks run opposite ways")
    flip = answer.long_winner.against_proxy_winner.comparison
    assert answer.long_winner.candidate == candidate_id(MORE[1]) and flip.resolved and flip.difference > 0


def test_a_failed_long_run_is_counted_and_left_out_of_the_correlation():
    parent = memory_study()
    searched(parent, {WINNER: 0.80, RUNNER_UP: 0.70, THIRD: 0.60}, seeds=(0, 1))
    runs = memory_study()
    validated(runs, {WINNER: 0.9, RUNNER_UP: 0.8, THIRD: 0.7}, failed={(RUNNER_UP, SEEDS[1])})
    answer = fidelity_answer(parent.get_trials(), with_validation_attrs(runs).get_trials(), None)
    assert list(answer.left_out) == [candidate_id(RUNNER_UP)]
    assert candidate_id(RUNNER_UP) not in answer.rank_fidelity.candidates
    row = next(row for row in answer.candidates if row.candidate == candidate_id(RUNNER_UP))
    assert row.long.n_failed == 1 and row.long.n_seeds == 2 and row.long_rank is None
    assert "2 candidates" in answer.sentence  # two left: only whether they kept their order


def test_scale_up_compares_the_study_member_with_the_comparable_members_only():
    spec = grid_spec(definition(base_resolution=224), CLASSES)  # a proxy at the cost scale: matched where trained
    members = members_at(spec, WINNER, (2.0,), analytic_counts)[2.0]
    rates = {"study": 0.85, "paper": 0.80, "depth-only": 0.60, "width-only": 0.84, "resolution-only": 0.70}
    runs = memory_study()
    validated(runs, {m.coefficients: rates[m.kind] for m in members}, stage="scaleup", phi=2.0,
              kinds={m.coefficients: m.kind for m in members})
    records = member_records(members)
    records[1] = dict(records[1], matched=False, cost_ratio=1.56)  # the paper's member misses the tolerance
    found = scale_up_answer(with_validation_attrs(runs).get_trials(), {"2": records})
    assert len(found) == 1 and found[0].phi == 2.0
    rows = {row.kind: row.accuracy for row in found[0].members}
    assert rows["study"].score == pytest.approx(np.mean([correct_at(0.85, s, WINNER).mean() for s in SEEDS]))
    assert rows["study"].ci95[0] < rows["study"].score < rows["study"].ci95[1]
    judged = {c.against: c for c in found[0].comparisons}
    comparisons = {against: c.comparison for against, c in judged.items()}
    assert set(comparisons) == {"depth-only", "width-only", "resolution-only"}  # the paper's member is not judged
    assert comparisons["depth-only"].resolved and comparisons["depth-only"].difference > 0.2
    assert comparisons["depth-only"].paired and comparisons["depth-only"].seeds == 3
    assert not comparisons["width-only"].resolved
    assert all(abs(judged[kind].proxy_ratio - 1) <= spec.tolerance for kind in judged)
    paper = found[0].members[1]
    assert paper.kind == "paper" and paper.accuracy.n_seeds == 3 and not paper.comparable
    assert paper.not_judged.startswith("paper costs 1.56× the study member's MACs at the cost scale")


# --------------------------------------------------------------------------- bad input on the command line


def stored_study(tmp_path, name="made", trials=True, **overrides) -> tuple[str, optuna.Study]:
    """A study in ``tmp_path/studies`` as ``run`` leaves it (definition and class count saved), with search runs."""
    made = definition(study=name, studies_dir=str(tmp_path / "studies"), **overrides)
    study = create_study(open_storage(made.storage_url()), made)
    study.set_user_attr("num_classes", CLASSES)
    if trials:
        searched(study, {WINNER: 0.8, RUNNER_UP: 0.7, PAPER: 0.75})
    return str(tmp_path / "studies"), study


def validate(capsys, *argv) -> tuple[int, str]:
    code = main(["validate", *argv])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("flags", "message"), [
    (["--top", "1"], "top must be >= 2"),
    (["--epochs-factor", "0"], "epochs-factor must be a number > 0"),
    (["--epochs-factor", "-1"], "epochs-factor must be a number > 0"),
    (["--epochs-factor", "x"], "not a number"),
    (["--phis", "1"], "larger than the study's phi 1"),
    (["--phis", "0.5,2"], "larger than the study's phi 1"),
    (["--phis", "2,,3"], "comma-separated"),
    (["--seeds", "0"], "seeds must be >= 1"),
    (["--fidelity-only", "--scale-up-only"], "not allowed with"),
    (["--resume"], "no validation to resume"),
])
def test_bad_flags_are_one_line_and_exit_2(tmp_path, capsys, flags, message):
    studies, _ = stored_study(tmp_path)
    code, err = validate(capsys, "made", "--studies-dir", studies, *flags)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert validation_study_name("made") not in optuna.get_all_study_names(f"sqlite:///{tmp_path}/studies/made.db")


def test_bad_studies_are_one_line_and_exit_2(tmp_path, capsys):
    studies = str(tmp_path / "studies")
    code, err = validate(capsys, "nosuch", "--studies-dir", studies)
    assert code == 2 and "no study database" in err and len(err.strip().splitlines()) == 1

    stored_study(tmp_path, name="empty", trials=False)
    code, err = validate(capsys, "empty", "--studies-dir", studies)
    assert code == 2 and "no complete trial" in err and len(err.strip().splitlines()) == 1

    _, failed = stored_study(tmp_path, name="failed", trials=False)
    add(failed, WINNER, 0, correct=correct_at(0.8, 0), state=TrialState.FAIL)
    code, err = validate(capsys, "failed", "--studies-dir", studies)
    assert code == 2 and "no complete trial" in err

    _, unfinished = stored_study(tmp_path, name="unfinished")
    unfinished.enqueue_trial({"alpha": 1.0, "beta": 1.0, "gamma": 1.0, "seed": 0})
    code, err = validate(capsys, "unfinished", "--studies-dir", studies)
    assert code == 2 and "1 unfinished trials; finish it first" in err

    _, single = stored_study(tmp_path, name="single", trials=False)
    searched(single, {WINNER: 0.8})
    code, err = validate(capsys, "single", "--studies-dir", studies, "--fidelity-only")
    assert code == 2 and "has 1 candidate to rank; rank fidelity needs at least 2" in err

    code, err = validate(capsys, "other", "--studies-dir", studies)  # the database of another study
    assert code == 2 and "no study database" in err
    code, err = validate(capsys, "made", "--storage", f"sqlite:///{tmp_path}/studies/single.db")
    assert code == 2 and "no study named 'made'" in err


def test_help_teaches_both_checks(capsys):
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    out = capsys.readouterr().out
    for text in ("rank fidelity", "scale-up", "--epochs-factor", "--phis", "--resume", "<study>.validate"):
        assert text in out


def test_the_paragraph_says_beat_only_when_resolved_and_never_judges_an_unmatched_member():
    from scaling_search.stats.comparison import Comparison
    from scaling_search.validation.validation_answer import (
        NO_RUNS,
        MemberComparison,
        MemberResult,
        ScaleUpCheck,
        ValidationSettings,
        paragraph,
    )

    def comparison(against, difference, resolved):
        found = Comparison("study", against, difference, None, None, None, None, None, resolved, 3, 0, True, "", 0.01,
                           None, None)
        return MemberComparison(found, "", against, 1.0, 1.0, 0)

    def member(kind, cost_ratio=1.0, proxy_ratio=1.0):
        return MemberResult(kind, kind, 1.0, 1.0, 1.0, 1, cost_ratio, abs(cost_ratio - 1) <= 0.05, 1, proxy_ratio,
                            abs(proxy_ratio - 1) <= 0.05, 32, 224, NO_RUNS)

    settings = ValidationSettings.of(ValidationOptions(epochs_factor=2.0), 2, "synthetic", None)
    members = (member("study"), member("paper", 1.56, 1.34), member("depth-only"), member("width-only"),
               member("resolution-only"))
    scale_up = [ScaleUpCheck(2.0, members, (comparison("depth-only", 0.04, True),
                                            comparison("width-only", -0.03, True),
                                            comparison("resolution-only", 0.05, False)))]
    text = paragraph(settings, None, scale_up)
    assert "beat depth-only (resolved)" in text and "lose to width-only (resolved)" in text
    assert "cannot be told apart from resolution-only at this budget" in text
    assert ("paper costs 1.56× the study member's MACs at the cost scale and trains with 1.34× its compute at the "
            "proxy: shown, not judged") in text
    assert "beat depth-only, paper" not in text and "tied" not in text.replace("not tied", "")
    empty = paragraph(settings, None, [ScaleUpCheck(2.0, (), ())])
    assert "no member could be compared" in empty

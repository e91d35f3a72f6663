"""The report's sentences, from the values they word: every branch of the verdict and the conclusions."""

from __future__ import annotations

from scaling_search.coefficients.grid import GridSpec
from scaling_search.reporting import wording

PLATEAU = {"alpha": [1.0, 1.25], "beta": [1.1, 1.1], "gamma": [1.1, 1.15]}


def conclude(**overrides) -> list[str]:
    values = {"comparisons": [("runner-up", True), ("paper", False)], "plateau": PLATEAU, "refined_phi": None,
              "decided_by": "finalists", "epochs": 5, "base_resolution": 64, "study": "c10", "validated": False}
    return wording.conclusions(**values | overrides)


def test_conclusions_say_what_is_resolved_and_what_is_not():
    lines = conclude()
    assert lines[0] == "It can conclude that the winner beats the runner-up on this proxy task at this budget."
    assert lines[1].startswith("It cannot conclude that the winner beats the paper's (1.2, 1.1, 1.15): the difference "
                               "is not resolved at this budget")
    assert lines[2] == ("It cannot tell apart the coefficients inside the winning plateau (alpha 1.000–1.250, beta "
                        "1.100–1.100, gamma 1.100–1.150): they train and cost the same networks; the exported point "
                        "is its representative (the rule above).")
    assert lines[3] == ("It says nothing yet about longer training or larger scale: every run is a 5-epoch proxy at "
                        "64 px (`scaling-search validate c10` checks both).")
    assert len(lines) == 4  # decided on finalists: no winner's curse


def test_conclusions_of_a_refined_search_decided_and_validated_study():
    lines = conclude(comparisons=[], refined_phi=2.0, decided_by="search", validated=True)
    assert lines == [
        "It has nothing to compare the winner with: only one candidate completed.",
        "Within the winning class it picked the best network at φ = 2; coefficients inside the remaining plateau "
        "alpha 1.000–1.250, beta 1.100–1.100, gamma 1.100–1.150 are still indistinguishable.",
        "The verdict uses the same runs that picked the winner (no finalists), so the winner's lead is biased "
        "upwards (the winner's curse).",
        "Its search runs are 5-epoch proxies at 64 px; whether the answer holds on longer training and at larger "
        "scale is in \"Does the answer hold?\" below.",
    ]
    assert wording.conclusions_paragraph(lines[:1]) == ("**What this study can and cannot conclude.** It has nothing "
                                                        "to compare the winner with: only one candidate completed.")


def test_the_refinement_line_names_its_winner_whether_fresh_seeds_confirmed_it_or_why_it_did_not_decide():
    assert wording.refinement_line(2.0, ran=True, trained=4, winner="a1.1-b1.1-g1.1", reason=None,
                                   outcome="confirmed on fresh seeds: it beats the class's representative (r)",
                                   sentence="w vs r: +1.00 points (…): resolved.", exported=True) == (
        "- Refinement at φ = 2: 4 networks trained; the best is a1.1-b1.1-g1.1, confirmed on fresh seeds: it beats "
        "the class's representative (r). w vs r: +1.00 points (…): resolved. It gives the coefficients above.")
    assert wording.refinement_line(2.0, ran=True, trained=4, winner="w", reason=None,
                                   outcome="not resolved on fresh seeds against the class's representative (r): the "
                                           "class's representative is kept",
                                   sentence="w vs r: +0.20 points (…): not resolved at this budget.") == (
        "- Refinement at φ = 2: 4 networks trained; the best is w, not resolved on fresh seeds against the class's "
        "representative (r): the class's representative is kept. w vs r: +0.20 points (…): not resolved at this "
        "budget.")
    assert wording.refinement_line(2.0, ran=True, trained=4, winner=None, reason="no trial completed") == (
        "- Refinement at φ = 2: did not decide (no trial completed).")
    assert wording.refinement_line(2.0, ran=False, trained=0, winner=None, reason="turned off (--no-refine)") == (
        "- Refinement at φ = 2: not run (turned off (--no-refine)).")


def test_a_comparison_names_the_paper_and_its_cost_only_when_off_the_constraint():
    assert wording.comparison_label("runner-up", True, 1.0) == "the runner-up"
    assert wording.comparison_label("paper", True, 2.0) == "the paper's (1.2, 1.1, 1.15)"
    assert wording.comparison_label("paper", False, 2.234) == ("the paper's (1.2, 1.1, 1.15) (off the constraint: "
                                                               "2.23× the base network's cost)")
    assert wording.comparison_line("the runner-up", "w vs r: resolved.") == "- Against the runner-up: w vs r: resolved."


def test_the_best_sentence_and_the_runs_that_decided():
    assert wording.decided_over("finalists", 2, [1000, 1001]) == "2 fresh finalist seeds (1000, 1001)"
    assert wording.decided_over("search", 1, []) == "1 search seed (no finalists)"
    assert wording.decided_over("search", 3, []) == "3 search seeds (no finalists)"
    sentence = wording.best_sentence(GridSpec(), alpha=1.1, beta=1.1, gamma=1.125, plateau=PLATEAU,
                                     representative="the midpoint", candidate="a1.0-b1.1-g1.1", score=0.81234,
                                     score_std=None, decided="1 search seed (no finalists)", measured_ratio=2.01)
    assert sentence == ("Best coefficients: **α = 1.1, β = 1.1, γ = 1.125**, standing for the plateau α ∈ [1, 1.25], "
                        "β ∈ [1.1, 1.1], γ ∈ [1.1, 1.15] (the midpoint). The winning network (a1.0-b1.1-g1.1) scored "
                        "0.8123 over 1 search seed (no finalists), at 2.01× the base network's (efficientnet_b0's) "
                        "cost at the cost scale.")


def test_a_pair_and_a_scale_up_difference():
    line = wording.compound_pair_line("depth-only", wording.Point(2.0, 1.0, 1.0, 2.0e7, 0.655),
                                      wording.Point(1.0, 1.1, 1.3, 2.04e7, 0.805))
    assert line == ("- depth-only (2, 1, 1), 20 M MACs: 0.6550; compound (1, 1.1, 1.3), 20 M MACs: 0.8050")
    assert wording.difference_text(0.0123, [-0.01, 0.03], False) == "+1.23 pts [-1.00, +3.00], not resolved"
    assert wording.difference_text(-0.2, None, True) == "-20.00 pts, resolved"

"""The scale-up check judges only members matched in compute where they train as well as at the cost scale.

At a 32 px proxy the committed CPU study's members are matched at 224 px but the study member's
40 px network trains with 1.4–1.6× their compute; such members are trained and shown, never
judged. Built from constructed trials (no training), like tests/validation/test_validate.py.
"""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from scaling_search.cli.validate import summary
from scaling_search.coefficients.scaleup import ScaleUpMember
from scaling_search.counting.analytic import analytic_counts
from scaling_search.errors import InputError
from scaling_search.reporting.validation_section import scale_up_frame, validation_lines
from scaling_search.search.search_plan import grid_spec
from scaling_search.validation.options import ValidationOptions
from scaling_search.validation.validation_answer import (
    ValidationAnswer,
    ValidationSettings,
    paragraph,
    scale_up_answer,
)
from scaling_search.validation.validation_driver import ValidationOutcome
from scaling_search.validation.validation_plan import member_records, members_at, scale_up_plan
from tests.search.test_verdict import definition
from tests.validation.test_validate import CLASSES, memory_study, validated, with_validation_attrs

BEST = (1.0, 1.2, 1.104)  # the committed CPU study's answer
RATES = {"study": 0.85, "paper": 0.80, "depth-only": 0.55, "width-only": 0.60, "resolution-only": 0.84}
VERDICTS = ("beat", "lose to", "resolved", "cannot be told apart")


def members(base_resolution: int) -> list[ScaleUpMember]:
    return members_at(grid_spec(definition(base_resolution=base_resolution), CLASSES), BEST, (2.0,),
                      analytic_counts)[2.0]


def trained(found: list[ScaleUpMember], records: list[dict] | None = None) -> tuple:
    """Validation runs of ``found`` on two fresh seeds at ``RATES``, and the scale-up check they make."""
    runs = memory_study()
    validated(runs, {m.coefficients: RATES[m.kind] for m in found}, stage="scaleup", phi=2.0,
              kinds={m.coefficients: m.kind for m in found})
    check = scale_up_answer(with_validation_attrs(runs).get_trials(), {"2": records or member_records(found)},
                            "c10")
    return check


def settings() -> ValidationSettings:
    return ValidationSettings.of(ValidationOptions(epochs_factor=2.0, seeds=2, phis=(2.0,), long_resolution=32), 2,
                                 "synthetic", None)


def test_members_unmatched_where_they_train_are_shown_and_not_judged():
    found = members(32)
    assert all(m.matched and not m.proxy_matched for m in found[2:])  # matched at 224 px, not at the 32 px proxy
    plan = scale_up_plan(found, grid_spec(definition(), CLASSES), seeds=2, planned_epochs=2)
    width = next(run for run in plan if run.kind == "width-only")
    assert width.attrs()["matched"] and not width.attrs()["proxy_matched"]
    assert width.attrs()["proxy_ratio"] == pytest.approx(found[3].proxy_ratio)
    (check,) = trained(found)
    assert check.comparisons == ()  # depth-only is far behind (0.55 against 0.85), and still not judged
    shown = {row.kind: row for row in check.members}
    for kind in ("depth-only", "width-only", "resolution-only"):
        row = shown[kind]
        assert row.accuracy.n_seeds == 3 and row.accuracy.score is not None and not row.comparable
        assert row.not_judged == (f"{kind} trains with {row.proxy_ratio:.2f}× the study member's compute at the "
                                  "proxy: shown, not judged")
    assert shown["depth-only"].not_judged.startswith("depth-only trains with 0.63×")
    text = paragraph(settings(), None, [check])
    assert "no member is matched with the study member in compute at both scales, so none is judged" in text
    assert "width-only trains with 0.63× the study member's compute at the proxy: shown, not judged" in text
    assert not any(verdict in text for verdict in VERDICTS), text
    frame = scale_up_frame(check)
    assert list(frame["flag"]) == ["", "not judged", "not judged", "not judged", "not judged"]
    assert list(frame["study_minus_member"]) == [""] * 5


def test_members_matched_at_both_scales_are_judged_and_one_unmatched_where_trained_is_not():
    found = members(224)  # the proxy at the cost scale's resolution: every single-dimension member is comparable
    assert all(m.comparable for m in found[2:])
    records = member_records(found)
    records[4] = dict(records[4], proxy_ratio=0.61, proxy_matched=False, comparable=False)  # as at a 32 px proxy
    (check,) = trained(found, records)
    judged = {c.against: c for c in check.comparisons}
    assert set(judged) == {"depth-only", "width-only"}
    assert judged["depth-only"].comparison.resolved and judged["depth-only"].comparison.difference > 0.2
    assert judged["width-only"].proxy_ratio == pytest.approx(found[3].proxy_ratio)
    text = paragraph(settings(), None, [check])
    assert "the study's coefficients beat depth-only, width-only (resolved)" in text
    assert "resolution-only trains with 0.61× the study member's compute at the proxy: shown, not judged" in text
    assert "resolution-only (resolved)" not in text and "apart from resolution-only" not in text

    answer = ValidationAnswer("c10", "c10.validate", settings(), None, None, (check,), {"complete": 10}, text)
    assert ValidationAnswer.from_json(answer.to_json()) == answer
    outcome = ValidationOutcome("c10", "c10.validate", answer, {"complete": 10, "fail": 0, "waiting": 0,
                                                                "running": 0}, [], False, True, Path("v.json"))
    console = summary(outcome)
    assert "trained vs study" in console and "\n  resolution-only trains with 0.61×" in console
    lines = validation_lines(answer, {"scale_up_phi2": "TABLE"})
    assert "- resolution-only trains with 0.61× the study member's compute at the proxy: shown, not judged." in lines


def test_members_saved_without_their_proxy_compute_are_refused_in_one_line():
    found = members(32)
    old = [{key: value for key, value in record.items() if not key.startswith("proxy_") and key != "comparable"}
           | {"proxy_resolution": record["proxy_resolution"]} for record in member_records(found)]
    with pytest.raises(InputError, match=r"run 'scaling-search validate c10 --phis 2' to re-plan them") as refused:
        trained(found, old)
    assert len(str(refused.value).splitlines()) == 1


def test_saved_members_of_a_phi_are_replaced_with_their_proxy_compute_and_others_kept():
    from scaling_search.validation.validation_driver import save_members

    study = optuna.create_study()
    study.set_user_attr("members", {"3": [{"kind": "study"}], "2": [{"kind": "old"}]})
    save_members(study, {2.0: members(32)})
    saved = study.user_attrs["members"]
    assert saved["3"] == [{"kind": "study"}] and saved["2"][0]["kind"] == "study"
    assert all("proxy_ratio" in record and "comparable" in record for record in saved["2"])

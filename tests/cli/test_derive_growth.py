"""`scaling-search derive` says how fast the family grows per phi beside --target, and flags a family off it."""

from __future__ import annotations

import json

import pytest

from scaling_search.coefficients.family import GROWTH_TARGET, GROWTH_TOLERANCE
from scaling_search.coefficients.grid import GridSpec
from tests.cli_helpers import cli_error, run_cli

PAPER = ("--alpha", "1.2", "--beta", "1.1", "--gamma", "1.15")
SLOW = ("--alpha", "1.05", "--beta", "1.05", "--gamma", "1.05")
GROWTH_KEYS = {"growth_per_phi", "growth_phi", "target", "growth_tolerance", "on_growth"}


def derive_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    code, out, err = run_cli(capsys, "derive", "--counter", "analytic", *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_a_family_that_meets_2x_at_phi_1_by_rounding_only_is_off_growth(capsys):
    data = derive_json(capsys, *SLOW)
    assert data["on_growth"] is False and data["growth_per_phi"] < 1.4
    assert data["growth_phi"] == 7 and data["target"] == 2.0 and data["growth_tolerance"] == 0.05


def test_the_papers_family_is_on_growth(capsys):
    data = derive_json(capsys)  # the defaults are the paper's (1.2, 1.1, 1.15)
    assert set(data) >= GROWTH_KEYS and {"derived", "released"} <= set(data)
    assert data["on_growth"] is True and round(data["growth_per_phi"], 3) == 1.938 and data["growth_phi"] == 7
    assert derive_json(capsys, *PAPER)["growth_per_phi"] == data["growth_per_phi"]


def test_the_growth_is_that_of_the_phi_7_member_counted_at_the_derivation_scale(capsys):
    """growth_per_phi^7 is the φ = 7 row's MACs ratio, at any --base-resolution and --num-classes."""
    growths = []
    for scale in ((), ("--base-resolution", "128", "--num-classes", "10")):
        data = derive_json(capsys, *scale)
        (phi7,) = [row for row in data["derived"] if row["phi"] == 7]
        assert data["growth_per_phi"] ** 7 == pytest.approx(phi7["macs_ratio"], rel=1e-9)
        growths.append(data["growth_per_phi"])
    assert growths[0] != growths[1]


def test_the_defaults_are_the_grids_target_and_tolerance():
    assert (GROWTH_TARGET, GROWTH_TOLERANCE) == (GridSpec().target, GridSpec().tolerance) == (2.0, 0.05)


def test_target_and_growth_tolerance_decide_the_flag(capsys):
    assert derive_json(capsys, "--target", "1.9")["on_growth"] is True  # 1.938 is within 5 % of 1.9
    off = derive_json(capsys, "--target", "1.5", "--growth-tolerance", "0.1")
    assert off["on_growth"] is False and off["target"] == 1.5 and off["growth_tolerance"] == 0.1
    assert derive_json(capsys, *SLOW, "--target", "1.3", "--growth-tolerance", "0.02")["on_growth"] is True


def test_the_text_output_says_the_growth_under_the_table(capsys):
    code, out, _ = run_cli(capsys, "derive", "--counter", "analytic", "--phis", "0,1")
    assert code == 0
    assert "Growth per phi: 1.938 (phi = 7 member 102.8x the base), target 2 +- 5%: on growth." in out.splitlines()
    code, out, _ = run_cli(capsys, "derive", "--counter", "analytic", "--phis", "0,1", *SLOW)
    (line,) = [line for line in out.splitlines() if line.startswith("Growth per phi:")]
    assert line.startswith("Growth per phi: 1.307 (phi = 7 member 6.5x the base), target 2 +- 5%: OFF growth")
    assert "does not double per phi" in line and "not 128x" in line


def test_another_base_has_its_growth_too(capsys):
    data = derive_json(capsys, "--base", "resnet50", *PAPER)
    assert data["base"] == "resnet50" and data["released"] == [] and set(data) >= GROWTH_KEYS
    b0 = derive_json(capsys, *PAPER)
    assert data["growth_phi"] == 7 and data["growth_per_phi"] != b0["growth_per_phi"]
    (phi7,) = [row for row in data["derived"] if row["phi"] == 7]
    assert data["growth_per_phi"] ** 7 == pytest.approx(phi7["macs_ratio"], rel=1e-9)
    assert data["on_growth"] == (abs(data["growth_per_phi"] - 2) <= 0.1)
    code, out, _ = run_cli(capsys, "derive", "--counter", "analytic", "--base", "resnet50", "--phis", "0")
    assert code == 0 and any(line.startswith("Growth per phi: ") for line in out.splitlines())


def test_a_family_whose_phi_7_member_cannot_be_built_is_measured_at_a_smaller_phi_and_says_so(capsys):
    """Depth 2^7 = 128 is past the largest multiplier (64), so φ = 6 is the largest member there is."""
    data = derive_json(capsys, "--alpha", "2", "--beta", "1", "--gamma", "1", "--phis", "0-3")
    assert data["growth_phi"] == 6 and data["on_growth"] is True
    code, out, _ = run_cli(capsys, "derive", "--counter", "analytic", "--alpha", "2", "--beta", "1", "--gamma", "1",
                           "--phis", "0,1")
    (line,) = [line for line in out.splitlines() if line.startswith("Growth per phi:")]
    assert code == 0 and "(phi = 6 member" in line and "The phi = 7 member cannot be built" in line
    assert "so phi = 6 was used" in line


@pytest.mark.parametrize(("argv", "said"), [(("--target", "1"), "target cost ratio must be > 1"),
                                            (("--growth-tolerance", "0"), "growth tolerance must lie in (0, 1)"),
                                            (("--growth-tolerance", "1.5"), "growth tolerance must lie in (0, 1)")])
def test_a_bad_target_or_growth_tolerance_is_refused(capsys, argv, said):
    assert said in cli_error(capsys, "derive", "--counter", "analytic", "--phis", "0", *argv)

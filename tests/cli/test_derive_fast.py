"""`scaling-search derive --fast [ALPHA_W]`: fast scaling's family (Dollár et al. 2021), matched in growth per phi."""

from __future__ import annotations

import pytest

from scaling_search.coefficients.fast_scaling import fast_coefficients, fast_point
from scaling_search.models.bases import base_network
from tests.cli.test_derive_growth import GROWTH_KEYS, derive_json
from tests.cli_helpers import cli_error, run_cli


def test_fast_json_says_the_width_share_and_the_nominal_and_matched_points_and_keeps_the_growth(capsys):
    data = derive_json(capsys, "--fast")
    assert set(data) >= GROWTH_KEYS | {"derived", "released", "fast"}
    fast = data["fast"]
    assert set(fast) == {"width_share", "nominal", "matched", "growth_per_phi", "matched_ratio", "cost"}
    assert fast["width_share"] == 0.8 and fast["cost"] == "macs"
    assert fast["nominal"] == list(fast_coefficients(0.8, 2.0))
    assert fast["matched"] == list(fast_point().matched)
    assert fast["growth_per_phi"] == data["growth_per_phi"] == pytest.approx(2.0, rel=0.005)
    (phi1,) = [row for row in data["derived"] if row["phi"] == 1]
    assert phi1["macs_ratio"] == pytest.approx(fast["matched_ratio"], rel=1e-12)  # the family derived is the matched
    assert (phi1["depth"], phi1["width"]) == tuple(fast["matched"][:2])
    (phi7,) = [row for row in data["derived"] if row["phi"] == 7]
    assert data["growth_per_phi"] ** 7 == pytest.approx(phi7["macs_ratio"], rel=1e-9)


def test_fast_takes_another_width_share_and_the_target(capsys):
    default, half = derive_json(capsys, "--fast"), derive_json(capsys, "--fast", "0.5")
    assert half["fast"]["width_share"] == 0.5 and half["fast"]["nominal"] == list(fast_coefficients(0.5, 2.0))
    assert half["fast"]["matched"] != default["fast"]["matched"]
    assert half["growth_per_phi"] != default["growth_per_phi"]
    width_only = derive_json(capsys, "--fast", "1")["fast"]["matched"]
    assert width_only[0] == width_only[2] == 1.0
    three = derive_json(capsys, "--fast", "--target", "3", "--phis", "0,1")
    assert three["target"] == 3.0 and three["fast"]["nominal"] == list(fast_coefficients(0.8, 3.0))
    assert three["fast"]["growth_per_phi"] == three["growth_per_phi"] == pytest.approx(3.0, rel=0.01)
    acts = derive_json(capsys, "--fast", "--cost", "activations", "--phis", "0,1")
    assert acts["growth_cost"] == acts["fast"]["cost"] == "activations"
    assert acts["growth_per_phi"] == pytest.approx(2.0, rel=0.005)
    assert acts["fast"]["matched"] != default["fast"]["matched"]


def test_fast_is_matched_where_the_members_are_counted(capsys):
    data = derive_json(capsys, "--fast", "--base", "resnet50", "--base-resolution", "160", "--phis", "0,1")
    assert data["fast"]["matched"] == list(fast_point(base_resolution=160, base=base_network("resnet50")).matched)
    (phi1,) = [row for row in data["derived"] if row["phi"] == 1]
    assert phi1["macs_ratio"] == pytest.approx(data["fast"]["matched_ratio"], rel=1e-12)


def test_the_text_output_says_which_coefficients_fast_chose_and_keeps_the_growth_line(capsys):
    code, out, _ = run_cli(capsys, "derive", "--counter", "analytic", "--fast", "--phis", "0,1")
    lines = out.splitlines()
    assert code == 0
    assert lines[0].startswith("Fast scaling (Dollar et al. 2021), width share 0.8: nominal (1.0718, 1.3195, 1.0353) "
                               "for 2x per phi; matched to grow 2x per phi in macs: (")
    assert any(line.startswith("Growth per phi: ") for line in lines)


def test_without_fast_nothing_changes(capsys):
    data = derive_json(capsys, "--phis", "0,1")
    assert "fast" not in data and round(data["growth_per_phi"], 3) == 1.938


@pytest.mark.parametrize("given", [("--alpha", "1.2"), ("--beta", "1.1", "--gamma", "1.15")])
def test_fast_with_explicit_coefficients_is_refused_in_one_line(capsys, given):
    line = cli_error(capsys, "derive", "--counter", "analytic", "--fast", *given)
    assert "--fast chooses alpha, beta and gamma itself" in line and given[0] in line


@pytest.mark.parametrize(("value", "said"), [("1.5", "width share must lie in (0, 1], got 1.5"),
                                             ("0", "width share must lie in (0, 1], got 0"),
                                             ("abc", "argument --fast: not a number: 'abc'"),
                                             ("nan", "argument --fast: must be finite")])
def test_a_bad_width_share_is_refused_in_one_line(capsys, value, said):
    assert said in cli_error(capsys, "derive", "--counter", "analytic", "--fast", value)


def test_help_explains_fast_scaling_with_its_citation(capsys):
    with pytest.raises(SystemExit):
        run_cli(capsys, "derive", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "Fast and Accurate Model Scaling" in text and "CVPR 2021" in text and "--fast [ALPHA_W]" in text

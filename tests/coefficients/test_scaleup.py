"""Scale-up members: the study's answer, the paper's and single-dimension networks at a larger φ, matched in cost."""

import dataclasses
import json

import pytest

from scaling_search.coefficients.grid import GridSpec
from scaling_search.coefficients.scaleup import ScaleUpMember, scale_up_members
from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.counter import make_counter
from scaling_search.errors import InputError
from scaling_search.models.architecture import PAPER_COEFFICIENTS
from scaling_search.models.scaling import compound_layout

SPEC = GridSpec(base_resolution=32, num_classes=10)
BEST = (1.0, 1.2, 1.1)
SINGLE = {"depth-only": 0, "width-only": 1, "resolution-only": 2}


def cost_macs(coefficients, phi, spec=SPEC):
    """Closed-form MACs at the cost scale, computed here without the module under test."""
    layout = compound_layout(*coefficients, phi, spec.cost_resolution, spec.cost_classes, spec.resolution_multiple)
    return analytic_counts(layout).macs


@pytest.fixture(scope="module", params=[2, 3])
def members(request):
    return request.param, scale_up_members(SPEC, BEST, request.param, analytic_counts)


def test_members_come_in_order_with_the_study_member_first(members):
    phi, found = members
    assert [m.kind for m in found] == ["study", "paper", "depth-only", "width-only", "resolution-only"]
    study, paper = found[0], found[1]
    assert study.coefficients == BEST and paper.coefficients == PAPER_COEFFICIENTS
    assert all(m.phi == phi for m in found)
    assert study.cost_ratio == 1.0 and study.matched
    assert study.macs == cost_macs(BEST, phi)


def test_single_dimension_members_cost_within_tolerance_of_the_study_member(members):
    phi, found = members
    study_macs = cost_macs(BEST, phi)
    for member in found[2:]:
        actual = cost_macs(member.coefficients, phi)
        assert member.macs == actual
        assert abs(actual / study_macs - 1) <= SPEC.tolerance, (member.kind, actual / study_macs)
        assert member.matched


def test_each_single_dimension_member_scales_exactly_one_dimension(members):
    _, found = members
    for member in found[2:]:
        axis = SINGLE[member.kind]
        assert member.coefficients[axis] > 1.0
        assert [v for i, v in enumerate(member.coefficients) if i != axis] == [1.0, 1.0]


def proxy_macs(coefficients, phi, spec=SPEC):
    """Closed-form MACs of the network a member trains (the proxy), computed here without the module under test."""
    layout = compound_layout(*coefficients, phi, spec.base_resolution, spec.num_classes, spec.resolution_multiple)
    return analytic_counts(layout).macs


def test_single_dimension_coefficient_is_matched_at_the_cost_scale_and_nearest_at_the_proxy(members):
    phi, found = members
    study_macs, study_proxy = cost_macs(BEST, phi), proxy_macs(BEST, phi)
    for member in found[2:]:
        axis = SINGLE[member.kind]
        admissible, point, step = [], [1.0, 1.0, 1.0], 0
        while cost_macs(point, phi) <= (1 + SPEC.tolerance) * study_macs:  # the fine 1-D grid, cost growing with it
            if abs(cost_macs(point, phi) / study_macs - 1) <= SPEC.tolerance:
                admissible.append((abs(proxy_macs(point, phi) - study_proxy), abs(cost_macs(point, phi) - study_macs),
                                   point[axis]))
            step += 1
            point[axis] = round(1 + 0.005 * step, 6)
        assert admissible, member.kind
        assert member.coefficients[axis] == min(admissible)[2], (member.kind, min(admissible))


def test_paper_member_is_flagged_by_its_actual_ratio(members):
    phi, found = members
    paper = found[1]
    ratio = cost_macs(PAPER_COEFFICIENTS, phi) / cost_macs(BEST, phi)
    assert paper.cost_ratio == pytest.approx(ratio, rel=1e-12)
    assert paper.matched == (abs(ratio - 1) <= SPEC.tolerance)
    assert not paper.matched  # this study's answer is much cheaper than the paper's at both phi


def test_paper_member_is_matched_when_the_study_found_the_paper_point():
    paper = scale_up_members(SPEC, PAPER_COEFFICIENTS, 2, analytic_counts)[1]
    assert paper.cost_ratio == 1.0 and paper.matched


def test_proxy_and_cost_scales_are_the_studys(members):
    phi, found = members
    for member in found:
        proxy = compound_layout(*member.coefficients, phi, SPEC.base_resolution, SPEC.num_classes,
                                SPEC.resolution_multiple)
        assert member.proxy_layout == proxy and member.proxy_resolution == proxy.resolution
        assert member.proxy_layout.num_classes == SPEC.num_classes
        assert member.cost_resolution == compound_layout(*member.coefficients, phi, SPEC.cost_resolution,
                                                         SPEC.cost_classes, SPEC.resolution_multiple).resolution
    assert found[0].cost_resolution > SPEC.cost_resolution and found[0].proxy_resolution > SPEC.base_resolution


def test_cost_scale_is_where_members_are_matched():
    spec = dataclasses.replace(SPEC, cost_resolution=320, cost_classes=100)
    found = scale_up_members(spec, BEST, 2, analytic_counts)
    study_macs = cost_macs(BEST, 2, spec)
    assert found[0].macs == study_macs
    for member in found[2:]:
        assert abs(cost_macs(member.coefficients, 2, spec) / study_macs - 1) <= spec.tolerance


@pytest.mark.parametrize("phi", [1, 0.5, 1.0, float("nan"), float("inf")])
def test_phi_must_exceed_the_studys(phi):
    with pytest.raises(InputError, match="scale-up phi must be larger than the study's phi"):
        scale_up_members(SPEC, BEST, phi, analytic_counts)


def test_phi_must_be_positive_even_past_a_negative_study_phi():
    spec = dataclasses.replace(SPEC, phi=-1.0)
    with pytest.raises(InputError, match="positive"):
        scale_up_members(spec, BEST, 0.0, analytic_counts)


def test_best_must_be_three_coefficients():
    with pytest.raises(InputError, match="three coefficients"):
        scale_up_members(SPEC, (1.2, 1.1), 2, analytic_counts)


def test_deterministic(members):
    phi, found = members
    assert scale_up_members(SPEC, BEST, phi, analytic_counts) == found


def test_to_dict_is_json_ready_without_the_layout(members):
    _, found = members
    row = json.loads(json.dumps(found[2].to_dict()))
    assert "proxy_layout" not in row
    assert row["kind"] == "depth-only" and row["coefficients"] == list(found[2].coefficients)
    assert set(row) == {"kind", "coefficients", "phi", "macs", "cost_ratio", "matched", "cost_resolution",
                        "proxy_resolution", "proxy_macs", "proxy_ratio", "proxy_matched", "comparable"}
    assert row["comparable"] == found[2].comparable == (found[2].matched and found[2].proxy_matched)


def test_member_checks_itself(members):
    _, found = members
    with pytest.raises(InputError, match="kind"):
        dataclasses.replace(found[0], kind="compound")
    with pytest.raises(InputError, match="macs"):
        dataclasses.replace(found[0], macs=0)
    with pytest.raises(InputError, match="proxy macs"):
        dataclasses.replace(found[0], proxy_macs=0)
    with pytest.raises(InputError, match="proxy ratio"):
        dataclasses.replace(found[0], proxy_ratio=float("nan"))
    with pytest.raises(InputError, match="proxy resolution"):
        dataclasses.replace(found[0], proxy_resolution=found[0].proxy_resolution + 1)
    assert isinstance(found[0], ScaleUpMember)


def test_fvcore_counter_gives_the_same_members(tmp_path):
    pytest.importorskip("fvcore")
    analytic = scale_up_members(SPEC, BEST, 2, analytic_counts)
    assert scale_up_members(SPEC, BEST, 2, make_counter("fvcore", tmp_path)) == analytic  # the counts agree exactly

"""The constrained (α, β, γ) grid and the derived family."""

import argparse
import math
import warnings

import pytest

from scaling_search.coefficients.family import cost_dropout, derive, derive_family, parse_phis, released_family
from scaling_search.coefficients.grid import (
    GridSpec,
    candidates,
    cost_layout,
    enumerate_candidates,
    single_dimension,
)
from scaling_search.coefficients.grid_checks import CONSTRAINTS, axis_values
from scaling_search.coefficients.growth import family_growth
from scaling_search.counting.analytic import analytic_counts
from scaling_search.errors import InputError
from scaling_search.models.architecture import FAMILY_PHIS, released_model
from scaling_search.models.scaling import base_layout, compound_layout, released_layout
from scaling_search.study.definition import StudyDefinition


@pytest.mark.parametrize(("multiple", "cost_resolution", "measured"), [(4, 256, 2.2287), (1, 258, 2.5728)])
def test_reference_point_nominal_and_measured(multiple, cost_resolution, measured):
    """224 · 1.15 = 257.6 px: 256 px keeps B0's last feature maps at 8 x 8, 258 px makes them 9 x 9."""
    found = enumerate_candidates(GridSpec(resolution_multiple=multiple), analytic_counts)
    (reference,) = [c for c in found if c.kind == "reference"]
    assert reference.coefficients == (1.2, 1.1, 1.15)
    assert reference.nominal_ratio == pytest.approx(1.92027, abs=1e-5)
    assert reference.cost_resolution == cost_resolution
    assert reference.measured_ratio == pytest.approx(measured, abs=1e-4)


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_every_compound_candidate_meets_its_constraint(constraint):
    spec = GridSpec(constraint=constraint, tolerance=0.04)
    found = enumerate_candidates(spec, analytic_counts)
    compound = [c for c in found if c.kind == "compound"]
    assert compound
    for c in compound:
        ratio = c.measured_ratio if constraint == "measured" else c.nominal_ratio
        assert c.on_constraint == (abs(ratio - 2.0) <= 0.04 * 2.0)
        assert c.contender == (abs(c.growth_per_phi - 2.0) <= 0.04 * 2.0 and abs(c.proxy_ratio - 2.0) <= 0.04 * 2.0)
        assert c.on_growth == (abs(c.growth_per_phi - 2.0) <= 0.04 * 2.0)
        assert c.on_constraint or c.on_growth  # what is listed: on the constraint, or growing as promised
        assert c.coefficients != (1.0, 1.0, 1.0)
        assert min(c.coefficients) >= 1.0


def test_nominal_grid_is_exactly_the_points_within_tolerance():
    spec = GridSpec(constraint="nominal", step=0.1)
    got = {c.coefficients for c in enumerate_candidates(spec, analytic_counts)
           if c.kind == "compound" and c.on_constraint}
    expected = {
        (a, b, g)
        for a in axis_values(spec.alpha_range, 0.1)
        for b in axis_values(spec.beta_range, 0.1)
        for g in axis_values(spec.gamma_range, 0.1)
        if abs(a * b * b * g * g - 2) <= 0.1 and (a, b, g) != (1.0, 1.0, 1.0)
    }
    assert got == expected


def test_measured_prefilter_loses_nothing():
    """Brute force on a coarse grid: every point within tolerance by measurement, or growing as promised, is kept."""
    spec = GridSpec(step=0.1, tolerance=0.05)
    base = analytic_counts(spec.base_cost_layout()).macs

    on_constraint, growing = set(), set()
    for a in axis_values(spec.alpha_range, 0.1):
        for b in axis_values(spec.beta_range, 0.1):
            for g in axis_values(spec.gamma_range, 0.1):
                if (a, b, g) != (1.0, 1.0, 1.0):
                    ratio = analytic_counts(cost_layout(spec, a, b, g)).macs / base
                    if abs(ratio - 2) <= 0.1:
                        on_constraint.add((a, b, g))
                    if abs(family_growth((a, b, g)).per_phi - 2) <= 0.1:
                        growing.add((a, b, g))
    found = [c for c in enumerate_candidates(spec, analytic_counts) if c.kind == "compound"]
    assert {c.coefficients for c in found} == on_constraint | growing
    assert {c.coefficients for c in found if c.on_constraint} == on_constraint
    assert {c.coefficients for c in found if c.on_growth} == growing


@pytest.mark.parametrize("phi", [1.0, -1.0])
def test_baselines_single_dimension_at_same_cost(phi):
    spec = GridSpec(baselines=True, phi=phi)
    found = enumerate_candidates(spec, analytic_counts)
    kinds = {c.kind: c for c in found}
    assert {"depth-only", "width-only", "resolution-only"} <= set(kinds)
    assert kinds["depth-only"].beta == kinds["depth-only"].gamma == 1.0
    assert kinds["width-only"].alpha == kinds["width-only"].gamma == 1.0
    assert kinds["resolution-only"].alpha == kinds["resolution-only"].beta == 1.0
    for kind in ("width-only", "resolution-only"):  # depth moves in whole blocks, so only roughly
        assert kinds[kind].measured_ratio == pytest.approx(2.0**phi, rel=0.05)
    assert kinds["depth-only"].measured_ratio == pytest.approx(2.0**phi, rel=0.05 if phi > 0 else 0.25)
    assert kinds["depth-only"].alpha > 1.0  # a negative φ shrinks with coefficients above 1, never stays at B0


def test_nominal_baselines_are_closed_form():
    spec = GridSpec(constraint="nominal")
    assert single_dimension(spec, "depth-only") == (2.0, 1.0, 1.0)
    assert single_dimension(spec, "width-only")[1] == pytest.approx(2**0.5, abs=1e-6)


def test_negative_phi_scales_down():
    spec = GridSpec(phi=-1, base_resolution=224)
    found = enumerate_candidates(spec, analytic_counts)
    on_constraint = [c for c in found if c.kind == "compound" and c.on_constraint]
    assert on_constraint and all(c.measured_ratio < 1 for c in on_constraint)
    assert all(abs(c.measured_ratio - 0.5) <= 0.05 * 0.5 for c in on_constraint)
    contenders = [c for c in found if c.contender]
    assert contenders and all(abs(c.proxy_ratio - 0.5) <= 0.05 * 0.5 for c in contenders)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (dict(phi=0), "phi"),
        (dict(step=0), "step"),
        (dict(step=-0.1), "step"),
        (dict(alpha_range=(1.5, 1.2)), "min"),
        (dict(beta_range=(0.5, 1.2)), ">= 1"),
        (dict(tolerance=0), "tolerance"),
        (dict(step=1e-4), "points"),
        (dict(base_resolution=0), "resolution"),
    ],
)
def test_bad_grids(fields, message):
    with pytest.raises(ValueError, match=message):
        GridSpec(**fields)


def test_empty_candidate_set_is_an_error():
    spec = GridSpec(alpha_range=(1.0, 1.0), beta_range=(1.0, 1.0), gamma_range=(1.0, 1.05), tolerance=0.01)
    with pytest.raises(ValueError, match="no \\(alpha, beta, gamma\\)"):
        enumerate_candidates(spec, analytic_counts)


def test_axis_values_have_no_float_drift():
    assert axis_values((1.0, 1.3), 0.1) == [1.0, 1.1, 1.2, 1.3]
    assert len(axis_values((1.0, 2.0), 0.05)) == 21


def test_parse_phis():
    assert parse_phis("0-7") == [float(i) for i in range(8)]
    assert parse_phis("0,1,2.5") == [0.0, 1.0, 2.5]
    assert parse_phis("-2--1") == [-2.0, -1.0]
    for bad in ("", "a", "3-1", "0-100"):
        with pytest.raises(ValueError):
            parse_phis(bad)


def test_derived_family():
    derived = derive_family(1.2, 1.1, 1.15, [0, 1, 2], analytic_counts)
    assert [m.name for m in derived] == ["phi0", "phi1", "phi2"]
    assert derived[0].macs_ratio == pytest.approx(1.0)
    assert derived[1].resolution == 256 and derived[1].depth == pytest.approx(1.2)  # 257.6 px to a multiple of 4
    assert derived[1].macs_ratio == pytest.approx(2.229, abs=0.001)
    released = released_family(analytic_counts)
    assert [m.name for m in released] == [f"b{i}" for i in range(8)]
    assert released[1].width == 1.0 and released[1].depth == 1.1 and released[1].resolution == 240
    assert released[0].params == 5_288_548


def test_derived_members_are_named_by_phi_never_as_released_ones():
    """Derived members were named b0..b7, the released networks' names, for networks that are not those."""
    derived = derive_family(1.2, 1.1, 1.15, [-1, -0.0, 0.5, 2.5, 7], analytic_counts)
    assert [m.name for m in derived] == ["phi-1", "phi0", "phi0.5", "phi2.5", "phi7"]


def test_derived_dropout_is_the_released_one_nearest_in_cost():
    """Dropout followed φ: the φ = 1 member (2.57× B0's MACs) got B1's 0.2 though it costs like B2 (2.58×, 0.3).

    Released MACs over B0's: B1 1.78, B2 2.58, B3 4.74, B4 11.39. Derived (1.2, 1.1, 1.15): φ = 1 is
    2.57 (B2: 0.3), φ = 2 is 4.69 (B3: 0.3), φ = 3 is 8.43 (B4 by log distance: 0.4, where φ gave B3's 0.3).
    At 64 px the φ = 1 member costs 3.04× its own B0, again nearest B2.
    """
    derived = derive_family(1.2, 1.1, 1.15, [-1, 0, 1, 2, 3, 7], analytic_counts, resolution_multiple=1)
    assert [round(m.macs_ratio, 2) for m in derived] == [0.78, 1.0, 2.57, 4.69, 8.43, 102.81]
    assert [m.dropout for m in derived] == [0.2, 0.2, 0.3, 0.3, 0.4, 0.5]
    assert all(m.layout.dropout == m.dropout for m in derived)
    assert derive_family(1.2, 1.1, 1.15, [1], analytic_counts, 64, num_classes=10)[0].dropout == 0.3
    assert cost_dropout(2.0, released_family(analytic_counts)) == 0.2  # nearer B1 (1.78) than B2 (2.58)


@pytest.mark.parametrize("coefficients", [(0.5, 1.1, 1.15), (1.2, 0.99, 1.15), (1.2, 1.1, math.nan)])
def test_derive_refuses_coefficients_below_one(coefficients):
    """α, β, γ >= 1 by definition; a coefficient below 1 was derived as if it were one."""
    with pytest.raises(InputError, match=r"must be a finite number >= 1 .*, got (0.5|0.99|nan)$"):
        derive_family(*coefficients, [1], analytic_counts)


def test_grid_from_options_reads_same_named_fields_and_keeps_other_defaults() -> None:
    definition = StudyDefinition(phi=2.0, step=0.1, tolerance=0.1, constraint="nominal", base_resolution=64)
    spec = GridSpec.from_options(definition, num_classes=10)
    assert (spec.phi, spec.step, spec.tolerance, spec.constraint) == (2.0, 0.1, 0.1, "nominal")
    assert (spec.base_resolution, spec.num_classes, spec.resolution_multiple) == (64, 10, 4)
    assert (spec.cost_resolution, spec.cost_classes) == (224, 1000)
    flags = argparse.Namespace(phi=0.5, alpha_range=(1.0, 1.5), num_classes=100, unrelated="ignored")
    spec = GridSpec.from_options(flags)
    assert (spec.phi, spec.alpha_range, spec.num_classes, spec.step) == (0.5, (1.0, 1.5), 100, GridSpec().step)
    with pytest.raises(ValueError):
        GridSpec.from_options(flags, step=-1.0)


def test_public_candidates_is_the_grid_counted_by_name(tmp_path):
    spec = GridSpec(step=0.1)
    by_name = candidates(spec, "analytic")
    assert by_name == enumerate_candidates(spec, analytic_counts)
    seen = []
    candidates(spec, "analytic", progress=lambda done, total: seen.append(("count", done, total)),
               scan_progress=lambda done, total: seen.append(("scan", done, total)))
    assert {kind for kind, _, _ in seen} == {"scan"}  # the closed form needs no progress of its own
    with pytest.raises(ValueError, match="unknown counter"):
        candidates(spec, "guess")  # type: ignore[arg-type]


def test_public_derive_defaults_to_the_released_phis_and_the_closed_form():
    family = derive(1.2, 1.1, 1.15)
    assert [m.phi for m in family] == list(FAMILY_PHIS) == [float(phi) for phi in range(8)]
    assert family == derive_family(1.2, 1.1, 1.15, FAMILY_PHIS, analytic_counts)
    coarse = derive(1.2, 1.1, 1.15, [1], base_resolution=64, resolution_multiple=8, num_classes=10)
    assert coarse[0].resolution == 72 and coarse[0].layout.num_classes == 10  # 64 * 1.15 = 73.6, to a multiple of 8


def test_one_base_network_for_every_cost_ratio():
    """The grid, the derived family and the released family all divide by the same unscaled network."""
    assert base_layout() == compound_layout(1, 1, 1, 0)
    assert base_layout().structure_key() == released_layout(released_model("b0")).structure_key()
    spec = GridSpec(phi=2, base_resolution=64, num_classes=10)
    assert spec.base_layout() == base_layout(64, 10)
    assert released_family(analytic_counts)[0].macs_ratio == 1.0
    assert derive_family(1.2, 1.1, 1.15, [0], analytic_counts, 64, num_classes=10)[0].macs_ratio == 1.0


def test_a_32_px_proxy_lists_gamma_above_1_but_none_of_them_contends():
    """The constraint is evaluated at the cost scale (224 px, 1000 classes), so a 32 px proxy still lists γ > 1; but
    there one more pixel adds whole rows of B0's last feature maps, so none trains with the target compute."""
    found = enumerate_candidates(GridSpec(base_resolution=32, num_classes=10), analytic_counts)
    compound = [c for c in found if c.kind == "compound"]
    on_constraint = [c for c in compound if c.on_constraint]
    assert len({c.gamma for c in on_constraint if c.gamma > 1}) >= 3
    assert all(abs(c.measured_ratio - 2.0) <= 0.05 * 2.0 for c in on_constraint)
    assert all(c.cost_resolution % 4 == 0 and c.resolution % 4 == 0 for c in found)  # both scales round alike
    above = [c for c in compound if c.resolution > 32]
    assert above and not any(c.contender for c in above)
    assert all(c.proxy_ratio > 2.1 for c in above if c.on_growth)  # they would train with too much compute
    assert any(c.contender for c in compound)  # γ stays 1 in effect: the contenders all train at 32 px


def test_cost_and_proxy_ratios_are_both_kept():
    spec = GridSpec(base_resolution=32, num_classes=10, step=0.1)
    (paper,) = [c for c in enumerate_candidates(spec, analytic_counts) if c.kind == "reference"]
    assert (paper.resolution, paper.cost_resolution, paper.layout.num_classes) == (36, 256, 10)
    assert paper.proxy_ratio == pytest.approx(4.3611, abs=1e-4)
    assert paper.growth_per_phi == pytest.approx(1.938, abs=1e-3) and paper.on_growth and not paper.proxy_on_target
    assert paper.measured_ratio == pytest.approx(2.2287, abs=1e-4)
    assert paper.macs == 859_853_760 and not paper.on_constraint  # 2.23 is outside 2 ± 5 %
    assert paper.to_dict()["proxy_ratio"] == paper.proxy_ratio


def test_a_measured_constraint_below_128_px_warns():
    with pytest.warns(UserWarning, match=r"cost resolution 64 px is below 128: .* large steps"):
        GridSpec(cost_resolution=64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GridSpec(cost_resolution=64, constraint="nominal")
        GridSpec(cost_resolution=128)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("cost_resolution", 7, "cost resolution must lie in"), ("cost_classes", 0, "cost classes must lie in"),
     ("resolution_multiple", 0, "resolution multiple must lie in")],
)
def test_cost_scale_is_checked_when_built(field, value, message):
    with pytest.raises(InputError, match=message):
        GridSpec(**{field: value})

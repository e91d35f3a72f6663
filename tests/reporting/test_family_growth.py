"""The report's family: its growth per φ beside the study's target, and a flag on a family that does not grow so."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from scaling_search.coefficients.family import FamilyGrowth
from scaling_search.coefficients.grid import GridSpec
from scaling_search.coefficients.growth import Growth
from scaling_search.counting.analytic import analytic_counts
from scaling_search.reporting import wording
from scaling_search.reporting.tables import family_table, study_family_growth
from tests.reporting.test_report import WINNER, make_study, report

SLOW = {(1.05, 1.05, 1.05, "compound"): [0.90, 0.91, 0.92], (1.2, 1.1, 1.15, "reference"): [0.70, 0.71, 0.69]}


def test_the_family_tables_phi_7_row_grows_as_the_grids_candidates_say():
    """cost_per_phi of the φ = 7 row is the growth per φ the grid's candidates carry, at the same cost scale."""
    grid = GridSpec(cost_resolution=128, cost_classes=10, growth_tolerance=0.08)
    table = family_table(1.2, 1.1, 1.15, analytic_counts, grid)
    derived = table[table["source"] == "derived"]
    assert math.isnan(derived["cost_per_phi"].iloc[0])  # φ = 0 has no cost per φ
    assert derived["cost_per_phi"].iloc[1] == pytest.approx(derived["macs_ratio"].iloc[1])
    growth = study_family_growth(1.2, 1.1, 1.15, grid)
    assert derived["cost_per_phi"].iloc[7] == pytest.approx(growth.growth.per_phi, rel=1e-9)
    assert (growth.target, growth.tolerance) == (grid.target, grid.growth_tolerance_used) == (2.0, 0.08)
    assert study_family_growth(1.2, 1.1, 1.15, GridSpec()).tolerance == GridSpec().tolerance  # None: the tolerance


def test_the_growth_sentence_flags_a_family_off_growth():
    on = wording.family_growth_sentence(FamilyGrowth(Growth(1.938, 7), 2.0, 0.05))
    assert on.startswith("Growth per φ: 1.938 (the φ = 7 member costs 102.") and "within 5% of the target" in on
    off = wording.family_growth_sentence(FamilyGrowth(Growth(1.307, 7), 2.0, 0.05))
    assert off.startswith("**Off growth**: the family grows by 1.307 per φ") and "does not double per φ" in off
    assert "costs 6.5× the base network's, not 2^7 = 128×" in off
    reduced = wording.family_growth_sentence(FamilyGrowth(Growth(2.009, 6), 2.0, 0.05))
    assert "The φ = 7 member cannot be built" in reduced and "measured at φ = 6" in reduced
    assert "grow 1.5× per φ" in wording.family_growth_sentence(FamilyGrowth(Growth(1.938, 7), 1.5, 0.05))
    assert wording.family_growth_caption(FamilyGrowth(Growth(1.307, 7), 2.0, 0.05)).endswith(
        "target 2 ± 5%: OFF growth, the family does not double per phi")


def family_files(out: Path) -> tuple[str, str, list[dict[str, str]]]:
    return ((out / "index.md").read_text(), (out / "family.md").read_text(),
            list(csv.DictReader((out / "family.csv").read_text().splitlines())))


def test_a_study_whose_best_family_grows_as_targeted_says_so(tmp_path):
    make_study(tmp_path, "onGrowth", WINNER)
    assert report(tmp_path, "onGrowth") == 0
    index, family, rows = family_files(tmp_path / "out")
    caption = family.splitlines()[0]
    assert "; growth per phi 2.050 (phi = 7 member), target 2 ± 5%: on growth" in caption
    section = index[index.index("## The derived family"):]
    assert "Growth per φ: 2.050 (the φ = 7 member costs" in section and "Off growth" not in index
    phi7 = next(row for row in rows if row["name"] == "phi7")
    assert float(phi7["cost_per_phi"]) == pytest.approx(2.050, abs=5e-4)


def test_a_study_whose_best_family_does_not_double_per_phi_is_flagged(tmp_path):
    make_study(tmp_path, "offGrowth", SLOW)
    assert report(tmp_path, "offGrowth") == 0
    index, family, rows = family_files(tmp_path / "out")
    assert "OFF growth, the family does not double per phi" in family.splitlines()[0]
    section = index[index.index("## The derived family"):]
    assert "**Off growth**: the family grows by 1.416 per φ" in section and "not 2^7 = 128×" in section
    phi7 = next(row for row in rows if row["name"] == "phi7")
    assert float(phi7["cost_per_phi"]) == pytest.approx(1.416, abs=5e-4)

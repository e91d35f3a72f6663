"""The report says what its proxy can tell: resolutions compared, and pixels that carry no information (issue #21)."""

from __future__ import annotations

from tests.reporting.test_report import make_study, report

UPSAMPLED = {(1.0, 1.1, 1.3, "compound"): [0.80, 0.81], (1.0, 1.4, 1.0, "compound"): [0.70, 0.71],
             (1.2, 1.1, 1.15, "reference"): [0.60, 0.61]}
"""Contenders trained at 42 and 32 px on data whose native resolution is 32 px."""


def test_contenders_that_differ_in_upsampling_are_said_to_add_pixels_not_information(tmp_path):
    make_study(tmp_path, "upsampled", UPSAMPLED)
    assert report(tmp_path, "upsampled") == 0
    index = (tmp_path / "out" / "index.md").read_text()
    assert "**What this proxy can tell.**" in index
    assert "1 of 2 contenders train above the data's native resolution" in index
    assert "resolution added pixels, not information" in index
    assert "The contenders trained at 2 resolutions (32, 42 px)" in index


def test_contenders_at_one_resolution_say_gamma_was_not_compared(tmp_path):
    make_study(tmp_path, "flat", {(1.0, 1.4, 1.0, "compound"): [0.7, 0.71], (1.9, 1.0, 1.0, "compound"): [0.6, 0.6]})
    assert report(tmp_path, "flat") == 0
    index = (tmp_path / "out" / "index.md").read_text()
    assert "Every contender trained at 32 px" in index and "says nothing about γ" in index
    assert "native resolution" not in index.split("**What this proxy can tell.**")[1].split("\n")[0]

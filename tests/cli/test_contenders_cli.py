"""Issue #21's contenders through ``scaling-search candidates``: equal compute where trained, growth as promised."""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import run_cli

TOLERANCE = 0.05


@pytest.mark.parametrize("resolution", [32, 160, 224])
def test_every_contender_grows_as_promised_and_trains_with_the_target_compute(capsys, resolution):
    code, out, err = run_cli(capsys, "candidates", "--phi", "1", "--base-resolution", str(resolution), "--counter",
                             "analytic", "--json")
    rows = json.loads(out)
    contenders = [r for r in rows if r["contender"]]
    assert code == 0 and contenders
    for row in contenders:
        assert abs(row["growth_per_phi"] - 2) <= TOLERANCE * 2 and row["on_growth"]
        assert abs(row["proxy_ratio"] - 2) <= TOLERANCE * 2 and row["proxy_on_target"]
    for row in rows:  # the flag is exactly the two conditions
        assert row["contender"] == (abs(row["growth_per_phi"] - 2) <= TOLERANCE * 2
                                    and abs(row["proxy_ratio"] - 2) <= TOLERANCE * 2)
    grid_contenders = [r for r in contenders if r["kind"] == "compound"]
    if resolution == 32:  # γ > 1 adds whole rows of B0's last feature maps: nothing above 32 px contends
        assert {r["resolution"] for r in grid_contenders} == {32}
        assert "resolution cannot be searched at this proxy" in err and "160 px or more" in err
    else:
        assert len({r["gamma"] for r in grid_contenders if r["gamma"] > 1}) >= 2
        assert len({r["resolution"] for r in grid_contenders}) >= 3
        assert "cannot be searched" not in err
    assert "grid:" in err and "contenders" in err  # how many each condition kept, in one line


def test_a_family_growing_1_3x_per_phi_is_no_contender_even_on_the_constraint(capsys):
    code, out, _ = run_cli(capsys, "candidates", "--phi", "1", "--base-resolution", "224", "--counter", "analytic",
                           "--json")
    rows = {(r["alpha"], r["beta"], r["gamma"]): r for r in json.loads(out)}
    slow = rows[(1.05, 1.05, 1.05)]  # on the 2x constraint at phi = 1 by rounding alone
    assert code == 0 and slow["on_constraint"] and slow["growth_per_phi"] < 1.4
    assert not slow["on_growth"] and not slow["contender"]


def test_the_table_says_which_condition_a_point_misses(capsys):
    code, out, _ = run_cli(capsys, "candidates", "--phi", "1", "--base-resolution", "32", "--counter", "analytic")
    assert code == 0 and "no: growth" in out and "no: proxy compute" in out and " yes " in out
    assert "resolution cannot be searched at this proxy" in out

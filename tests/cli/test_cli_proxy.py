"""`scaling-search proxy`: the faithfulness table, its JSON and bad input."""

import json

import pytest

from tests.cli_helpers import cli_error, run_cli


def test_proxy_json_keys_and_conclusion(capsys):
    code, out, _ = run_cli(capsys, "proxy", "--resolutions", "160,32", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"base", "phi", "step", "gamma_range", "tolerance", "growth_tolerance", "cost_resolution",
                         "cost_classes", "resolution_multiple", "num_classes", "resolutions", "searchable_from"}
    rows = data["resolutions"]
    assert [r["resolution"] for r in rows] == [32, 160]
    assert all(set(r) == {"resolution", "gammas", "faithful_gammas", "share", "worst_deviation", "worst_gamma",
                          "contenders", "contender_gammas", "contender_resolutions", "searchable_gammas",
                          "searchable"} for r in rows)
    assert rows[0]["share"] == 0 and not rows[0]["searchable"] and rows[1]["searchable"]
    assert data["searchable_from"] == 160 and data["base"] == "efficientnet_b0"


def test_proxy_table_names_the_smallest_searchable_resolution(capsys):
    code, out, _ = run_cli(capsys, "proxy", "--resolutions", "32,160")
    assert code == 0 and "gamma searchable" in out
    assert "gamma can be searched for efficientnet_b0 from a 160 px proxy" in out.splitlines()[-1]
    code, out, _ = run_cli(capsys, "proxy", "--resolutions", "32,64")
    assert code == 0 and "gamma cannot be searched for efficientnet_b0 at any of these resolutions" in out


@pytest.mark.parametrize("argv", [["--resolutions", "32,abc"], ["--resolutions", ""], ["--resolutions", "4"],
                                  ["--resolutions", "34"], ["--tolerance", "2"]])
def test_proxy_bad_input_exits_2(capsys, argv):
    assert cli_error(capsys, "proxy", *argv)

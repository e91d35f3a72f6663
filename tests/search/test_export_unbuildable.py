"""A family whose largest members cannot be built is exported, reported and derived up to the largest that can."""

from __future__ import annotations

import json
from dataclasses import replace

from scaling_search.search.export import write_family
from scaling_search.study.sizing import resolve_for_device
from tests.cli_helpers import run_cli
from tests.search.test_answer import answer
from tests.search.test_verdict import definition


def test_export_writes_the_members_it_can_build_and_names_the_others(tmp_path):
    best = replace(answer(), alpha=1.95, beta=1.0, gamma=1.0)  # 1.95^7 = 107x the depth: past the largest multiplier
    write_family(tmp_path, best, resolve_for_device(definition(), gpus=0), 10)
    derived = json.loads((tmp_path / "derived.json").read_text())
    assert [m["name"] for m in derived["derived"]] == [f"phi{phi}" for phi in range(7)]
    assert derived["not_built"].startswith("phi7 cannot be built")
    assert sorted(path.name for path in (tmp_path / "configs").iterdir()) == [f"phi{phi}.json" for phi in range(7)]


def test_derive_lists_the_buildable_members_and_says_which_are_not(capsys):
    code, out, _ = run_cli(capsys, "derive", "--alpha", "1.95", "--beta", "1", "--gamma", "1", "--counter",
                           "analytic", "--json")
    data = json.loads(out)
    assert code == 0 and [m["name"] for m in data["derived"]] == [f"phi{phi}" for phi in range(7)]
    assert data["not_built"].startswith("phi7 cannot be built") and data["growth_phi"] == 6
    code, _, err = run_cli(capsys, "derive", "--alpha", "1.95", "--beta", "1", "--gamma", "1", "--phis", "7,8")
    assert code == 2 and "no member of the family can be built" in err

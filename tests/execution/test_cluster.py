"""`run --address`: a head and a second Ray node on 127.0.0.1, trials placed on both."""

from __future__ import annotations

import subprocess

import pytest

from tests.search_helpers import load, run_argv, tiny_definition, two_node_cluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def test_run_on_a_two_node_cluster(tmp_path, ray_dir):
    with two_node_cluster(tmp_path, ray_dir) as (address, env, _):
        definition = tiny_definition(tmp_path, study="cluster")
        proc = subprocess.run(run_argv(definition, "--address", address), capture_output=True, text=True,
                              timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    trials = load(definition).get_trials()
    assert len(trials) == 4 and all(t.state.name == "COMPLETE" for t in trials)
    assert len({t.user_attrs["node_id"] for t in trials}) == 2

"""`run --address`: a head and a second Ray node on 127.0.0.1, trials placed on both."""

from __future__ import annotations

import secrets
import subprocess

import pytest

from tests.search_helpers import cli, cli_env, free_port, load, stop_group, tiny_definition, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def test_run_on_a_two_node_cluster(tmp_path, ray_dir):
    env = cli_env(tmp_path)
    token = tmp_path / "ray-token"
    token.write_text(secrets.token_hex(32))
    # `ray start` clusters use token authentication; every process of this cluster shares a private token.
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token))
    port = free_port()
    address = f"127.0.0.1:{port}"
    ray = [cli("run")[0], "-m", "ray.scripts.scripts", "start", "--block", "--num-cpus", "1", "--disable-usage-stats"]
    head = subprocess.Popen([*ray, "--head", "--port", str(port), "--temp-dir", ray_dir, "--include-dashboard=false"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    nodes = [head]
    try:
        assert wait_for(lambda: _nodes(address, env) >= 1, timeout=90), "head node did not start"
        nodes.append(subprocess.Popen([*ray, "--address", address], env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True))
        assert wait_for(lambda: _nodes(address, env) >= 2, timeout=90), "second node did not join"
        definition = tiny_definition(tmp_path, study="cluster")
        proc = subprocess.run(
            cli("run", "--address", address, "--study", "cluster", "--studies-dir", definition.studies_dir,
                "--dataset", definition.dataset, "--base-resolution", "16", "--epochs", "1", "--batch-size", "32",
                "--max-candidates", "3", "--step", "0.1", "--constraint", "nominal", "--device", "cpu"),
            capture_output=True, text=True, timeout=300, env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        trials = load(definition).get_trials()
        assert len(trials) == 4 and all(t.state.name == "COMPLETE" for t in trials)
        assert len({t.user_attrs["node_id"] for t in trials}) == 2
    finally:
        for node in reversed(nodes):
            stop_group(node, grace=20)


def _nodes(address: str, env: dict[str, str]) -> int:
    probe = (f"import ray; ray.init(address={address!r}, log_to_driver=False, logging_level='ERROR'); "
             "print(sum(n['Alive'] for n in ray.nodes()))")
    try:
        out = subprocess.run([cli("run")[0], "-c", probe], capture_output=True, text=True, timeout=30, env=env)
    except subprocess.TimeoutExpired:
        return 0
    lines = out.stdout.strip().splitlines()
    return int(lines[-1]) if out.returncode == 0 and lines and lines[-1].isdigit() else 0

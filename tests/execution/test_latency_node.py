"""Latency on a Ray cluster: timed in a task on a node with the device, or refused in one line."""

from __future__ import annotations

import pytest
import torch

from scaling_search.coefficients.latency_grid import LatencyTiming
from scaling_search.counting.latency import LatencySettings, cpu_model
from scaling_search.errors import InputError
from scaling_search.execution.latency_node import (
    check_latency_node,
    latency_candidates_on_cluster,
    node_resources,
)
from scaling_search.study.definition import StudyDefinition, validate
from tests.coefficients.test_latency_grid import SPEC, quiet


class FakeCluster:
    """What check_latency_node reads of ``ray``: its nodes and their resources."""

    def __init__(self, *resources: dict[str, float], dead: dict[str, float] | None = None) -> None:
        self.listed = [{"Alive": True, "Resources": r} for r in resources]
        if dead is not None:
            self.listed.append({"Alive": False, "Resources": dead})

    def nodes(self):
        return self.listed


def cuda_settings(device: str = "cuda") -> LatencySettings:
    return LatencySettings(device=device, batch_size=64, dtype="bfloat16")  # a form only: no GPU needed to build it


def test_the_task_asks_for_the_device_it_times_on():
    assert node_resources(LatencySettings(threads=1)) == {"num_cpus": 1.0, "num_gpus": 0.0}
    assert node_resources(cuda_settings()) == {"num_cpus": 1.0, "num_gpus": 1.0}


@pytest.mark.parametrize(("cluster", "settings", "message"), [
    (FakeCluster({"CPU": 8.0}, dead={"CPU": 8.0, "GPU": 1.0}), cuda_settings(),
     "cost device cuda: no node of the Ray cluster has a GPU to time latency on; add one, or time on the CPU"),
    (FakeCluster({"CPU": 8.0, "GPU": 2.0}), cuda_settings("cuda:1"),
     "cost device cuda:1: on a Ray cluster name cuda (the timing task is given one GPU, seen as cuda)"),
    (FakeCluster({"CPU": 1.0}, {"CPU": 2.0}), LatencySettings(threads=4),
     "latency threads 4: no node of the Ray cluster has that many CPUs (the largest has 2)"),
])
def test_a_cluster_without_the_device_is_refused_in_one_line(cluster, settings, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        check_latency_node(cluster, settings)
    assert "\n" not in str(caught.value)


def test_a_cluster_with_the_device_is_accepted():
    check_latency_node(FakeCluster({"CPU": 4.0}, {"CPU": 16.0, "GPU": 1.0}), cuda_settings())
    check_latency_node(FakeCluster({"CPU": 4.0}), LatencySettings(threads=1))


def test_a_study_on_a_cluster_leaves_the_device_to_the_cluster_a_local_one_checks_it(tmp_path):
    """No GPU here: a local study timing on cuda is refused when defined; one on a cluster is checked on the cluster."""
    fields = {"cost": "latency", "cost_device": "cuda", "refine": False, "studies_dir": str(tmp_path)}
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the local refusal cannot be shown")
    with pytest.raises(InputError, match="latency device cuda: this machine has no CUDA device"):
        validate(StudyDefinition(**fields))
    validate(StudyDefinition(**fields, address="10.0.0.1:6379"))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_grid_is_timed_in_a_ray_task_and_comes_back_whole(callers_ray, tmp_path):
    """On a one-node Ray, the grid is timed in a task (another process) and its lines come back to the driver."""
    lines: list[str] = []
    timing = LatencyTiming(LatencySettings(), tmp_path / "cache", timer=quiet)
    found = latency_candidates_on_cluster(callers_ray, SPEC, timing, lines.append)
    assert lines[0].startswith("timing latency in a Ray task on a cluster node with cpu")
    assert any(line.startswith("latency fit:") for line in lines[1:])
    assert found and all(c.cost_kind == "latency" and c.cost_device == cpu_model() for c in found)
    assert any(c.contender for c in found)
    assert list((tmp_path / "cache" / "latency").iterdir())  # the node's cache (here: this machine's)

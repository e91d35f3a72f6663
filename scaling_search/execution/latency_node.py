"""Latency timed where the target device is: on a Ray cluster, in a Ray task placed on a node that has it.

A study on a cluster (``--address``) may be driven from a laptop without the GPU its latency is
for; timing there would measure the wrong machine. So its latency grid is timed in one Ray task
asking for the device's resources: one GPU for ``cuda`` (Ray hands the task one, seen as
``cuda``), the measurement's threads in CPUs for ``cpu``. The task runs the whole grid
(:func:`~scaling_search.coefficients.latency_grid.latency_candidates`) on that node, with that
node's cache, and every candidate comes back with the node's device name. A cluster with no such
node is refused in one line before anything is timed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scaling_search.coefficients.grid import Candidate, GridSpec
from scaling_search.coefficients.latency_grid import LatencyTiming, latency_candidates
from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.latency import LatencySettings
from scaling_search.errors import InputError


def node_resources(settings: LatencySettings) -> dict[str, float]:
    """What the timing task asks Ray for: one GPU (and a CPU to drive it) for CUDA, the threads' CPUs for a CPU."""
    if settings.device == "cpu":
        return {"num_cpus": float(settings.threads), "num_gpus": 0.0}
    return {"num_cpus": 1.0, "num_gpus": 1.0}


def check_latency_node(ray: Any, settings: LatencySettings) -> None:
    """Refuse, in one line, latency settings no live node of the Ray cluster could time.

    ``cuda:N`` with N > 0 is refused too: a Ray task is given one GPU, which it sees as ``cuda``.
    """
    nodes = [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")]
    if settings.device != "cpu":
        if settings.device not in ("cuda", "cuda:0"):
            raise InputError(f"cost device {settings.device}: on a Ray cluster name cuda (the timing task is given "
                             "one GPU, seen as cuda)")
        if not any(resources.get("GPU", 0) >= 1 for resources in nodes):
            raise InputError("cost device cuda: no node of the Ray cluster has a GPU to time latency on; add one, "
                             "or time on the CPU (--cost-device cpu)")
        return
    most = max((resources.get("CPU", 0.0) for resources in nodes), default=0.0)
    if most < settings.threads:
        raise InputError(f"latency threads {settings.threads}: no node of the Ray cluster has that many CPUs (the "
                         f"largest has {most:g}); ask for fewer --latency-threads")


def timed_on_node(spec: GridSpec, timing: LatencyTiming) -> tuple[list[Candidate], list[str]]:
    """The latency grid's candidates and its progress lines, timed here (the body of the Ray task)."""
    lines: list[str] = []
    return latency_candidates(spec, analytic_counts, timing, progress=lines.append), lines


def latency_candidates_on_cluster(ray: Any, spec: GridSpec, timing: LatencyTiming,
                                  log: Callable[[str], None] | None = None) -> list[Candidate]:
    """The latency grid timed in one Ray task on a node with the target device (module docstring).

    ``log`` hears where it is timed, then the task's progress lines when it ends.
    """
    check_latency_node(ray, timing.settings)
    say = log or (lambda line: None)
    say(f"timing latency in a Ray task on a cluster node with {timing.settings.device} (its lines follow when "
        "it ends)")
    task = ray.remote(**node_resources(timing.settings))(timed_on_node)
    candidates, lines = ray.get(task.remote(spec, timing))
    for line in lines:
        say(line)
    return candidates

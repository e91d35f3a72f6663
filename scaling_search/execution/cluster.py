"""The Ray a search runs on: connecting (or starting a private one), shutting it down, and what it can schedule.

Ray is started and stopped in one place, :func:`ray_session`. It connects on first use only, so a
study with nothing left to train never starts Ray; and a Ray session the caller already has is
used as it is and left running. ``ray`` is imported only when a session connects.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scaling_search.errors import InputError
from scaling_search.study.definition import ResolvedDefinition, StudyDefinition
from scaling_search.study.sizing import resolve_for_device


class RaySession:
    """Ray for one search, connected on first :meth:`connect`; see :func:`ray_session`."""

    def __init__(self, address: str | None, temp_dir: str | None) -> None:
        self.address = address
        self.temp_dir = temp_dir
        self.ray: Any = None
        self.owned = False  # started (or connected to a cluster) here, so shut down here

    def connect(self) -> Any:
        """The ``ray`` module, initialised: the caller's session if there is one, else ``--address`` or a local Ray."""
        if self.ray is None:
            import ray

            if ray.is_initialized():
                self.ray = ray
            else:
                self.ray = start_ray(self.address, self.temp_dir)
                self.owned = True
        return self.ray


@contextlib.contextmanager
def ray_session(address: str | None, temp_dir: str | None = None) -> Iterator[RaySession]:
    """A :class:`RaySession` for the block; on leaving, Ray is shut down if (and only if) the session started it.

    ``ray.init`` leaves environment variables behind (``RAY_AUTH_MODE`` among them, which a Ray started
    later by a child process would inherit); a session that started Ray puts the environment back.
    """
    session = RaySession(address, temp_dir)
    environment = dict(os.environ)
    try:
        yield session
    finally:
        if session.owned:
            session.ray.shutdown()
            for name in set(os.environ) - set(environment):
                del os.environ[name]
            os.environ.update(environment)


def start_ray(address: str | None, temp_dir: str | None) -> Any:
    """Connect to ``address`` or start a private local Ray in ``temp_dir``; quiet, no Ray dashboard."""
    import ray

    init = functools.partial(ray.init, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                             configure_logging=True)
    if address:
        check_reachable(address)
        init(address=address)
    else:
        init(num_cpus=os.cpu_count(), _temp_dir=str(Path(temp_dir).resolve()) if temp_dir else None)
    return ray


def check_reachable(address: str, timeout_s: float = 10.0) -> None:
    """Fail in one line when nothing listens at a ``host:port`` address; Ray itself retries for minutes.

    ``auto`` (and other forms without a port) are left to Ray, which answers those quickly.
    """
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except (OSError, ValueError) as err:
        raise InputError(f"no Ray cluster answers at {address} ({getattr(err, 'strerror', None) or err}); start one "
                         "with 'ray start --head' there, or check --address") from None


def cluster_gpus(ray: Any) -> float:
    return float(ray.cluster_resources().get("GPU", 0))


def check_cluster(ray: Any, definition: ResolvedDefinition) -> None:
    """Refuse what the running Ray cluster could never schedule: CUDA trials without a GPU, oversized trials."""
    if definition.device.startswith("cuda") and cluster_gpus(ray) == 0:
        raise InputError("--device cuda but the Ray cluster has no GPU")
    check_trial_fits(definition, largest_node_cpus(ray))


def largest_node_cpus(ray: Any) -> float:
    """The most CPUs any live node of the Ray cluster has: one trial runs on one node."""
    return max((node["Resources"].get("CPU", 0.0) for node in ray.nodes() if node.get("Alive")), default=0.0)


def check_trial_fits(definition: ResolvedDefinition, node_cpus: float) -> None:
    """A trial asking for more CPUs than any node has would wait forever; say so instead."""
    if definition.cpus_per_trial > node_cpus:
        raise InputError(f"cpus-per-trial {definition.cpus_per_trial:g} is more than the {node_cpus:g} CPUs of the "
                         "largest Ray node, so no trial could start; ask for fewer")


def check_local_resources(definition: StudyDefinition) -> None:
    """For a private local Ray (no ``--address``) its resources are known before it starts: check them now.

    Ray's own view is checked again once it runs; this only makes the common mistakes fail before
    a study database is created.
    """
    if definition.address:
        return
    import torch

    gpus = torch.cuda.device_count()
    if definition.device.startswith("cuda") and gpus == 0:
        raise InputError("--device cuda but this machine has no CUDA GPU")
    check_trial_fits(resolve_for_device(definition, float(gpus)), float(os.cpu_count() or 1))

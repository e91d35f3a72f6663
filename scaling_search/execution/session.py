"""A driver's session with a study: what running a study and validating one share, from its storage to its data.

A driver works on one study at a time (a search on the study itself, a validation on the study's
``<study>.validate``). :func:`study_session` opens everything it holds for that, in order, and lets
go of it all however the work ends:

* Optuna's logging quietened, and a :class:`~scaling_search.execution.cluster.RaySession` (Ray
  connects only on :meth:`StudySession.connect`, so work with nothing to train never starts it);
* for a study the session may create, the resources its trials ask for checked before a database
  file is made, then the file claimed (removed again when the session fails before a study is in it);
* the one-driver-per-study lock (:func:`~scaling_search.study.claims.driver_lock`);
* the storage, opened.

:class:`StudySession` then finds studies and the definition they were made with (the one
"not made by scaling-search run" refusal, :func:`study_definition`), refuses ``--resume`` without
anything to resume and a fresh start over unfinished work, connects Ray and checks the cluster
against the definition (resolving a new one for the cluster's GPUs), loads the data, and puts
trials a killed driver left RUNNING back in the queue.
:func:`~scaling_search.search.search_driver.run_study` and
:func:`~scaling_search.validation.validation_driver.validate_study` both work in one; reports read a
study's definition and class count with :func:`study_definition` and :func:`study_classes`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import optuna

from scaling_search.coefficients.grid import IMAGENET_CLASSES
from scaling_search.coefficients.latency_grid import LatencyGridTimer
from scaling_search.data.dataset import ImageData
from scaling_search.data.load import load_dataset
from scaling_search.errors import InputError
from scaling_search.execution.cluster import (
    RaySession,
    check_cluster,
    check_local_resources,
    cluster_gpus,
    ray_session,
)
from scaling_search.execution.latency_node import check_latency_node, latency_candidates_on_cluster
from scaling_search.study.claims import driver_lock, new_database
from scaling_search.study.definition import ResolvedDefinition, StudyDefinition
from scaling_search.study.sizing import resolve_for_device
from scaling_search.study.storage import (
    find_study,
    open_storage,
    quiet_optuna,
    redact,
    requeue_orphans,
    saved_definition,
)
from scaling_search.support.progress import count_lines

DEFAULT_CLASSES = IMAGENET_CLASSES
"""The class count of a study stored without one (``num_classes``): ImageNet's, the cost scale's default."""


def study_classes(study: optuna.Study) -> int:
    """The class count of the study's dataset, as it was saved when the study was made (:data:`DEFAULT_CLASSES`
    for a study stored without it)."""
    return int(study.user_attrs.get("num_classes", DEFAULT_CLASSES))


def study_definition(study: optuna.Study) -> ResolvedDefinition:
    """The definition ``scaling-search run`` saved with ``study``; InputError (one line) when it has none."""
    definition = saved_definition(study)
    if definition is None:
        raise InputError(f"study {study.study_name!r} was not made by scaling-search run (it has no saved "
                         "definition); choose another study")
    return definition


@dataclass(frozen=True)
class StudySession:
    """What a driver holds while it works on a study; opened by :func:`study_session`."""

    url: str
    storage: optuna.storages.BaseStorage
    ray: RaySession
    resume: bool
    log: Callable[[str], None]

    def find(self, name: str) -> optuna.Study | None:
        """The study called ``name`` in the session's storage; None when there is none."""
        return find_study(self.storage, name)

    def made_study(self, name: str) -> tuple[optuna.Study, ResolvedDefinition]:
        """The study ``name`` and the definition it was made with; InputError when there is no such study or
        ``scaling-search run`` did not make it."""
        study = find_study(self.storage, name)
        if study is None:
            raise InputError(f"no study named {name!r} in {redact(self.url)}")
        return study, study_definition(study)

    def check_resume(self, what: str, where: str, found: bool, left: str | None = None) -> None:
        """Refuse ``--resume`` of ``what`` (in ``where``) when it is not there, and a start without ``--resume``
        while it has work ``left`` (e.g. "3 unfinished trials"): only ``--resume`` goes on with a started one."""
        if self.resume and not found:
            raise InputError(f"{where} has no {what} to resume; start it without --resume")
        if not self.resume and found and left:
            raise InputError(f"{what} in {where} has {left}; continue it with --resume")

    def connect(self, definition: StudyDefinition) -> ResolvedDefinition:
        """Connect Ray; ``definition`` resolved for the cluster's GPUs (unless it is resolved already), once the
        cluster is known to be able to run its trials (InputError otherwise)."""
        cluster = self.ray.connect()
        resolved = resolve_for_device(definition, cluster_gpus(cluster))
        check_cluster(cluster, resolved)
        if resolved.cost == "latency" and resolved.address:
            check_latency_node(cluster, resolved.latency_settings())
        return resolved

    def latency_timer(self, definition: StudyDefinition) -> LatencyGridTimer | None:
        """Who times a latency grid: a Ray task on a node with the device when the study runs on a cluster
        (``address``), else None (this process, on this machine)."""
        if not definition.address:
            return None
        return functools.partial(latency_candidates_on_cluster, self.ray.connect())

    def load_data(self, definition: ResolvedDefinition, resolution: int) -> ImageData:
        """The definition's dataset at ``resolution`` px, with the progress of decoding it in the log."""
        self.log(f"loading {definition.dataset} …")
        data = load_dataset(definition.dataset, resolution=resolution, data_root=definition.data_root, seed=0,
                            val_fraction=definition.val_fraction, download=definition.download,
                            progress=count_lines(self.log, f"decoding {definition.dataset}", "images"))
        self.log(data.summary())
        return data

    def requeue_orphans(self, study: optuna.Study) -> int:
        """Put the trials a killed driver left RUNNING back in the queue (logged); returns how many."""
        orphans = requeue_orphans(study)
        if orphans:
            self.log(f"resuming: {orphans} trials left running by the previous driver will run again")
        return orphans


@contextlib.contextmanager
def study_session(url: str, name: str, *, address: str | None = None, ray_temp_dir: str | None = None,
                  resume: bool = False, creating: StudyDefinition | None = None,
                  log: Callable[[str], None] = lambda line: None) -> Iterator[StudySession]:
    """A :class:`StudySession` on the study ``name`` in the storage at ``url``, for the block.

    Ray is the caller's when ``ray.is_initialized()`` (used, and left running); else the cluster at
    ``address``, or a private local Ray in ``ray_temp_dir``, shut down at the end. ``creating`` is
    the definition of a study the session may create: the resources its trials ask for are checked
    first (a cluster's once connected, a local machine's without starting Ray), and the storage may
    be new; without it the storage must exist. A second driver on ``name`` is refused (InputError).
    """
    with quiet_optuna(), ray_session(address, ray_temp_dir) as ray:
        if creating is not None and address:
            # A cluster's resources are known only once connected: check them before a database is created.
            cluster = ray.connect()
            check_cluster(cluster, resolve_for_device(creating, cluster_gpus(cluster)))
        elif creating is not None:
            check_local_resources(creating)
        claim = new_database(url) if creating is not None else contextlib.nullcontext()
        with driver_lock(url, name), claim:
            yield StudySession(url, open_storage(url, must_exist=creating is None), ray, resume, log)

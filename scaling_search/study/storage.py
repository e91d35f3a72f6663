"""The Optuna study behind a search: opening storage, the trial plan as WAITING trials, resume.

Only the driver writes the study. A grid study enqueues its whole plan as WAITING trials
up front, so the dashboard shows what is left and ``study.ask()`` hands out the next one. A
trial whose driver died is found RUNNING on resume and goes back to WAITING: it re-runs
into the same Optuna trial, so the study holds exactly one trial per planned key.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from scaling_search.compat.optuna import requeue, set_metric_name, storage_id
from scaling_search.errors import InputError
from scaling_search.study.definition import ResolvedDefinition
from scaling_search.study.location import sqlite_path
from scaling_search.study.schema import migrate, stamp
from scaling_search.study.sizing import resolve_for_device

OBJECTIVE = "val_acc"
"""What a study maximises: a candidate's final validation accuracy."""


class StorageError(InputError):
    """The study's storage cannot be opened or read."""


def open_storage(url: str, must_exist: bool = False) -> optuna.storages.BaseStorage:
    """An Optuna RDB storage for ``url``, with a clear error when it cannot be opened.

    ``must_exist``: an SQLite file that is not there is an error, not a new empty database (for
    commands that only read a study, and for resuming one).
    """
    path = sqlite_path(url)
    if path is not None:
        if must_exist and not path.is_file():
            raise StorageError(f"no study database at {path}")
        if must_exist and path.stat().st_size == 0:
            raise StorageError(f"{path} is empty: no study has been stored in it")
        if path.exists() and path.stat().st_size > 0 and not is_sqlite_file(path):
            raise StorageError(f"{path} is not an SQLite database (corrupt or another file); move it away or "
                               "choose another --storage")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StorageError(f"cannot make the folder {path.parent} for {path.name}: "
                               f"{'a file is in the way' if path.parent.exists() else err.strerror or err}") from None
    try:
        return rdb_storage(url)
    except Exception as err:  # sqlalchemy raises many kinds; all mean "cannot open"
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise StorageError(f"cannot open storage {redact(url)}: {detail}") from None


def rdb_storage(url: str, attempts: int = 10) -> optuna.storages.RDBStorage:
    """Optuna's RDB storage, created again when another process was creating the same new database's tables.

    Opening a database makes its tables when they are missing; two processes doing so at once
    (a dashboard, or any reader, opening a study's new file while its driver creates it) make
    the slower one fail with "table ... already exists", a duplicate version row, or, on a busy
    machine, "database is locked". Once the other is done, opening works.
    """
    from sqlalchemy.exc import IntegrityError, OperationalError

    for _ in range(attempts - 1):
        try:
            return optuna.storages.RDBStorage(url, skip_compatibility_check=False)
        except (OperationalError, IntegrityError) as err:
            if isinstance(err, OperationalError) and not any(word in str(err) for word in ("already exists", "locked")):
                raise
            time.sleep(0.5)
    return optuna.storages.RDBStorage(url, skip_compatibility_check=False)


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Optuna logs warnings only, for the block (not a line per trial); its previous level is restored after."""
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)


def is_sqlite_file(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


def redact(url: str) -> str:
    """The URL without a password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        if ":" in credentials:
            return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
    return url


def find_study(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study | None:
    """The study called ``name``, None when there is none, StorageError when the storage cannot be read."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        return None
    except SQLAlchemyError as err:
        raise StorageError(f"cannot read study {name!r}: {str(err).splitlines()[0]}") from None


def create_study(storage: optuna.storages.BaseStorage, definition: ResolvedDefinition) -> optuna.Study:
    """A new study maximising :data:`OBJECTIVE`, named so, with the definition that made it and its schema version."""
    study = optuna.create_study(study_name=definition.study, storage=storage, direction="maximize")
    set_metric_name(study, OBJECTIVE)
    study.set_user_attr("definition", definition.to_dict())
    stamp(study)
    return study


def saved_definition(study: optuna.Study) -> ResolvedDefinition | None:
    """The definition a search study was made with, resolved for its device when it started.

    None for a study scaling-search run did not make.

    Every reader of a search study starts here, so the study's schema is checked here
    (:func:`~scaling_search.study.schema.migrate`): InputError for one this version cannot read.
    """
    from scaling_search.study.study_file import from_mapping

    saved = study.user_attrs.get("definition")
    if not isinstance(saved, dict):
        return None
    migrate(study)
    definition = from_mapping(saved)
    return resolve_for_device(definition, gpus=1.0 if definition.device == "cuda" else 0.0)


def requeue_orphans(study: optuna.Study) -> int:
    """RUNNING trials left by a driver that died go back to WAITING, keeping their numbers; returns how many."""
    orphans = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for trial in orphans:
        requeue(study, storage_id(trial))
    return len(orphans)


def counts(trials: Sequence[FrozenTrial]) -> dict[str, int]:
    """How many trials are in each state, by lower-case state name (every state present, 0 when none)."""
    return {state.name.lower(): sum(t.state == state for t in trials) for state in TrialState}

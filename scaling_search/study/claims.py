"""What a driver holds while it runs a study: the one-driver-per-study lock, and the new SQLite file it made.

Both are context managers, so that whatever ends the run (an error, Ctrl-C) lets go of them: the
lock is released, and a database file this run created is removed again when no study made it in.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import optuna

from scaling_search.errors import InputError
from scaling_search.study.location import sqlite_path
from scaling_search.support.cache import LockHeld, exclusive_lock


@contextlib.contextmanager
def driver_lock(url: str, study: str) -> Iterator[None]:
    """One driver per study on this machine: a second one would put the first one's running trials back in the queue.

    (Drivers on other machines sharing a database are not seen; run each study from one place.)
    """
    path = sqlite_path(url)
    if path is not None:  # the same file named from different folders is the same database
        url = f"sqlite:///{path.resolve()}"
    key = hashlib.sha256(f"{url}\0{study}".encode()).hexdigest()[:16]
    lock = Path(tempfile.gettempdir()) / f"scaling-search-driver-{key}.lock"  # nothing written beside the study
    try:
        with exclusive_lock(lock, wait=False):
            yield
    except LockHeld:
        holder = lock.read_text().strip() if lock.exists() else "?"
        raise InputError(f"study {study!r} is being run by another scaling-search process (pid "
                         f"{holder or '?'}); let it finish or stop it first") from None


@contextlib.contextmanager
def new_database(url: str) -> Iterator[None]:
    """Create the SQLite file ``url`` names when it does not exist yet, and remove it again if the block fails
    before a study is stored in it: a failed start leaves no empty database.

    Only a file this block created is ever removed, so a concurrent run's new database is safe.
    Other storages (and an existing file) are left as they are.
    """
    claimed = claim_new_sqlite_file(url)
    try:
        yield
    except BaseException:
        if claimed is not None:
            remove_if_no_study(*claimed, url)
        raise


def claim_new_sqlite_file(url: str) -> tuple[Path, os.stat_result] | None:
    """Create the (empty) SQLite file ``url`` names when it does not exist, atomically; None when it already did."""
    path = sqlite_path(url)
    if path is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError:  # it exists, or cannot be made here: open_storage says which
        return None
    return path, path.stat()


def remove_if_no_study(path: Path, identity: os.stat_result, url: str) -> None:
    """Delete the database file this run created when no study made it in (the run failed before)."""
    try:
        now = path.stat()
        if (now.st_dev, now.st_ino) != (identity.st_dev, identity.st_ino):
            return  # replaced by someone else meanwhile
        if now.st_size and optuna.study.get_all_study_names(storage=url):
            return
        for leftover in (path, path.with_name(path.name + "-journal")):
            leftover.unlink(missing_ok=True)
    except Exception:  # unreadable or in use (Windows): leave it, the run's own error matters more
        return

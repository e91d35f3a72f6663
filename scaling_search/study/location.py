"""Where a study is stored: the SQLite file a storage URL names, and a study's URL from its name and folder.

Every command that finds a study by name (``run``, ``report``, ``dashboard``) goes through
:func:`study_storage_url`, and everything that treats an SQLite database as a file (the driver
lock, claiming a new database, opening one) goes through :func:`sqlite_path`.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from scaling_search.errors import InputError
from scaling_search.study.definition import StudyDefinition


def sqlite_path(url: str) -> Path | None:
    """The database file of an SQLite storage URL (relative to the current folder when the URL is); None otherwise.

    None also for in-memory SQLite and for text that is not a URL at all (opening it says why).

    >>> sqlite_path("sqlite:////srv/studies/c10.db")
    PosixPath('/srv/studies/c10.db')
    >>> sqlite_path("sqlite:///studies/c10.db?timeout=30")
    PosixPath('studies/c10.db')
    >>> sqlite_path("postgresql://me@db/optuna") is None
    True
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def study_storage_url(study: str, *, storage: str | None = None, studies_dir: str | Path = "studies",
                      must_exist: bool = False) -> str:
    """The storage URL of study ``study``: ``storage`` when given, else its SQLite file in ``studies_dir``.

    ``must_exist``: a study in ``studies_dir`` whose file is missing is an InputError (for
    commands that only read a study). A bad name is an InputError too.

    >>> study_storage_url("c10", storage="postgresql://me@db/optuna")
    'postgresql://me@db/optuna'
    """
    url = StudyDefinition(study=study, studies_dir=str(studies_dir), storage=storage).storage_url()
    path = sqlite_path(url)
    if must_exist and storage is None and path is not None and not path.exists():
        raise InputError(f"no study {study!r}: no study file {path} (run the study first, or pass --storage)")
    return url

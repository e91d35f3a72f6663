"""Write a group of files or folders so that readers see either all the old ones or all the new ones.

A search's export (results.csv, best.json, … in ``studies/<study>/``) and a report folder are
both written this way: everything is first written into a staging folder on the same file
system, and only then renamed into place. Renames are what a full disk cannot stop half-way;
and should one fail anyway, the entries already moved are put back, so the previous files stay
as they were. The staging folder is removed in every case.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def publish(folder: Path, fill: Callable[[Path], None], staging_prefix: str = ".staging-") -> list[str]:
    """Run ``fill`` on an empty staging folder, then replace the same-named entries of ``folder`` with what it wrote.

    ``folder`` must exist; entries of it that ``fill`` did not write are left alone, and a folder
    ``fill`` wrote replaces the old one of that name as a whole. The staging folder is made in
    ``folder`` (named ``staging_prefix`` + random letters), so that every move is a rename. When
    ``fill`` or a move fails, ``folder`` keeps its previous entries and the error is raised.
    Returns the names published.
    """
    staging = Path(tempfile.mkdtemp(prefix=staging_prefix, dir=folder))
    try:
        new, old = staging / "new", staging / "old"
        new.mkdir()
        old.mkdir()
        fill(new)
        names = sorted(entry.name for entry in new.iterdir())
        swap(folder, names, new, old)
        return names
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def swap(folder: Path, names: list[str], new: Path, old: Path) -> None:
    """Move ``folder``'s entries called ``names`` into ``old``, then those of ``new`` into ``folder``.

    On failure, what was moved is moved back.
    """
    retired: list[str] = []
    placed: list[str] = []
    try:
        for name in names:
            if os.path.lexists(folder / name):
                os.replace(folder / name, old / name)
                retired.append(name)
        for name in names:
            os.replace(new / name, folder / name)
            placed.append(name)
    except BaseException:
        for name in reversed(placed):  # best effort: the error that stopped the swap is the one to report
            with contextlib.suppress(OSError):
                os.replace(folder / name, new / name)
        for name in reversed(retired):
            with contextlib.suppress(OSError):
                os.replace(old / name, folder / name)
        raise


def remove_stale_staging(folder: Path, staging_prefix: str) -> list[str]:
    """Remove the staging folders a killed writer left in ``folder`` (``staging_prefix`` + random letters).

    Only for a folder with one writer at a time (a study's folder, which its driver lock guards): a
    SIGKILL between :func:`publish`'s ``mkdtemp`` and its ``finally`` leaves the staging folder behind,
    and nothing else would ever remove it. Returns the names removed.
    """
    stale = sorted(entry.name for entry in folder.glob(f"{staging_prefix}*") if entry.is_dir())
    for name in stale:
        shutil.rmtree(folder / name, ignore_errors=True)
    return stale

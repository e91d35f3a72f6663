"""Write a group of files or folders so that readers see either all the old ones or all the new ones.

A search's export (results.csv, best.json, … in ``studies/<study>/``) and a report folder are
both written this way: everything is first written into a staging folder on the same file
system, and only then renamed into place. Renames are what a full disk cannot stop half-way;
and should one fail anyway, the entries already moved are put back, so the previous files stay
as they were. The staging folder is removed in every case.

A report folder (:func:`write_report_folder`) is replaced as a whole, and only when it holds
nothing but what an earlier report wrote (its manifest), so that a mistyped ``--out`` never
deletes a user's files.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from scaling_search.errors import InputError

REPORT_TITLES = ("# Study `", "# The released EfficientNet family")
MANIFEST = ".report-files"
"""Every file a report wrote, one relative path per line: only those may be replaced by the next report."""


class ReportFolderError(InputError):
    """A report's output folder cannot be written, or holds files that no earlier report wrote."""


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


def write_report_folder(out: Path, fill: Callable[[Path], None]) -> Path:
    """Run ``fill`` on a fresh folder, list what it wrote in its manifest, then put it in place of ``out``.

    ``out`` may be new, an empty folder or an earlier report holding only what that report wrote
    (listed in its ``.report-files`` manifest); anything else there is refused, never deleted.
    Returns ``out``, absolute.
    """
    out = out.resolve()
    check_replaceable(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ReportFolderError(f"cannot write the report to {out}: {err.strerror or err}") from None

    def stage(staging: Path) -> None:
        folder = staging / out.name
        folder.mkdir()
        fill(folder)
        written = sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())
        (folder / MANIFEST).write_text("".join(f"{name}\n" for name in written))

    publish(out.parent, stage, staging_prefix=f".{out.name}.")
    return out


def check_replaceable(out: Path) -> None:
    """Refuse to replace ``out`` unless it is missing, an empty folder or a report this command wrote."""
    if not out.exists():
        return
    if not out.is_dir():
        raise ReportFolderError(f"{out} is a file; the report needs a folder of its own")
    if out == Path(out.anchor) or out == Path.home().resolve() or out == Path.cwd().resolve():
        raise ReportFolderError(f"{out} is not a report folder; name a folder of its own, e.g. reports/<study>")
    present = sorted(str(path.relative_to(out)) for path in out.rglob("*")
                     if (not path.is_dir() or path.is_symlink()) and not is_os_metadata(path.name))
    if not present:
        return
    try:
        written = set((out / MANIFEST).read_text().splitlines())
    except (OSError, UnicodeDecodeError):
        if not is_unlisted_report(out, present):
            raise ReportFolderError(f"{out} holds other files and is not an earlier report (no {MANIFEST} manifest); "
                                    "name a new or empty folder") from None
        return
    foreign = [name for name in present if name not in written and name != MANIFEST]
    if foreign:
        raise ReportFolderError(f"{out} holds files its earlier report did not write ({foreign[0]}"
                                f"{f' and {len(foreign) - 1} more' if len(foreign) > 1 else ''}); move them, or "
                                "name a new or empty folder")


def is_os_metadata(name: str) -> bool:
    """Files a desktop adds to any folder it shows (Finder, Explorer): never the user's work."""
    return name in (".DS_Store", "Thumbs.db", "desktop.ini") or name.startswith("._")


def is_unlisted_report(out: Path, present: list[str]) -> bool:
    """A report written before reports listed their files: its index.md title and file names are a report's."""
    try:
        title = (out / "index.md").read_text().partition("\n")[0]
    except (OSError, UnicodeDecodeError):
        return False
    shapes = re.compile(r"[^/]+\.(md|csv|tex)|figures/[^/]+\.(png|svg)")
    return title.startswith(REPORT_TITLES) and all(shapes.fullmatch(name) for name in present)

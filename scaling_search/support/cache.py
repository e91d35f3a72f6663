"""Where scaling-search keeps what it can recompute: FLOP counts and decoded datasets."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO


def default_cache_dir() -> Path:
    """``$SCALING_SEARCH_CACHE``, else ``$XDG_CACHE_HOME/scaling-search``, else ``~/.cache/scaling-search``."""
    explicit = os.environ.get("SCALING_SEARCH_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "scaling-search"


@contextlib.contextmanager
def open_atomic(path: Path) -> Iterator[BinaryIO]:
    """A binary file that appears at ``path`` only when the block ends without error, never half-written.

    Written to a temporary file beside ``path``, then renamed over it; the file gets the usual
    permissions (0666 less the umask), not the temporary file's 0600, so shared folders stay shared.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        if err.filename is None:  # a full disk says so without saying where
            raise OSError(err.errno, err.strerror, str(path)) from err
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so no reader sees half a file."""
    with open_atomic(path) as handle:
        handle.write(data)


class LockHeld(Exception):
    """Another process holds the lock (see :func:`exclusive_lock` with ``wait=False``)."""


@contextlib.contextmanager
def exclusive_lock(path: Path, wait: bool = True) -> Iterator[None]:
    """Hold an advisory lock on ``path`` (created if needed) for the block, e.g. so a cache entry is built once.

    ``wait=False`` raises :class:`LockHeld` at once when another process holds it; the
    holder's process id is written in the file, for messages. Best effort: where the folder is
    read-only or the platform has no ``fcntl``, the block runs unlocked.
    """
    try:
        import fcntl

        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666 & ~current_umask())
    except (ImportError, OSError):
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(path) from None
        except OSError:  # a file system without locks (NFS without lockd, some FUSE mounts): go on unlocked
            pass
        else:
            with contextlib.suppress(OSError):  # the holder's id is for messages only
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock


def current_umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def read_json(path: Path) -> Any | None:
    """The JSON value in ``path``, or None when it is missing or unreadable (a cache miss)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None

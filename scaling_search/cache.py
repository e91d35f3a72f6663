"""Where scaling-search keeps what it can recompute: FLOP counts and decoded datasets."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def default_cache_dir() -> Path:
    """``$SCALING_SEARCH_CACHE``, else ``$XDG_CACHE_HOME/scaling-search``, else ``~/.cache/scaling-search``."""
    explicit = os.environ.get("SCALING_SEARCH_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "scaling-search"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so no reader sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> Any | None:
    """The JSON value in ``path``, or None when it is missing or unreadable (a cache miss)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None

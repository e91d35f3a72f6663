"""What this machine lets a process use: its cores, its memory and a measure of its memory peak, on any OS."""

from __future__ import annotations

import os
import sys
from typing import NamedTuple

GIB = 2**30


def available_cores() -> int:
    """Cores this process may run on (its affinity mask where the OS has one): maybe fewer than the machine has."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def peak_rss_mb() -> float | None:
    """The process's peak resident set size so far, in MiB; None where the OS does not say (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    scale = 1 / 2**20 if sys.platform == "darwin" else 1 / 2**10  # bytes on macOS, KiB on Linux and the BSDs
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def physical_memory() -> int | None:
    """Bytes of RAM, or None where the platform does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


class MemoryFit(NamedTuple):
    """How many blocks of a given size fit in a share of this machine's memory, and how much memory it has."""

    copies: int
    """Whole blocks that fit; 0 when not even one does."""
    total: int
    """Bytes of RAM."""


def memory_fit(size: int, share: float = 1.0) -> MemoryFit | None:
    """How many blocks of ``size`` bytes fit in ``share`` of this machine's RAM; None where the platform does not say.

    The one answer to "does it fit in memory?": work that would not fit is refused before it is
    allocated (each caller in its own words), because on a CPU the kernel's OOM killer would end the
    process without a word; and parallel work is bounded by how many copies fit.
    """
    total = physical_memory()
    if total is None:
        return None
    return MemoryFit(int(total * share) // max(1, size), total)

"""The live progress of a running search: the counts the searcher keeps, and the line they are shown as.

The line says done / running / failed, the best so far, elapsed time and ETA.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Progress:
    """Counts the searcher keeps for the live display."""

    started: float = field(default_factory=time.monotonic)
    done: int = 0
    failed: int = 0
    running: int = 0
    durations: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    best: tuple[float, str] | None = None


def progress_printer(total: int, already: int, log: Callable[[str], None]) -> Callable[[Progress], None]:
    """A function that logs one line per change of ``Progress``; ``already`` trials were finished before this run."""

    def show(progress: Progress) -> None:
        finished = progress.done + progress.failed
        elapsed = time.monotonic() - progress.started
        remaining = max(0, total - already - finished)
        eta = "?"
        if progress.durations and finished:
            per_trial = elapsed / finished
            eta = format_seconds(per_trial * remaining)
        best = f"best {progress.best[0]:.4f} ({progress.best[1]})" if progress.best else "best -"
        log(f"[{already + finished}/{total} done · {progress.running} running · {progress.failed} failed] {best} · "
            f"elapsed {format_seconds(elapsed)} · ETA {eta}")

    return show


def format_seconds(seconds: float) -> str:
    """``42s``, ``3m07s`` or ``2h05m``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"

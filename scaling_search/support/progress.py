"""Progress lines for work counted in items (images decoded, networks measured), at a pace people can read."""

from __future__ import annotations

import time
from collections.abc import Callable


def count_lines(log: Callable[[str], None], label: str, unit: str, every_s: float = 5.0,
                quiet_s: float = 0.0) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` that logs "LABEL: done/total UNIT (percent)".

    Silent for the first ``quiet_s`` seconds (work that ends by then prints nothing); then one line
    at once, at most one every ``every_s`` seconds, and one at the end.
    """
    started = time.monotonic()
    last_shown: float | None = None

    def show(done: int, total: int) -> None:
        nonlocal last_shown
        now = time.monotonic()
        if now - started < quiet_s:
            return
        if last_shown is None or done == total or now - last_shown >= every_s:
            last_shown = now
            log(f"{label}: {done:,}/{total:,} {unit} ({done / max(total, 1):.0%})")

    return show

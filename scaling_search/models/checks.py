"""One-line checks of single values, shared by the immutable network definitions.

Each raises :class:`~scaling_search.errors.InputError` naming the value and what it allows, so a
hand-written stage table or layout file fails at once with one clear line.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scaling_search.errors import InputError


def integer(name: str, value: Any, least: int, most: float) -> None:
    """An int (not a bool) in [least, most].

        >>> integer("repeats", 0, 1, 1024)
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: repeats must be an integer in [1, 1024], got 0
    """
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        raise InputError(f"{name} must be an integer in [{least}, {most:g}], got {value!r}")


def number(name: str, value: Any, low: float, high: float) -> None:
    """A real number (not a bool) in (low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low < value <= high:
        raise InputError(f"{name} must be a number in ({low:g}, {high:g}], got {value!r}")


def boolean(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise InputError(f"{name} must be true or false, got {value!r}")


def choice(name: str, value: Any, allowed: Iterable[str]) -> None:
    """One of ``allowed``; the message lists them."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise InputError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")

"""Values as people read them: numbers in tables (from Python, NumPy or pandas), errors in one line."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from scaling_search.errors import InputError


def format_number(value: Any, spec: str, missing: str = "-") -> str:
    """``value`` formatted by ``spec``; None and NaN as ``missing``.

    An integer spec (``d``) also takes integral floats, which is what an integer column becomes in
    pandas once it holds a missing value (a failed trial has no resolution); other floats under an
    integer spec fall back to the general format rather than failing.
    """
    if value is None:
        return missing
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if math.isnan(value):
            return missing
        if spec.endswith("d") and not isinstance(value, numbers.Integral):
            if not float(value).is_integer():
                return format(float(value), spec[:-1] + "g")
            value = int(float(value))
        return format(value, spec)
    return str(value)


def describe(err: BaseException) -> str:
    """``"<ExcType>: first line of the message"``, for one-line reasons."""
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


def chosen_formats(formats: Iterable[str], known: Iterable[str], what: str, example: str = "") -> tuple[str, ...]:
    """The formats asked for, in order and once each; InputError naming ``what`` (and showing ``example``, the flag as
    it is written) when none or an unknown one is named.

    Example:
        >>> chosen_formats(["csv", "md", "csv"], ("md", "csv", "tex"), "report formats")
        ('csv', 'md')
    """
    known = tuple(known)
    wanted = tuple(dict.fromkeys(formats))
    unknown = [name for name in wanted if name not in known]
    if not wanted or unknown:
        shown = f" ({example})" if example else ""
        raise InputError(f"{what} are some of {', '.join(known)}{shown}; got {', '.join(map(repr, wanted)) or 'none'}")
    return wanted

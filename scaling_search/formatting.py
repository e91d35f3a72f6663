"""Numbers as people read them in tables, whatever container they come from (Python, NumPy, pandas)."""

from __future__ import annotations

import math
import numbers
from typing import Any


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
            value = int(value)
        return format(value, spec)
    return str(value)

"""The one exception type for bad input, so that callers can tell it from a bug.

Every immutable definition (layout, grid, recipe, budget, augmentation, study definition, dataset
spec) checks itself when it is built and raises :class:`InputError` for values it cannot take.
The CLI prints an ``InputError`` as one line and exits 2; any other exception is a bug (exit 1).
``InputError`` is a ``ValueError``, so code written against the standard convention still works.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from the user: a value out of range, an unknown name, a file that is not what it should be.

    Example:
        >>> import scaling_search as ss
        >>> try:
        ...     ss.scale(width=-1.0)
        ... except ss.InputError as err:
        ...     print(err)
        width must be a number in (0, 64], got -1.0
    """

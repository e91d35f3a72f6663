"""Per-image correctness records: what a training run stores for each validation image, as short text.

A run keeps whether it got each validation image right, so that two candidates can later be
compared image by image (:mod:`scaling_search.stats.comparison`). The record is stored in the
study as ``"<length>:<base64 of np.packbits>"``: a training run writes it and the comparisons read
it back, so the format lives here, below both.
"""

from __future__ import annotations

import base64
import binascii

import numpy as np
from numpy.typing import ArrayLike


def pack_correctness(correct: ArrayLike) -> str:
    """Per-image correctness (1-D, bools or 0/1) as compact text: ``"<length>:<base64 of np.packbits>"``.

    >>> pack_correctness([True, False, True, True, False])
    '5:sA=='
    """
    array = np.asarray(correct)
    if array.ndim != 1:
        raise ValueError(f"per-image correctness must be 1-D, got an array of shape {array.shape}")
    if array.dtype != np.bool_:
        if array.size and not np.isin(array, (0, 1)).all():
            raise ValueError("per-image correctness must hold only True/False or 0/1")
        array = array.astype(bool)
    return f"{array.size}:{base64.b64encode(np.packbits(array).tobytes()).decode('ascii')}"


def unpack_correctness(text: str) -> np.ndarray:
    """The 1-D bool array :func:`pack_correctness` stored in ``text``; ValueError when ``text`` is malformed.

    >>> unpack_correctness('5:sA==')
    array([ True, False,  True,  True, False])
    """
    if not isinstance(text, str):
        raise ValueError(f"packed correctness must be text, got {type(text).__name__}")
    length_text, colon, payload = text.partition(":")
    if not colon:
        raise ValueError(f"packed correctness {clip(text)!r} lacks the '<length>:' prefix")
    if not (length_text.isascii() and length_text.isdigit()):
        raise ValueError(f"packed correctness {clip(text)!r} does not start with an image count")
    length = int(length_text)
    try:
        raw = base64.b64decode(payload.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as err:
        raise ValueError(f"packed correctness {clip(text)!r} is not valid base64 after the length") from err
    if len(raw) != (length + 7) // 8:
        raise ValueError(f"packed correctness {clip(text)!r} holds {len(raw)} bytes, "
                         f"but {length} images need {(length + 7) // 8}")
    bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8))
    if bits[length:].any():
        raise ValueError(f"packed correctness {clip(text)!r} has bits set past its {length} images")
    return bits[:length].astype(bool)


def clip(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters, for an error message that quotes it."""
    return text if len(text) <= limit else text[:limit] + "…"

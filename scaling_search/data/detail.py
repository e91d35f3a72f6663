"""How much detail a trained resolution has: the upsampling factor against a dataset's native resolution.

A network trained at a resolution above its images' native one sees bilinearly interpolated
pixels: more compute, no more information. ``upsample`` says by how much a trained resolution
exceeds the native one (:attr:`scaling_search.data.dataset.ImageData.native_resolution`), and
``upsampled`` whether that factor means invented pixels.

Example: CIFAR-10's images are 32 px, so training at 48 px upsamples them 1.5×.

    >>> from scaling_search.data.detail import upsample, upsampled
    >>> factor = upsample(48, 32)
    >>> factor, upsampled(factor)
    (1.5, True)
    >>> upsample(24, 32), upsampled(upsample(32, 32))
    (0.75, False)
"""

from __future__ import annotations

import math

import numpy as np

from scaling_search.errors import InputError

NUMBERS = (int, float, np.integer, np.floating)
"""What a resolution or factor may be given as: Python's or numpy's integers and floats."""
UPSAMPLE_SLACK = 1e-9
"""A factor this close above 1 still counts as native: guards against float noise, never a real pixel."""


def upsample(trained_resolution: int, native_resolution: int) -> float:
    """``trained_resolution / native_resolution``: ≤ 1 when nothing is upsampled, > 1 when pixels are interpolated.

    Below 1 the images are shrunk: detail is lost, but no pixel is invented. Both arguments are
    image sides in pixels and must be positive whole numbers (else :class:`InputError`).
    """
    for name, value in (("trained_resolution", trained_resolution), ("native_resolution", native_resolution)):
        if not is_pixel_count(value):
            raise InputError(f"{name} must be a positive integer (pixels), got {value!r}")
    return int(trained_resolution) / int(native_resolution)


def is_pixel_count(value: object) -> bool:
    """A positive whole number, given as an integer of any kind or a float such as 48.0; never a bool."""
    if isinstance(value, bool) or not isinstance(value, NUMBERS):
        return False
    number = float(value)
    return math.isfinite(number) and number == int(number) and number >= 1


def upsampled(factor: float) -> bool:
    """Whether an :func:`upsample` factor means the network sees interpolated pixels that add no detail (factor > 1)."""
    if isinstance(factor, bool) or not isinstance(factor, NUMBERS) or not 0 < float(factor) < math.inf:
        raise InputError(f"an upsample factor must be a positive finite number, got {factor!r}")
    return factor > 1 + UPSAMPLE_SLACK

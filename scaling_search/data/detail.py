"""How much detail a trained resolution has: its ratio to the data's native resolution."""

from __future__ import annotations

from scaling_search.errors import InputError


def upsample(trained_resolution: int, native_resolution: int) -> float:
    """Trained resolution over native: above 1 the network sees interpolated pixels, compute without detail.

    Example:
        >>> upsample(48, 32), upsampled(upsample(48, 32))
        (1.5, True)
    """
    for name, value in (("trained resolution", trained_resolution), ("native resolution", native_resolution)):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise InputError(f"{name} must be a positive integer, got {value}")
    return trained_resolution / native_resolution


def upsampled(factor: float) -> bool:
    """Whether an :func:`upsample` factor means interpolated pixels (above 1, beyond float noise)."""
    return factor > 1 + 1e-9

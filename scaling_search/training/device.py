"""Which device a run trains on: ``auto``, or a name checked against what this machine has."""

from __future__ import annotations

import torch

from scaling_search.errors import InputError

DEVICE_NAMES = "auto, cpu, cuda or cuda:N"


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` → cuda when available, else cpu; any other name must be a device this machine has.

    Example:
        >>> from scaling_search.training.device import resolve_device
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise InputError(f"device must be {DEVICE_NAMES}, not {name!r}") from None
    if device.type == "cpu":
        return device
    if device.type != "cuda":
        raise InputError(f"device must be {DEVICE_NAMES}, not {name!r}")
    if not torch.cuda.is_available():
        raise InputError(f"device {name}: CUDA is not available on this machine")
    if device.index is not None and device.index >= torch.cuda.device_count():
        raise InputError(f"device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device

"""The optional libraries of the hand-off, imported only when asked for, or one line naming the extra to install.

timm (and the ONNX tools) are the ``export`` extra of ``pyproject.toml``; torchvision is a core
dependency and needs no check.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from scaling_search.errors import InputError

EXTRA = "export"
"""The optional dependencies' group in ``pyproject.toml`` (``[project.optional-dependencies]``)."""
INSTALL = f'pip install "scaling-search[{EXTRA}]"'


def require(package: str, purpose: str) -> ModuleType:
    """Import top-level ``package``, or raise InputError saying ``purpose`` needs it and how to install it.

    Example:
        >>> require("torch", "build").__name__
        'torch'
        >>> require("no_such_package", "to_timm")
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: to_timm needs no_such_package, which is not installed: \
pip install "scaling-search[export]"
    """
    try:
        return importlib.import_module(package)
    except ImportError:
        raise InputError(f"{purpose} needs {package}, which is not installed: {INSTALL}") from None

"""The hand-off's optional extra (``pip install "scaling-search[export]"``): imported only where it is used.

timm, onnx, onnxscript and onnxruntime are not needed to search, train or report, so they are not
dependencies of the package; what needs one imports it through :func:`require`, which says in one
line which extra to install when it is missing.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from scaling_search.errors import InputError

EXTRA = 'pip install "scaling-search[export]"'
"""What installs every package of the hand-off."""


def require(module: str, purpose: str) -> ModuleType:
    """``module`` imported, or InputError in one line naming the extra that installs it; ``purpose`` says what for.

    Example:
        >>> require("json", "reading a manifest").__name__
        'json'
        >>> require("no_such_module", "writing ONNX files")
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: writing ONNX files needs the optional extra: pip install \
"scaling-search[export]" (No module named 'no_such_module')
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise InputError(f"{purpose} needs the optional extra: {EXTRA} ({err})") from None

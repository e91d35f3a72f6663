"""What a library's model class fixes and a layout must match: each check raises one line of InputError.

A library class that cannot be given a layout's value is refused, never approximated. Dropout and
drop path are refused too where the class lacks them (they change training, not the eval-mode
logits): the message says how to convert a copy of the layout without them.
"""

from __future__ import annotations

from scaling_search.errors import InputError
from scaling_search.models.layout import Layout


def block_kinds(layout: Layout) -> frozenset[str]:
    """The block kinds of the layout's stages."""
    return frozenset(stage.block for stage in layout.stages)


def fixed(owner: str, what: str, actual: object, expected: object) -> None:
    """Raise unless the layout's ``actual`` value is what ``owner`` (a library class) fixes it at.

        >>> fixed("torchvision's MobileNetV2", "activation", "silu", "relu6")
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: torchvision's MobileNetV2 fixes the activation at relu6; this layout has silu
    """
    if actual != expected:
        raise InputError(f"{owner} fixes the {what} at {expected}; this layout has {actual}")


def absent(owner: str, field: str, value: float, reason: str) -> None:
    """Raise unless the layout's ``field`` (dropout or drop_path) is 0, where ``owner`` lacks it for ``reason``.

        >>> absent("torchvision's ResNet", "dropout", 0.2, "has no classifier dropout")
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: torchvision's ResNet has no classifier dropout, so this layout's \
dropout 0.2 cannot be expressed; dataclasses.replace(layout, dropout=0.0) converts
    """
    if value:
        raise InputError(f"{owner} {reason}, so this layout's {field} {value:g} cannot be expressed; "
                         f"dataclasses.replace(layout, {field}=0.0) converts")


def head_conv(owner: str, layout: Layout, present: bool) -> None:
    """Raise unless the layout has a head conv exactly when ``owner`` has one (``present``)."""
    if present and layout.head is None:
        raise InputError(f"{owner} always has a head conv; this layout has none")
    if not present and layout.head is not None:
        raise InputError(f"{owner} has no head conv; this layout has one of {layout.head} channels")


def stem_form(owner: str, layout: Layout, kernel: int | None, stride: int, pool: bool) -> None:
    """Raise unless the layout's stem is a ``kernel`` (None: any) conv of ``stride``, max-pooled iff ``pool``."""
    fixed(owner, "stem stride", layout.stem_stride, stride)
    if kernel is not None:
        fixed(owner, "stem kernel", layout.stem_kernel, kernel)
    if layout.stem_pool != pool:
        raise InputError(f"{owner} has {'a' if pool else 'no'} max pool after the stem; this layout has "
                         f"{'one' if layout.stem_pool else 'none'}")


def unexpressed_kinds(library: str, layout: Layout, classes: str) -> InputError:
    """The error for a layout whose block kinds no class of ``library`` builds; ``classes`` says which kinds it does."""
    kinds = ", ".join(sorted(block_kinds(layout)))
    return InputError(f"{library} has no model class for a network of {kinds} stages ({classes})")

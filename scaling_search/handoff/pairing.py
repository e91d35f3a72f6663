"""Two networks proven the same layer by layer, and every parameter's name in both.

A network's weighted layers (the modules holding parameters or buffers: convolutions, BatchNorms,
the classifier) are listed in the order the forward pass meets them: the order of registration,
except that children named in ``late`` come after their siblings (torchvision's RegNet block
registers its shortcut ``proj`` before its branch; ours registers the branch first). Ours and the
library's lists must pair one for one: same class and the same settings (``extra_repr``: channels,
kernel, stride, padding, dilation, groups, bias; BatchNorm's eps and momentum), or the library
cannot express the layout. Activations, skips and the order inside a block hold no weights and
are not seen here: the tests compare logits for those.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from scaling_search.errors import InputError
from scaling_search.models.layout import Layout
from scaling_search.models.network import Network, build

WEIGHTED_CLASSES: tuple[type[nn.Module], ...] = (nn.Conv2d, nn.BatchNorm2d, nn.Linear)
"""The classes of every weighted layer our builder makes; a library's subclass (timm's ``BatchNormAct2d``) pairs
with its base class."""
KeyMap = dict[str, str]
"""A state dict's keys in one network mapped to the same tensors' keys in another."""


def weighted_layers(model: nn.Module, late: tuple[str, ...] = ()) -> list[tuple[str, nn.Module]]:
    """``model``'s modules that hold parameters or buffers themselves, by name, in forward order.

        >>> from scaling_search.models.scaling import scale
        >>> with torch.device("meta"):
        ...     layers = weighted_layers(build(scale(width=0.25, depth=0.25)))
        >>> [name for name, _ in layers[:3]], layers[-1][0]
        (['stem.0', 'stem.1', 'blocks.0.branch.0.0'], 'classifier')
    """
    found: list[tuple[str, nn.Module]] = []

    def visit(module: nn.Module, name: str) -> None:
        if [*module.parameters(recurse=False), *module.buffers(recurse=False)]:
            found.append((name, module))
        children = sorted(module.named_children(), key=lambda child: child[0] in late)  # stable: late ones last
        for child_name, child in children:
            visit(child, f"{name}.{child_name}" if name else child_name)

    visit(model, "")
    return found


def signature(module: nn.Module) -> str:
    """A weighted layer's class among :data:`WEIGHTED_CLASSES` and its settings, as ``repr`` writes them."""
    kind = next((cls.__name__ for cls in WEIGHTED_CLASSES if isinstance(module, cls)), type(module).__name__)
    return f"{kind}({module.extra_repr()})"


def local_keys(model: nn.Module) -> dict[str, list[str]]:
    """``model``'s state-dict keys grouped by the module that holds them: ``{"stem.1": ["weight", "bias", …]}``."""
    grouped: dict[str, list[str]] = {}
    for key in model.state_dict():
        owner, _, local = key.rpartition(".")
        grouped.setdefault(owner, []).append(local)
    return grouped


def library_class(model: nn.Module) -> str:
    """``"timm's EfficientNet"``: the library (the top package of the model's class) and the class."""
    return f"{type(model).__module__.partition('.')[0]}'s {type(model).__name__}"


def key_map(ours: nn.Module, theirs: nn.Module, late: tuple[str, ...] = ()) -> KeyMap:
    """Each of our state-dict keys mapped to the same tensor's key in ``theirs``, once every layer pairs.

    ``late`` names the children of ``theirs`` that its forward pass meets after their siblings.
    Raises InputError naming the first layer that differs (or the layer count) otherwise.
    """
    mine, other = weighted_layers(ours), weighted_layers(theirs, late)
    our_keys, their_keys = local_keys(ours), local_keys(theirs)
    cannot = f"{library_class(theirs)} cannot express this layout exactly"
    for (our_name, our_layer), (their_name, their_layer) in zip(mine, other, strict=False):  # lengths: below
        if signature(our_layer) != signature(their_layer) or our_keys[our_name] != their_keys[their_name]:
            raise InputError(f"{cannot}: its {their_name} is {signature(their_layer)} where ours ({our_name}) is "
                             f"{signature(our_layer)}")
    if len(mine) != len(other):
        extra = (other if len(other) > len(mine) else mine)[min(len(mine), len(other))][0]
        raise InputError(f"{cannot}: it has {len(other)} layers with weights and ours {len(mine)} (the first unpaired "
                         f"is {'its' if len(other) > len(mine) else 'our'} {extra})")
    return {f"{our_name}.{local}": f"{their_name}.{local}"
            for (our_name, _), (their_name, _) in zip(mine, other, strict=True) for local in our_keys[our_name]}


def renamed(state: Mapping[str, torch.Tensor], names: Mapping[str, str], what: str) -> dict[str, torch.Tensor]:
    """``state`` under the names ``names`` maps its keys to; InputError naming ``what`` unless the keys are the same."""
    missing = [key for key in names if key not in state]
    unexpected = [key for key in state if key not in names]
    if missing or unexpected:
        listed = "; ".join(f"{label} {', '.join(keys[:3])}{' …' if len(keys) > 3 else ''}"
                           for label, keys in (("missing", missing), ("unexpected", unexpected)) if keys)
        raise InputError(f"{what} does not fit this layout: {listed}")
    return {names[key]: state[key] for key in names}


def on_meta(layout: Layout) -> Network:
    """Our network of ``layout`` on the meta device: its layers and keys, no memory, no initialisation cost."""
    with torch.device("meta"):
        return build(layout)


def adopted(theirs: nn.Module, source: Layout | Network, late: tuple[str, ...] = ()) -> nn.Module:
    """``theirs``, proven the network of ``source`` (:func:`key_map`) and holding its weights when it is a network."""
    if isinstance(source, Network):
        theirs.load_state_dict(renamed(source.state_dict(), key_map(source, theirs, late), "the network's state dict"))
    else:
        key_map(on_meta(source), theirs, late)
    return theirs

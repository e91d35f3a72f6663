"""State dicts mapped both ways between our networks and timm's or torchvision's classes of the same layout.

A network trained here continues in timm or torchvision (``timm_state_dict``,
``torchvision_state_dict``: our weights under their names), and their weights initialise ours
(``from_timm_state_dict``, ``from_torchvision_state_dict``). The names come from pairing the two
networks layer by layer (:mod:`~scaling_search.handoff.pairing`), built on the meta device, so a
mapping costs no memory. Dropout and drop path hold no weights, so they are left out of the
pairing: a layout whose rates a library lacks still maps its weights.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

import torch
from torch import nn

from scaling_search.handoff.pairing import KeyMap, key_map, on_meta, renamed
from scaling_search.handoff.timm_model import timm_network
from scaling_search.handoff.torchvision_model import LATE_CHILDREN, torchvision_network
from scaling_search.models.layout import Layout
from scaling_search.models.network import Network

StateDict = dict[str, torch.Tensor]


def names(layout: Layout, library_network: Callable[[Layout], nn.Module], late: tuple[str, ...] = ()) -> KeyMap:
    """Our state-dict keys for ``layout`` mapped to those of the library's model (``library_network``)."""
    weights_only = replace(layout, dropout=0.0, drop_path=0.0)
    with torch.device("meta"):
        theirs = library_network(weights_only)
    return key_map(on_meta(weights_only), theirs, late)


def inverse(keys: KeyMap) -> KeyMap:
    return {theirs: ours for ours, theirs in keys.items()}


def timm_state_dict(model: Network) -> StateDict:
    """``model``'s weights under the names of timm's model of its layout (:func:`~scaling_search.to_timm`).

    Save it and timm loads it, e.g. ``train.py --initial-checkpoint``. Raises InputError, in one
    line, when timm cannot express the layout.

    Example:
        >>> import scaling_search as ss
        >>> ours = ss.build(ss.scale(width=0.5, depth=0.5, num_classes=10))
        >>> state = ss.timm_state_dict(ours)
        >>> list(state)[:2]
        ['conv_stem.weight', 'bn1.weight']
        >>> ss.to_timm(ours.layout).load_state_dict(state)
        <All keys matched successfully>
    """
    return renamed(model.state_dict(), names(model.layout, timm_network), "the network's state dict")


def from_timm_state_dict(state: Mapping[str, torch.Tensor], layout: Layout) -> StateDict:
    """``state``, a state dict of timm's model of ``layout``, under our names: what ``build(layout)`` loads.

    Raises InputError, in one line, when timm cannot express the layout or ``state``'s keys are not its model's.

    Example:
        >>> import scaling_search as ss
        >>> layout = ss.scale(width=0.5, depth=0.5, num_classes=10)
        >>> state = ss.from_timm_state_dict(ss.to_timm(layout).state_dict(), layout)
        >>> ss.build(layout).load_state_dict(state)
        <All keys matched successfully>
    """
    return renamed(state, inverse(names(layout, timm_network)), "the timm state dict")


def torchvision_state_dict(model: Network) -> StateDict:
    """``model``'s weights under the names of torchvision's model of its layout (see :func:`to_torchvision`).

    Raises InputError, in one line, when torchvision cannot express the layout.

    Example:
        >>> import scaling_search as ss
        >>> ours = ss.build(ss.scale(width=0.5, depth=0.5, num_classes=10))
        >>> state = ss.torchvision_state_dict(ours)
        >>> list(state)[:2]
        ['features.0.0.weight', 'features.0.1.weight']
        >>> ss.to_torchvision(ours.layout).load_state_dict(state)
        <All keys matched successfully>
    """
    return renamed(model.state_dict(), names(model.layout, torchvision_network, LATE_CHILDREN),
                   "the network's state dict")


def from_torchvision_state_dict(state: Mapping[str, torch.Tensor], layout: Layout) -> StateDict:
    """The weights in ``state``, a state dict of torchvision's model of ``layout``, under our names.

    torchvision's own weights initialise ours where the layouts agree, e.g. ResNet-50's at width 1.
    Raises InputError, in one line, when torchvision cannot express the layout or the keys differ.

    Example:
        >>> import scaling_search as ss, torchvision
        >>> layout = ss.scale(base=ss.base_network("resnet50"))
        >>> state = ss.from_torchvision_state_dict(torchvision.models.resnet50().state_dict(), layout)
        >>> ss.build(layout).load_state_dict(state)
        <All keys matched successfully>
    """
    return renamed(state, inverse(names(layout, torchvision_network, LATE_CHILDREN)), "the torchvision state dict")

"""Which network: the four ways of naming one, turned into one :class:`Layout`.

A network is named by multipliers of B0 (``width``, ``depth``), by compound scaling (``alpha``,
``beta``, ``gamma``, ``phi`` and optionally ``base_resolution``), by a released model's name
(``model``, b0..b7), or by a JSON file (``config``) holding a layout or an object with a
``"layout"`` key, as ``scaling-search train --json`` prints. Mixing two ways is an error.
``resolution`` overrides the chosen layout's resolution and ``num_classes`` its classifier.
``base`` is the network the multipliers and compound scaling scale (B0 unless given); the
released models are B0's only, and a config file's layout keeps its own base.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from scaling_search.errors import InputError
from scaling_search.models.architecture import EFFICIENTNET_B0, BaseArchitecture, released_model
from scaling_search.models.bases import RELEASED_ONLY_B0, has_released_family
from scaling_search.models.scaling import Layout, compound_layout, released_layout, scale

COMPOUND = ("alpha", "beta", "gamma", "phi")
"""What compound scaling needs, all four; ``base_resolution`` is optional."""


def choose_layout(
    *,
    width: float | None = None,
    depth: float | None = None,
    resolution: int | None = None,
    alpha: float | None = None,
    beta: float | None = None,
    gamma: float | None = None,
    phi: float | None = None,
    base_resolution: int | None = None,
    model: str | None = None,
    config: str | Path | None = None,
    num_classes: int | None = None,
    default_resolution: int | None = None,
    base: BaseArchitecture | None = None,
) -> Layout:
    """The one network the given options name; nothing given is the base (B0) at ``default_resolution``.

    Width and depth default to 1 and resolution to ``default_resolution`` (each command documents
    its own; None: the base's own). Raises InputError when two ways are mixed, compound scaling
    lacks one of its four coefficients, a released model is asked of another base than B0, a
    config file holds another base's layout than ``base``, or the config file is unreadable, not
    UTF-8, not JSON or not a layout.

    Example:
        >>> from scaling_search.models.choice import choose_layout
        >>> layout = choose_layout(alpha=1.2, beta=1.1, gamma=1.15, phi=1)
        >>> round(layout.depth, 2), round(layout.width, 2), layout.resolution
        (1.2, 1.1, 258)
        >>> choose_layout(model="b3", resolution=64).resolution
        64
    """
    given = {"width": width, "depth": depth, "alpha": alpha, "beta": beta, "gamma": gamma, "phi": phi,
             "base_resolution": base_resolution, "model": model, "config": config}
    ways = [[name for name in way if given[name] is not None]
            for way in (("width", "depth"), (*COMPOUND, "base_resolution"), ("model",), ("config",))]
    chosen = [way for way in ways if way]
    network = EFFICIENTNET_B0 if base is None else base
    if len(chosen) > 1:
        raise InputError(f"{'/'.join(chosen[0])} and {'/'.join(chosen[1])} describe the network in different ways; "
                         "choose one")
    if ways[1]:
        missing = [name for name in COMPOUND if given[name] is None]
        if missing:
            raise InputError(f"compound scaling needs {', '.join(missing)} as well")
        layout = compound_layout(alpha, beta, gamma, phi, base_resolution=base_resolution,  # type: ignore[arg-type]
                                 base=network)
    elif model is not None:
        if not has_released_family(network):
            raise InputError(f"{RELEASED_ONLY_B0}; model {model!r} is not a {network.name} network (scale it "
                             "with --width/--depth or --alpha/--beta/--gamma/--phi)")
        layout = released_layout(released_model(model))
    elif config is not None:
        layout = read_layout(Path(config))
        if base is not None and layout.base != base.name:
            raise InputError(f"{config} holds a {layout.base} layout, not {base.name}; leave --base out to use the "
                             "file's own")
    else:
        layout = scale(1.0 if width is None else width, 1.0 if depth is None else depth,
                       network.base_resolution if default_resolution is None else default_resolution, base=network)
    if resolution is not None:
        layout = layout.with_resolution(resolution)
    if num_classes is not None:
        layout = replace(layout, num_classes=num_classes)
    return layout


def read_layout(path: Path) -> Layout:
    """The layout in JSON file ``path``: a layout object, or an object with a ``"layout"`` key holding one."""
    return layout_in(read_json(path), path)


def read_json(path: Path) -> object:
    """The JSON value in file ``path``; InputError, naming the file, when it is unreadable, not UTF-8 or not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text; a network config is a JSON file") from None
    except json.JSONDecodeError as err:
        raise InputError(f"{path} is not JSON: {err}") from None


def layout_in(data: object, path: Path) -> Layout:
    """The layout JSON ``data`` (read from ``path``) holds: a layout object, or an object with a ``"layout"`` key."""
    if isinstance(data, dict) and isinstance(data.get("layout"), dict):
        data = data["layout"]
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a layout object or an object with a 'layout' key")
    try:
        return Layout.from_dict(data)
    except InputError as err:
        raise InputError(f"{path}: {err}") from None

"""A base network as a TOML stage table: read (:func:`load_base`) and written back (:func:`base_to_toml`).

The table holds :class:`~scaling_search.models.architecture.BaseArchitecture`'s fields by the same
names: top-level scalars, an optional ``[rules]`` table and one ``[[stages]]`` table per stage
(the format, with a full example, is in ``docs/base_networks.md``). Every problem is one line of
:class:`~scaling_search.errors.InputError` naming the file and, for a stage, its number.
``load_base(path)`` of what ``base_to_toml`` wrote equals the base it was written from.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from scaling_search.errors import InputError
from scaling_search.models.architecture import BaseArchitecture, StageSpec
from scaling_search.models.kinds import OPTION_DEFAULTS, block_kind
from scaling_search.models.rules import ScalingRules

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

REQUIRED = ("name", "stem_channels", "base_resolution", "stages")
"""Top-level fields a stage table must give; the others default as in BaseArchitecture (no head conv
when ``head_channels`` is left out)."""
STAGE_REQUIRED = ("block", "out_channels", "repeats", "stride")
"""Fields every ``[[stages]]`` table must give; a kind's options default to OPTION_DEFAULTS."""
TomlTable = dict[str, Any]
"""A parsed TOML table: its values are unchecked until the dataclass built from it checks them."""


def load_base(path: str | Path) -> BaseArchitecture:
    """The base network in TOML file ``path``, checked; InputError in one line naming the file otherwise.

    Example:
        >>> import pathlib, tempfile
        >>> from scaling_search.models.bases import base_network
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = pathlib.Path(folder) / "resnet.toml"
        ...     write_base(base_network("resnet50"), path)
        ...     load_base(path) == base_network("resnet50")
        True
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"stage table not found: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder; name a stage table (.toml)") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text; a stage table is a TOML file") from None
    return parse_base(text, str(path))


def parse_base(text: str, source: str = "stage table") -> BaseArchitecture:
    """The base network in TOML ``text``; errors are prefixed with ``source``.

    Example:
        >>> base = parse_base('''
        ... name = "tiny"
        ... stem_channels = 16
        ... base_resolution = 64
        ... [[stages]]
        ... block = "inverted_residual"
        ... expand_ratio = 4
        ... out_channels = 24
        ... repeats = 2
        ... stride = 2
        ... ''')
        >>> base.stages[0].block, base.head_channels, parse_base(base_to_toml(base)) == base
        ('inverted_residual', None, True)
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{source} is not valid TOML: {err}") from None
    try:
        return base_from_dict(data)
    except InputError as err:
        raise InputError(f"{source}: {err}") from None


def base_from_dict(data: TomlTable) -> BaseArchitecture:
    """A base from a parsed stage table: known fields only, required ones present, each stage checked."""
    names = [f.name for f in fields(BaseArchitecture)]
    check_fields("", data, names, REQUIRED)
    stages = data["stages"]
    if not isinstance(stages, list) or not all(isinstance(stage, dict) for stage in stages):
        raise InputError("stages must be an array of tables, one [[stages]] per stage")
    if not stages:
        raise InputError("a base network needs at least one stage")
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        raise InputError("rules must be a table ([rules])")
    check_fields("rules: ", rules, [f.name for f in fields(ScalingRules)], ())
    try:
        rules = ScalingRules(**rules)
    except InputError as err:
        raise InputError(f"rules: {err}") from None
    return BaseArchitecture(**{**data, "head_channels": data.get("head_channels"), "rules": rules,
                               "stages": tuple(stage_from_dict(index, stage) for index, stage in enumerate(stages, 1))})


def stage_from_dict(index: int, data: TomlTable) -> StageSpec:
    where = f"stage {index}: "
    check_fields(where, data, [f.name for f in fields(StageSpec)], STAGE_REQUIRED)
    try:
        return StageSpec(**{**OPTION_DEFAULTS, **data})
    except InputError as err:
        raise InputError(f"{where}{err}") from None


def check_fields(where: str, data: Mapping[str, object], known: list[str], required: tuple[str, ...]) -> None:
    for key in data:
        if key not in known:
            raise InputError(f"{where}unknown field {key!r}; known: {', '.join(known)}")
    for key in required:
        if key not in data:
            raise InputError(f"{where}missing field {key!r}")


def base_to_toml(base: BaseArchitecture) -> str:
    """``base`` as a TOML stage table that :func:`load_base` reads back to an equal base.

    Fields at their defaults are written too, so the file says everything; a stage's options
    its block kind does not take are left out, as is ``head_channels`` when there is no head conv.

        >>> from scaling_search.models.bases import base_network
        >>> print(base_to_toml(base_network("resnet50")).splitlines()[0])
        name = "resnet50"
    """
    lines = [f"{f.name} = {toml_value(getattr(base, f.name))}" for f in fields(base)
             if f.name not in ("stages", "rules") and getattr(base, f.name) is not None]
    lines += ["", "[rules]"]
    lines += [f"{f.name} = {toml_value(getattr(base.rules, f.name))}" for f in fields(base.rules)
              if getattr(base.rules, f.name) is not None]
    for stage in base.stages:
        taken = block_kind(stage.block).options
        lines += ["", "[[stages]]"]
        lines += [f"{f.name} = {toml_value(getattr(stage, f.name))}" for f in fields(stage)
                  if f.name not in OPTION_DEFAULTS or f.name in taken]
    return "\n".join(lines) + "\n"


def write_base(base: BaseArchitecture, path: str | Path) -> None:
    """Write ``base`` to ``path`` as a TOML stage table (:func:`base_to_toml`)."""
    Path(path).write_text(base_to_toml(base), encoding="utf-8")


def toml_value(value: object) -> str:
    """A TOML literal for a bool, int, float or string (the only values a base holds)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    raise TypeError(f"a stage table holds no {type(value).__name__}")

"""Study files: a study definition from TOML (or any mapping of option names), checked option by option.

Keys are the option names with ``-`` or ``_``; values are checked against the option's type
before :class:`~scaling_search.study.definition.StudyDefinition` checks what they mean.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from scaling_search.errors import InputError
from scaling_search.study.definition import StudyDefinition

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def coerce(name: str, value: Any, annotation: Any) -> Any:
    """Check a TOML value against the field's type; ints are accepted where floats are."""
    if get_origin(annotation) is tuple:
        if (isinstance(value, list | tuple) and len(value) == 2
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
            return (float(value[0]), float(value[1]))
        raise InputError(f"study option {name!r} must be a [min, max] pair of numbers, got {value!r}")
    allowed = get_args(annotation) or (annotation,)
    if value is None and type(None) in allowed:
        return None
    if float in allowed and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    for kind in (bool, int, str):
        if kind in allowed and type(value) is kind:
            return value
    expected = " or ".join(a.__name__ for a in allowed if a is not type(None))
    raise InputError(f"study option {name!r} must be {expected}, got {type(value).__name__} {value!r}")


def from_mapping(values: Mapping[str, object], base: StudyDefinition | None = None) -> StudyDefinition:
    """A definition from ``values`` (TOML keys; '-' and '_' both accepted) over ``base``."""
    hints = get_type_hints(StudyDefinition)
    known = {f.name for f in fields(StudyDefinition)}
    updates = {}
    for raw_key, value in values.items():
        key = raw_key.replace("-", "_")
        if key not in known:
            raise InputError(f"unknown study option {raw_key!r}; known options: {', '.join(sorted(known))}")
        updates[key] = coerce(raw_key, value, hints[key])
    return replace(base or StudyDefinition(), **updates)


def load_definition(path: Path) -> dict[str, object]:
    """The raw options of a study file, parsed as data only (tomllib)."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise InputError(f"study file not found: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder; name a study file (.toml)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"study file {path} is not valid TOML: {err}") from None

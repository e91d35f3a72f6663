"""Which base network a study scales, and how the study keeps it: a built-in's name, or the stage table itself.

A study definition names its base in ``base``: a built-in's name (``resnet50``) or the path of a
TOML stage table. A table is read once, when the study starts (:func:`with_base_table`), and kept
in ``base_table`` of the saved definition, so the study resumes, reports and validates with the
table it was searched with, even after the file is moved, edited or deleted. The base changes
what is searched: a resumed study keeps its own, and ``validate`` or ``report`` refuse another.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from scaling_search.errors import InputError
from scaling_search.models.architecture import EFFICIENTNET_B0, BaseArchitecture
from scaling_search.models.base_file import base_to_toml, load_base, parse_base
from scaling_search.models.bases import base_network, is_table_path

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


class NamesBase(Protocol):
    """What these functions read of a study definition: its name (None until it is named), its base and the table."""

    @property
    def study(self) -> str | None: ...
    @property
    def base(self) -> str: ...
    @property
    def base_table(self) -> str | None: ...


if TYPE_CHECKING:
    class StoredBase(NamesBase, DataclassInstance, Protocol):
        """A definition :func:`with_base_table` can copy with another base: a dataclass naming its base."""


Definition = TypeVar("Definition", bound="StoredBase")


def study_base(definition: NamesBase) -> BaseArchitecture:
    """The base network ``definition`` searches: its stored stage table when it has one, else what ``base`` names.

    Example:
        >>> from scaling_search.study.definition import StudyDefinition
        >>> study_base(StudyDefinition(base="ResNet50")).name
        'resnet50'
    """
    if definition.base_table is not None:
        return parse_base(definition.base_table, f"the stage table stored for base {definition.base!r}")
    return base_network(definition.base)


def with_base_table(definition: Definition) -> Definition:
    """``definition`` with its base fixed: a file's stage table read and stored, a built-in's name as listed.

    A definition that already holds a table is returned as it is (the study's own table wins over the file).
    Raises InputError, in one line naming the file, for a table that is missing or wrong.
    """
    if definition.base_table is not None:
        return definition
    if is_table_path(definition.base):
        return replace(definition, base_table=base_to_toml(load_base(Path(definition.base).expanduser())))
    return replace(definition, base=base_network(definition.base).name)


def checkable_base(definition: NamesBase) -> BaseArchitecture:
    """The base to check a definition's grid with, without reading a file (a table not read yet checks as B0).

    An unknown built-in name or a stored table that is not a base raises InputError here; a file is
    read, and checked, when the study starts (:func:`with_base_table`).
    """
    if definition.base_table is None and is_table_path(definition.base):
        return EFFICIENTNET_B0
    return study_base(definition)


def base_label(definition: NamesBase) -> str | None:
    """The base's part of a default study name: None for built-in B0, a table file's stem, or a built-in's name."""
    if is_table_path(definition.base):
        label = Path(definition.base).stem
    elif definition.base_table is not None:
        label = definition.base
    else:
        label = base_network(definition.base).name
        if label == EFFICIENTNET_B0.name:
            return None
    return re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.") or "base"


def same_base(saved: NamesBase, wanted: NamesBase) -> bool:
    """Whether two definitions search the same base network (compared as networks, not as names or paths)."""
    return study_base(saved) == study_base(wanted)


def check_base(definition: NamesBase, given: str | None) -> None:
    """Refuse a ``--base`` that is not the study's own (``validate`` and ``report`` use the study's base).

    ``given`` None (the flag left out) is always accepted; a name or table is compared as a network.
    """
    if given is None:
        return
    own = study_base(definition)
    if base_network(given) != own:
        raise InputError(f"study {definition.study!r} scales the base {own.name}, not {given}; leave --base out "
                         "(a study is reported and validated with its own base)")

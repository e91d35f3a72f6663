"""What a stored study holds and which version of it: the stages its trials belong to and its schema version.

A study outlives the scaling-search that wrote it (it is an Optuna study in sqlite or on a server,
and its best.json lies beside it). :data:`SCHEMA_VERSION` is written into every study a search
creates (the study's user attr ``schema_version``) and into every best.json. A change to what a
study's trials or best.json hold bumps it, and :func:`migrate` learns to read the version before,
or refuses it with one line that says how to run the study again: every reader of a stored study
goes through :func:`migrate` (:func:`scaling_search.study.storage.saved_definition` calls it), so
no reader keeps branches for older studies.

Versions:

- 0 (no ``schema_version``; scaling-search 0.1.0 up to this change): every planned trial carries
  ``stage`` and ``on_constraint``; its trials read as version 1's. A study older still, with
  trials that lack them, is refused.
- 1: the version is stored.

Importing this module does not import Optuna, so that :class:`Stage` is cheap to use anywhere.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from scaling_search.errors import InputError

if TYPE_CHECKING:
    import optuna

SCHEMA_VERSION = 1
"""The version of what a study and its best.json hold (see the module docstring for what each adds)."""

SCHEMA_ATTR = "schema_version"
"""The study's user attr holding :data:`SCHEMA_VERSION` as it was when the study was created."""

PLANNED_ATTRS = ("stage", "on_constraint")
"""What every planned trial carries since version 0 (a TPE split told infeasible never had a candidate)."""


class Stage(str, Enum):
    """The stage a trial belongs to; its value is what a trial's ``stage`` user attr stores.

    A ``str`` whose ``str()`` and format are its value, as ``enum.StrEnum`` (Python 3.11) makes them.

    search: the grid (or TPE) at the study's φ; finalist: the top candidates again on fresh seeds,
    which the verdict uses; refine: networks inside the winning class at twice the study's φ.
    """

    SEARCH = "search"
    FINALIST = "finalist"
    REFINE = "refine"

    def __str__(self) -> str:
        return self.value


def stamp(study: optuna.Study) -> None:
    """Write :data:`SCHEMA_VERSION` into a study this version creates."""
    study.set_user_attr(SCHEMA_ATTR, SCHEMA_VERSION)


def schema_version(study: optuna.Study) -> int:
    """The study's schema version: 0 for a study written before versions were stored."""
    return int(study.user_attrs.get(SCHEMA_ATTR, 0))


def migrate(study: optuna.Study) -> None:
    """Check that this version can read ``study``: its own version, or version 0 shaped as 0.1.0 wrote it.

    Version 0 needs no rewriting (its trials hold what version 1's hold), so nothing is written to
    the storage: a report may read a study it cannot write. A study from a newer scaling-search,
    or from before trials carried their stage, raises :class:`~scaling_search.errors.InputError`.
    """
    version = schema_version(study)
    if version == SCHEMA_VERSION:
        return
    name = study.study_name
    if version > SCHEMA_VERSION:
        raise InputError(f"study {name!r} was written by a newer scaling-search (schema version {version}, this one "
                         f"reads up to {SCHEMA_VERSION}); upgrade scaling-search to read it")
    lacking = next((t.number for t in study.get_trials(deepcopy=False)
                    if "candidate" in t.user_attrs and not all(attr in t.user_attrs for attr in PLANNED_ATTRS)), None)
    if lacking is not None:
        raise InputError(f"study {name!r} was stored by a scaling-search older than 0.1.0 (trial {lacking} has no "
                         f"stage); run it again under a new name: scaling-search run <its study.toml> --study "
                         f"{name}-v{SCHEMA_VERSION}")

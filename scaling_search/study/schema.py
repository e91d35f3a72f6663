"""What a stored study holds and which version of it: the stages its trials belong to and its schema version.

A study outlives the scaling-search that wrote it (it is an Optuna study in sqlite or on a server,
and its best.json lies beside it). :data:`SCHEMA_VERSION` is written into every study a search
creates (the study's user attr ``schema_version``) and into every best.json. A change to what a
study's trials or best.json hold bumps it, and :func:`migrate` learns to read the version before,
or refuses it with one line that says how to run the study again: every reader of a stored study
goes through :func:`migrate` (:func:`scaling_search.study.storage.saved_definition` calls it), so
no reader keeps branches for older studies.

Versions:

- 0 (no ``schema_version``; scaling-search 0.1.0 up to the typed answers): every planned trial carries
  ``stage`` and ``on_constraint``.
- 1: the version is stored.
- 2 (contenders): the proxy rounds resolutions to the cost scale's multiple; every planned trial
  carries ``growth_per_phi``, ``contender`` and ``upsample``, the study its dataset's
  ``native_resolution``, and best.json what its exported coefficients grow and train with. A
  study of version 0 or 1 picked its answer among networks that trained with unequal compute and
  families that may not double per φ, and its trials were trained at other resolutions: it is
  refused with one line that says how to run it again (nothing in it can be read as version 2's).
- 3 (verdicts that hold): every completed trial keeps its per-image correctness on the test split
  too (system attr ``test_correct``), and best.json judges the winner on it (``verdict_split``),
  with the variance-components interval and at least three seeds a side. A study of version 2
  kept no test records, so its winner cannot be re-judged on images that did not pick it: it is
  refused with one line that says how to run it again. A refinement's best is confirmed on fresh
  seeds (stage ``confirm``) before it gives the exported coefficients, and best.json's
  ``refinement`` says whether it was (``confirmation``); a version 3 study whose refinement finished
  before that stage existed plans it on ``--resume``.
- 4 (costs as paid): a study is held to a cost (definition option ``cost``: macs, activations or
  latency, with the latency settings ``cost_device``, ``latency_*``); the trials of a latency study
  carry ``latency_ratio``, ``latency_ms``, ``latency_iqr_ms``, ``cost_device`` and ``latency_note``;
  best.json names ``cost_kind`` and ``cost_device``. A version 3 study is a MACs study and reads as
  version 4 unchanged (its definition has no ``cost``, which defaults to macs; its trials no latency
  attrs, which a MACs study never has); its best.json is written again by ``run --resume``.

Importing this module does not import Optuna, so that :class:`Stage` is cheap to use anywhere.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from scaling_search.errors import InputError

if TYPE_CHECKING:
    import optuna

SCHEMA_VERSION = 4
"""The version of what a study and its best.json hold (see the module docstring for what each adds)."""

READABLE_VERSIONS = (3, SCHEMA_VERSION)
"""The stored versions this one reads as its own (the module docstring says why each can be)."""
SCHEMA_ATTR = "schema_version"
"""The study's user attr holding :data:`SCHEMA_VERSION` as it was when the study was created."""


class Stage(str, Enum):
    """The stage a trial belongs to; its value is what a trial's ``stage`` user attr stores.

    A ``str`` (equal to its value, formatted and printed as it) on every supported Python; 3.10 has no
    ``enum.StrEnum``.

    search: the grid (or TPE) at the study's φ; finalist: the top candidates again on fresh seeds,
    which the verdict uses; refine: networks inside the winning class at twice the study's φ; confirm:
    the refinement's best and the class's representative at twice φ again, on fresh seeds.
    """

    SEARCH = "search"
    FINALIST = "finalist"
    REFINE = "refine"
    CONFIRM = "confirm"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


def stamp(study: optuna.Study) -> None:
    """Write :data:`SCHEMA_VERSION` into a study this version creates."""
    study.set_user_attr(SCHEMA_ATTR, SCHEMA_VERSION)


def schema_version(study: optuna.Study) -> int:
    """The study's schema version: 0 for a study written before versions were stored."""
    return int(study.user_attrs.get(SCHEMA_ATTR, 0))


def migrate(study: optuna.Study) -> None:
    """Check that this version can read ``study``: its own version and those it reads as its own (see the module
    docstring).

    Nothing is written to the storage. A study from a newer scaling-search, or from one before
    contenders (version 0 or 1), raises :class:`~scaling_search.errors.InputError` in one line.
    """
    version = schema_version(study)
    if version in READABLE_VERSIONS:
        return
    name = study.study_name
    if version > SCHEMA_VERSION:
        raise InputError(f"study {name!r} was written by a newer scaling-search (schema version {version}, this one "
                         f"reads up to {SCHEMA_VERSION}); upgrade scaling-search to read it")
    if version == 2:
        why = ("it kept no per-image records on the test split, so its winner cannot be re-judged on images that did "
               "not pick it")
    else:
        why = "its answer was picked among networks trained with unequal compute"
    raise InputError(f"study {name!r} was written by an older scaling-search (schema version {version}; this one "
                     f"reads {SCHEMA_VERSION}): {why}; run it again under a new name: scaling-search run "
                     f"<its study.toml> --study {name}-v{SCHEMA_VERSION}")

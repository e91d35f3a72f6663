"""Open a finished study for its report: the Optuna study, the definition it was run with, the classes it costs at.

A report reads the study only; a study that cannot be reported (unknown, not made by
``scaling-search run``, nothing completed) is refused here, before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

import optuna

from scaling_search.errors import InputError
from scaling_search.execution.session import study_classes, study_definition
from scaling_search.study.definition import ResolvedDefinition


class ReportError(InputError):
    """The study cannot be reported: unknown, not made by ``scaling-search run``, or nothing completed."""


@dataclass(frozen=True)
class ReportedStudy:
    """A study to report, with the definition saved with it and the classes its costs are measured at."""

    study: optuna.Study
    definition: ResolvedDefinition
    classes: int


def load_report_study(storage_url: str, name: str) -> ReportedStudy:
    """Study ``name`` of ``storage_url``, refused (:class:`ReportError`) unless it has a completed trial."""
    from scaling_search.study.storage import find_study, open_storage

    study = find_study(open_storage(storage_url, must_exist=True), name)
    if study is None:
        raise ReportError(f"no study named {name!r} in {storage_url}")
    definition, classes = study_definition(study), study_classes(study)
    trials = study.get_trials(deepcopy=False)
    if not trials:
        raise ReportError(f"study {name!r} has no trials yet")
    if not any(t.state.name == "COMPLETE" for t in trials):
        raise ReportError(f"study {name!r} has no completed trial ({len(trials)} trials, none COMPLETE): "
                          "nothing to report")
    return ReportedStudy(study, definition, classes)

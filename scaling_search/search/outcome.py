"""What a run of a study came to, as :func:`~scaling_search.search.search_driver.run_study` returns it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from scaling_search.search.answer import StudyAnswer
from scaling_search.study.schema import Stage


@dataclass(frozen=True)
class StudyOutcome:
    """What a run of a study came to. The study itself stays in its storage; its files are in ``files``.

    Example (:func:`run_study` returns one; ``best`` is the top compound candidate on the constraint):

        >>> import pandas as pd
        >>> outcome = StudyOutcome(study="demo", best=None, counts={"complete": 0, "fail": 1}, failures=["..."],
        ...                        interrupted=False, trained=True, table=pd.DataFrame())
        >>> outcome.best is None, outcome.counts["fail"], outcome.files
        (True, 1, ())
    """

    study: str
    best: StudyAnswer | None
    """The study's answer (best.json): the top compound candidate on the cost constraint; None when there is none."""
    counts: dict[str, int]
    """Trials by state: complete, fail, pruned, waiting, running."""
    failures: list[str]
    """One line per failed trial: '<key>: <status> (<reason>)'."""
    interrupted: bool
    """Stopped before every trial ran (Ctrl-C); resume it to finish."""
    trained: bool
    """False when the study was already finished and nothing was trained."""
    table: pd.DataFrame = field(compare=False, repr=False)
    """The search's candidates that ran, one row each, ranked (:func:`~scaling_search.search.results.candidate_table`:
    candidates with no failed seed first, by mean validation accuracy, ``score``)."""
    stages: dict[Stage, pd.DataFrame] = field(default_factory=dict, compare=False, repr=False)
    """The later stages' tables, by stage (finalist, refine), for the stages that ran."""
    files: tuple[Path, ...] = ()
    """The study's files that exist: study.toml, results.csv, best.json, derived.json, configs/."""

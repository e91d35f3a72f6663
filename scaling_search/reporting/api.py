"""``report()``: what ``scaling-search report`` writes, as one function (a study's report, or the paper's)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from scaling_search.errors import InputError
from scaling_search.models.bases import RELEASED_ONLY_B0, base_network, has_released_family
from scaling_search.reporting.paper_report import paper_report
from scaling_search.reporting.study_load import load_report_study
from scaling_search.reporting.study_report import study_report
from scaling_search.reporting.tables import FORMATS
from scaling_search.reporting.validation_section import load_validation
from scaling_search.study.location import study_storage_url
from scaling_search.study.study_base import check_base
from scaling_search.support.formatting import chosen_formats


def report(study: str | None = None, *, paper: bool = False, studies_dir: str | Path = "studies",
           storage: str | None = None, out: str | Path | None = None, note: str | None = None,
           formats: Iterable[str] = FORMATS, base: str | None = None) -> Path:
    """Write the report of study ``study`` (or, with ``paper``, of the released B0–B7) and return its folder.

    A study's report holds the α/β/γ table, the derived family beside the released one, figures
    and an index.md that shows them, and, once ``scaling-search validate`` has run on the study, the
    "Does the answer hold?" section; the study is read from ``storage`` when given, else from
    ``<studies_dir>/<study>.db``. ``paper=True`` measures the released family against the
    paper's Table 2 and needs no study. ``out`` defaults to ``reports/<study>`` (``reports/paper``);
    it must be new, empty or an earlier report. ``formats`` are the table formats: some of
    ``md``, ``csv``, ``tex``. ``note`` is a sentence shown under the report's title. The study is
    reported with its own base network; ``base``, when given, must be that one (and B0 with
    ``paper``). Bad input (an unknown study, one with nothing completed, an ``out`` holding other
    files, another ``base``) raises
    :class:`~scaling_search.errors.InputError` and writes nothing.

    Example (skipped as a doctest: the study needs a search first, and the paper's report counts
    B0–B7 with fvcore, ten seconds or more on a cold cache):

        >>> folder = report("c10-phi1", note="5 epochs on CIFAR-10, 3 seeds")  # doctest: +SKIP
        >>> sorted(path.name for path in folder.iterdir())  # doctest: +SKIP
        ['.report-files', 'alpha_beta_gamma.csv', 'alpha_beta_gamma.md', 'alpha_beta_gamma.tex', 'family.csv', ...]
        >>> report(paper=True, out="reports/paper", formats=["md"])  # doctest: +SKIP
        PosixPath('/home/me/reports/paper')
    """
    wanted = report_formats(formats)
    if out is not None and not str(out).strip():
        raise InputError("the report's output folder is empty; name a folder")
    if paper:
        if study is not None:
            raise InputError("the paper's report (--paper) is of the released family; give no study name with it")
        if base is not None and not has_released_family(base_network(base)):
            raise InputError(f"{RELEASED_ONLY_B0}: the paper's report (--paper) is of EfficientNet-B0, not {base}")
        return paper_report(Path(out) if out is not None else Path("reports") / "paper", wanted)
    if study is None:
        raise InputError("name a study to report, or ask for the paper's report (--paper)")
    url = study_storage_url(study, storage=storage, studies_dir=studies_dir, must_exist=True)
    reported = load_report_study(url, study)
    check_base(reported.definition, base)
    return study_report(reported, Path(out) if out is not None else Path("reports") / study, wanted, note=note,
                        validation=load_validation(url, reported.study, reported.definition))


def report_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """The wanted table formats, in order and once each; InputError when none or an unknown one is named."""
    return chosen_formats(formats, FORMATS, "report formats", "--format md,csv,tex")

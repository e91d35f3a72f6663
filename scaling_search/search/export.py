"""Files a search leaves in ``studies/<study>/``: study.toml, results.csv, best.json, derived.json, configs/.

The result files are published together (:func:`scaling_search.support.publish.publish`): a crash or a
full disk never leaves half a file, or a new results.csv beside an old best.json.
"""

from __future__ import annotations

import json
from pathlib import Path

from optuna.trial import FrozenTrial

from scaling_search.coefficients.family import buildable_phis, derive_family, released_family, unbuilt_note
from scaling_search.coefficients.plateaus import open_spread, plateau_spread
from scaling_search.counting.analytic import analytic_counts
from scaling_search.models.architecture import FAMILY_PHIS
from scaling_search.models.bases import has_released_family, released_note
from scaling_search.search.answer import JsonRecord, StudyAnswer, study_answer, write_answer
from scaling_search.search.results import trial_rows
from scaling_search.study.definition import ResolvedDefinition, StudyDefinition
from scaling_search.study.study_base import study_base
from scaling_search.support.cache import write_atomic
from scaling_search.support.publish import publish, remove_stale_staging

STUDY_FILES = ("study.toml", "results.csv", "best.json", "derived.json", "configs")
"""Everything a study's folder may hold from scaling-search (Ray Tune's own ``ray/`` folder aside)."""


EXPORT_PREFIX = ".export-"
"""The export's staging folders in the study's folder (:func:`scaling_search.support.publish.publish`)."""


def save_definition(definition: StudyDefinition) -> None:
    """study.toml: the resolved definition, which ``scaling-search run`` takes to repeat the study."""
    write_atomic(definition.study_dir() / "study.toml", definition.to_toml().encode())


def export_study(trials: list[FrozenTrial], definition: ResolvedDefinition, num_classes: int) -> StudyAnswer | None:
    """Write the study's result files; returns the answer best.json holds (None when no contender completed).

    best.json is :func:`~scaling_search.search.answer.study_answer`. A failure (a full disk, a
    read-only folder) leaves the previous export untouched.
    """
    folder = definition.study_dir()
    best = study_answer(trials, definition, num_classes)

    def fill(staging: Path) -> None:
        (staging / "results.csv").write_text(trial_rows(trials).to_csv(index=False))
        if best is not None:
            write_family(staging, best, definition, num_classes)
            write_answer(staging / "best.json", best)

    try:
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(folder, EXPORT_PREFIX)  # a driver killed mid-export; this driver holds the study
        publish(folder, fill, staging_prefix=EXPORT_PREFIX)
    except OSError as err:
        raise OSError(f"cannot export to {folder}: {err.strerror or err}") from None
    return best


def study_files(definition: StudyDefinition) -> tuple[Path, ...]:
    """The files of :data:`STUDY_FILES` that exist in the study's folder."""
    folder = definition.study_dir()
    return tuple(folder / name for name in STUDY_FILES if (folder / name).exists())


def write_family(folder: Path, best: StudyAnswer, definition: ResolvedDefinition, num_classes: int) -> None:
    """derived.json and configs/phi0..phi7.json of the best coefficients, at the study's cost scale.

    The cost scale is where the coefficients were constrained, so it is the one scale at which
    the derived members' costs mean what the study measured; ``scale`` in derived.json says so. The
    released B0–B7 are listed for a B0 study only; for another base ``released`` is empty and
    ``released_note`` says why.
    """
    base = study_base(definition)
    coefficients = {"alpha": best.alpha, "beta": best.beta, "gamma": best.gamma}
    scale = {"name": "cost scale", "base_resolution": definition.cost_resolution,
             "num_classes": definition.cost_classes, "resolution_multiple": definition.resolution_multiple}
    phis = buildable_phis(best.alpha, best.beta, best.gamma, FAMILY_PHIS, definition.cost_resolution,
                          definition.resolution_multiple, base)
    derived = derive_family(best.alpha, best.beta, best.gamma, phis, analytic_counts,
                            base_resolution=definition.cost_resolution,
                            resolution_multiple=definition.resolution_multiple, num_classes=definition.cost_classes,
                            base=base)
    released = has_released_family(base)
    released_rows = [m.to_dict() for m in released_family(analytic_counts, definition.cost_classes)] if released else []
    write_json(folder / "derived.json", {
        "base": base.name,
        "coefficients": coefficients,
        "plateau": best.plateau.to_json(),
        "plateau_spread": plateau_spread(best.as_plateau(), FAMILY_PHIS),
        "open_candidates": [found.candidate for found in best.open_candidates],
        "open_spread": open_spread(best.open_boxes(), FAMILY_PHIS),
        "scale": scale,
        "proxy": {"base_resolution": definition.base_resolution, "num_classes": num_classes},
        "derived": [m.to_dict() for m in derived],
        **({"not_built": unbuilt_note([phi for phi in FAMILY_PHIS if phi not in phis])} if len(phis) < len(FAMILY_PHIS)
           else {}),
        "released": released_rows,
        **({} if released else {"released_note": released_note(base)}),
    })
    (folder / "configs").mkdir()
    for member in derived:
        write_json(folder / "configs" / f"{member.name}.json", {
            "name": member.name, "source": "derived", "phi": member.phi, "study": definition.study,
            "coefficients": coefficients, "scale": scale, "layout": member.layout.to_dict(),
        })


def write_json(path: Path, value: JsonRecord) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n")

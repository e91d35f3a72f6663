"""Files a finished search leaves in ``studies/<study>/``: results.csv, best.json, derived.json, configs/.

All files are staged and renamed into place together: a crash or a full disk never leaves half
a file, or a new results.csv beside an old best.json.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import optuna

from scaling_search.counting.analytic import analytic_counts
from scaling_search.family import derive_family, released_family
from scaling_search.search.definition import StudyDefinition
from scaling_search.search.results import best_candidate, trial_rows

DERIVED_PHIS = tuple(float(phi) for phi in range(8))


def export_study(study: optuna.Study, definition: StudyDefinition, num_classes: int) -> dict[str, Any] | None:
    """Write the study's files; returns best.json's content (None when no trial completed).

    The files are written to a staging folder first and moved into place only when all of them
    exist, so a failure (a full disk, a read-only folder) leaves the previous export untouched.
    """
    folder = definition.study_dir()
    trials = study.get_trials(deepcopy=False)
    best = best_candidate(trials, definition.phi)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=folder))
    except OSError as err:
        raise OSError(f"cannot export to {folder}: {err.strerror or err}") from None
    try:
        (staging / "results.csv").write_text(trial_rows(trials).to_csv(index=False))
        if best is not None:
            best["study"] = definition.study
            write_family(staging, best, definition, num_classes)
            write_json(staging / "best.json", best)
        for path in sorted(staging.rglob("*"), key=lambda p: len(p.parts)):
            target = folder / path.relative_to(staging)
            if path.is_dir():
                target.mkdir(exist_ok=True)
            else:
                os.replace(path, target)
    except OSError as err:
        raise OSError(f"cannot export to {folder}: {err.strerror or err}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return best


def write_family(folder: Path, best: dict[str, Any], definition: StudyDefinition, num_classes: int) -> None:
    """derived.json and configs/b0..b7.json of the best coefficients, at the proxy's resolution and classes."""
    coefficients = {k: best[k] for k in ("alpha", "beta", "gamma")}
    derived = derive_family(best["alpha"], best["beta"], best["gamma"], DERIVED_PHIS, analytic_counts,
                            base_resolution=definition.base_resolution or 224, num_classes=num_classes)
    write_json(folder / "derived.json", {
        "coefficients": coefficients,
        "base_resolution": definition.base_resolution,
        "num_classes": num_classes,
        "derived": [m.to_dict() for m in derived],
        "released": [m.to_dict() for m in released_family(analytic_counts, num_classes)],
    })
    (folder / "configs").mkdir()
    for member in derived:
        write_json(folder / "configs" / f"{member.name}.json", {
            "name": member.name, "source": "derived", "phi": member.phi, "study": definition.study,
            "coefficients": coefficients, "layout": member.layout.to_dict(),
        })


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n")

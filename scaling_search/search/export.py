"""Files a finished search leaves in ``studies/<study>/``: results.csv, best.json, derived.json, configs/.

Each file is written atomically (temporary file, then rename): a crash or a full disk never
leaves half a file behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import optuna

from scaling_search.cache import write_atomic
from scaling_search.counting.analytic import analytic_counts
from scaling_search.derive import derive_family, released_family
from scaling_search.search.definition import StudyDefinition
from scaling_search.search.results import best_candidate, trial_rows

DERIVED_PHIS = tuple(float(phi) for phi in range(8))


def export_study(study: optuna.Study, definition: StudyDefinition, num_classes: int) -> dict[str, Any] | None:
    """Write the study's files; returns best.json's content (None when no trial completed)."""
    folder = definition.study_dir()
    trials = study.get_trials(deepcopy=False)
    write_atomic(folder / "results.csv", trial_rows(trials).to_csv(index=False).encode())
    best = best_candidate(trials, definition.phi)
    if best is None:
        return None
    best["study"] = definition.study
    write_json(folder / "best.json", best)
    derived = derive_family(best["alpha"], best["beta"], best["gamma"], DERIVED_PHIS, analytic_counts,
                            base_resolution=definition.base_resolution or 224, num_classes=num_classes)
    released = released_family(analytic_counts, num_classes)
    write_json(folder / "derived.json", {
        "coefficients": {k: best[k] for k in ("alpha", "beta", "gamma")},
        "base_resolution": definition.base_resolution,
        "num_classes": num_classes,
        "derived": [m.to_dict() for m in derived],
        "released": [m.to_dict() for m in released],
    })
    for member in derived:
        write_json(folder / "configs" / f"{member.name}.json", {
            "name": member.name, "source": "derived", "phi": member.phi, "study": definition.study,
            "coefficients": {k: best[k] for k in ("alpha", "beta", "gamma")}, "layout": member.layout.to_dict(),
        })
    return best


def write_json(path: Path, value: Any) -> None:
    write_atomic(path, (json.dumps(value, indent=2) + "\n").encode())

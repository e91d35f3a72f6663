"""scaling-search: find, check and extend compound-scaling rules for convolutional networks.

The public API, from a network to a published answer::

    base_network                 the network scaled: EfficientNet-B0 (default), four more built in, or a TOML table
    scale / build / count        one network: its layout, its nn.Module, its cost
    GridSpec / candidates        the (alpha, beta, gamma) grid under the cost constraint
    derive                       the family phi = 0..7 from coefficients
    plateau                      the (alpha, beta, gamma) that realise the same networks: what a grid cannot tell apart
    compare_runs                 winner against another: a 95 % interval from a paired bootstrap
    load_dataset / train_proxy   one short proxy training run
    StudyDefinition / run_study  the whole search, recorded in an Optuna study
    validate_study               does the answer hold on longer training (rank_fidelity) and when scaled up?
    report                       the study's tables and figures

Names are imported on first use, so ``import scaling_search`` stays cheap and pulls in neither
Ray, Optuna nor fvcore; each entry's docstring has a short example.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_HOMES = {
    "InputError": "scaling_search.errors",
    "Layout": "scaling_search.models.scaling",
    "base_network": "scaling_search.models.bases",
    "scale": "scaling_search.models.scaling",
    "build": "scaling_search.models.efficientnet",
    "Counts": "scaling_search.counting.analytic",
    "count": "scaling_search.counting.counter",
    "GridSpec": "scaling_search.grid",
    "Candidate": "scaling_search.grid",
    "candidates": "scaling_search.grid",
    "Plateau": "scaling_search.plateaus",
    "plateau": "scaling_search.plateaus",
    "Comparison": "scaling_search.verdicts",
    "compare_runs": "scaling_search.verdicts",
    "FamilyMember": "scaling_search.family",
    "derive": "scaling_search.family",
    "load_dataset": "scaling_search.data.load",
    "ImageData": "scaling_search.data.dataset",
    "Recipe": "scaling_search.recipe",
    "Budget": "scaling_search.recipe",
    "train_proxy": "scaling_search.train",
    "ProxyResult": "scaling_search.train",
    "StudyDefinition": "scaling_search.search.definition",
    "run_study": "scaling_search.search.runner",
    "StudyOutcome": "scaling_search.search.outcome",
    "ValidationOptions": "scaling_search.validation.options",
    "validate_study": "scaling_search.validation.runner",
    "ValidationOutcome": "scaling_search.validation.runner",
    "rank_fidelity": "scaling_search.fidelity",
    "RankFidelity": "scaling_search.fidelity",
    "report": "scaling_search.reporting.api",
}
"""Each public name and the module that defines it."""

__all__ = ["__version__", *_HOMES]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'scaling_search' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

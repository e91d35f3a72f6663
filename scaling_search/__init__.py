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
    to_timm / to_torchvision     a network as timm's or torchvision's own model class, the same layer by layer
    timm_state_dict / …          weights mapped both ways: ours under their names, theirs under ours
    write_deployables            a family's members as ONNX files and torch.export programs, with a manifest
    load_member                  a member's layout back from a manifest or a study's configs/phiN.json (then build)

Names are imported on first use, so ``import scaling_search`` stays cheap and pulls in neither
Ray, Optuna nor fvcore; each entry's docstring has a short example.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real types for editors and type checkers; at run time each name loads on first use
    from scaling_search.coefficients.family import FamilyMember, derive
    from scaling_search.coefficients.grid import Candidate, GridSpec, candidates
    from scaling_search.coefficients.plateaus import Plateau, plateau
    from scaling_search.counting.analytic import Counts
    from scaling_search.counting.counter import count
    from scaling_search.data.dataset import ImageData
    from scaling_search.data.load import load_dataset
    from scaling_search.errors import InputError
    from scaling_search.handoff.deployables import write_deployables
    from scaling_search.handoff.members import load_member
    from scaling_search.handoff.timm_model import to_timm
    from scaling_search.handoff.torchvision_model import to_torchvision
    from scaling_search.handoff.weights import (
        from_timm_state_dict,
        from_torchvision_state_dict,
        timm_state_dict,
        torchvision_state_dict,
    )
    from scaling_search.models.bases import base_network
    from scaling_search.models.network import build
    from scaling_search.models.scaling import Layout, scale
    from scaling_search.reporting.api import report
    from scaling_search.search.outcome import StudyOutcome
    from scaling_search.search.search_driver import run_study
    from scaling_search.stats.comparison import Comparison, compare_runs
    from scaling_search.stats.fidelity import RankFidelity, rank_fidelity
    from scaling_search.study.definition import StudyDefinition
    from scaling_search.training.proxy import ProxyResult, train_proxy
    from scaling_search.training.recipe import Budget, Recipe
    from scaling_search.validation.options import ValidationOptions
    from scaling_search.validation.validation_driver import ValidationOutcome, validate_study

__version__ = "0.1.0"

_HOMES = {
    "InputError": "scaling_search.errors",
    "Layout": "scaling_search.models.scaling",
    "base_network": "scaling_search.models.bases",
    "scale": "scaling_search.models.scaling",
    "build": "scaling_search.models.network",
    "Counts": "scaling_search.counting.analytic",
    "count": "scaling_search.counting.counter",
    "GridSpec": "scaling_search.coefficients.grid",
    "Candidate": "scaling_search.coefficients.grid",
    "candidates": "scaling_search.coefficients.grid",
    "Plateau": "scaling_search.coefficients.plateaus",
    "plateau": "scaling_search.coefficients.plateaus",
    "Comparison": "scaling_search.stats.comparison",
    "compare_runs": "scaling_search.stats.comparison",
    "FamilyMember": "scaling_search.coefficients.family",
    "derive": "scaling_search.coefficients.family",
    "load_dataset": "scaling_search.data.load",
    "ImageData": "scaling_search.data.dataset",
    "Recipe": "scaling_search.training.recipe",
    "Budget": "scaling_search.training.recipe",
    "train_proxy": "scaling_search.training.proxy",
    "ProxyResult": "scaling_search.training.proxy",
    "StudyDefinition": "scaling_search.study.definition",
    "run_study": "scaling_search.search.search_driver",
    "StudyOutcome": "scaling_search.search.outcome",
    "ValidationOptions": "scaling_search.validation.options",
    "validate_study": "scaling_search.validation.validation_driver",
    "ValidationOutcome": "scaling_search.validation.validation_driver",
    "rank_fidelity": "scaling_search.stats.fidelity",
    "RankFidelity": "scaling_search.stats.fidelity",
    "report": "scaling_search.reporting.api",
    "to_timm": "scaling_search.handoff.timm_model",
    "to_torchvision": "scaling_search.handoff.torchvision_model",
    "timm_state_dict": "scaling_search.handoff.weights",
    "from_timm_state_dict": "scaling_search.handoff.weights",
    "torchvision_state_dict": "scaling_search.handoff.weights",
    "from_torchvision_state_dict": "scaling_search.handoff.weights",
    "write_deployables": "scaling_search.handoff.deployables",
    "load_member": "scaling_search.handoff.members",
}
"""Each public name and the module that defines it."""

__all__ = [
    "Budget", "Candidate", "Comparison", "Counts", "FamilyMember", "GridSpec", "ImageData", "InputError", "Layout",
    "Plateau", "ProxyResult", "RankFidelity", "Recipe", "StudyDefinition", "StudyOutcome", "ValidationOptions",
    "ValidationOutcome", "__version__", "base_network", "build", "candidates", "compare_runs", "count", "derive",
    "from_timm_state_dict", "from_torchvision_state_dict", "load_dataset", "load_member", "plateau", "rank_fidelity",
    "report", "run_study", "scale", "timm_state_dict", "to_timm", "to_torchvision", "torchvision_state_dict",
    "train_proxy", "validate_study", "write_deployables",
]
"""Spelled out, not derived from ``_HOMES``, so that static tools read it; a test checks the two agree."""


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'scaling_search' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

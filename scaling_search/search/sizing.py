"""Defaults sized to the device: what a study leaves unset becomes a small CPU task or a fuller GPU one."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from scaling_search.recipe import CPU_BATCH, PROXY_RESOLUTION, RECIPES
from scaling_search.search.definition import StudyDefinition

DEFAULT_TPE_TRIALS = 20


@dataclass(frozen=True)
class DeviceSizing:
    """Defaults for options left unset, by what the cluster has."""

    base_resolution: int
    epochs: int
    batch_size: int
    max_candidates: int | None
    cpus_per_trial: float
    finalist_seeds: int
    max_refine: int | None
    max_train_images: int | None


CPU_SIZING = DeviceSizing(base_resolution=32, epochs=2, batch_size=CPU_BATCH, max_candidates=3, cpus_per_trial=1,
                          finalist_seeds=2, max_refine=2, max_train_images=1000)
"""A CPU study trains 3 candidates and the paper's point, then all four again on 2 fresh seeds: 12 runs of
2 × 1,000 images (about 15 s each at 32 px on one core), so the default finishes within 5 minutes on 2 cores."""
GPU_SIZING = DeviceSizing(base_resolution=PROXY_RESOLUTION, epochs=5, batch_size=RECIPES["proxy"].train_batch_size,
                          max_candidates=None, cpus_per_trial=2, finalist_seeds=3, max_refine=None,
                          max_train_images=None)


def resolve_for_device(definition: StudyDefinition, gpus: float) -> StudyDefinition:
    """Fill the options left unset with defaults sized to the cluster (GPU or CPU only)."""
    use_gpu = definition.device.startswith("cuda") or (definition.device == "auto" and gpus > 0)
    sizing = GPU_SIZING if use_gpu else CPU_SIZING
    return replace(
        definition,
        device="cuda" if use_gpu else "cpu",
        base_resolution=definition.base_resolution or sizing.base_resolution,
        epochs=definition.epochs or sizing.epochs,
        batch_size=definition.batch_size or sizing.batch_size,
        max_candidates=definition.max_candidates if definition.max_candidates is not None or use_gpu
        else (sizing.max_candidates if definition.strategy == "grid" else None),
        cpus_per_trial=definition.cpus_per_trial or sizing.cpus_per_trial,
        finalist_seeds=definition.finalist_seeds or sizing.finalist_seeds,
        max_refine=definition.max_refine if definition.max_refine is not None or use_gpu else sizing.max_refine,
        max_train_images=definition.max_train_images or sizing.max_train_images,
        trials=definition.trials or (DEFAULT_TPE_TRIALS if definition.strategy == "tpe" else None),
    )


def largest_resolution(definition: StudyDefinition) -> int:
    """An upper bound on any candidate's resolution, to render or store the data once."""
    assert definition.base_resolution is not None, "resolve the definition for the device first"
    gamma = definition.gamma_range[1] if definition.phi > 0 else definition.gamma_range[0]
    return max(8, math.ceil(definition.base_resolution * max(gamma, 1.0) ** abs(definition.phi) * 1.5))

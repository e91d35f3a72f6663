"""Does a deployable file compute what PyTorch computes? The same random images through both, the logits compared.

A file is recorded as done only once it agrees (:func:`check_agreement`): its logits on random
images of batch sizes 1 and 3 (so the dynamic batch axis is used, at 1 and above the example's 2)
lie within :data:`TOLERANCE` of the largest PyTorch logit. The bound is relative on purpose: a
freshly initialised EfficientNet-B0 gives logits of about 1e-5, so an absolute 1e-4 would pass any
graph at all, while a fresh ResNet-50's logits of about 300 differ by about 3e-4 between ONNX
Runtime and PyTorch in float32 (relative 1e-6). docs/hand-off.md gives the measured differences.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from scaling_search.models.network import Network

CHECK_BATCH_SIZES = (1, 3)
"""The batch sizes each file is checked at: one image, and more than the example it was traced with (2)."""
EXAMPLE_BATCH = 2
"""The batch of the example a file is traced with: neither 1 nor the checked sizes, so the batch axis stays dynamic."""
TOLERANCE = 1e-4
"""Largest |file − PyTorch| allowed, as a fraction of the largest |PyTorch logit| on the same images."""
CHECK_SEED = 0
"""The random images of a check are drawn from this seed, so a check repeats exactly."""


@dataclass(frozen=True)
class Agreement:
    """What a check found: the largest |file − PyTorch| logit difference and the largest |PyTorch logit|."""

    max_difference: float
    largest_logit: float

    @property
    def holds(self) -> bool:
        """Whether the difference lies within :data:`TOLERANCE` of the largest logit (a NaN never does)."""
        return self.max_difference <= TOLERANCE * self.largest_logit


class DeployCheckError(RuntimeError):
    """A deployable file that does not compute what PyTorch computes: it is not kept, and the difference is said."""


def example_images(model: Network, batch: int = EXAMPLE_BATCH) -> torch.Tensor:
    """Images of the model's resolution to trace it with (their values do not matter, only their shape)."""
    side = model.layout.resolution
    return torch.zeros(batch, 3, side, side)


def check_agreement(model: Network, run: Callable[[torch.Tensor], torch.Tensor | np.ndarray], what: str
                    ) -> Agreement:
    """Run ``model`` (in eval mode) and ``run`` (the file, loaded) on the same random images; raise unless they agree.

    ``what`` names the file in the :class:`DeployCheckError` raised when a shape differs or the
    largest difference is past :data:`TOLERANCE` of the largest logit.
    """
    generator = torch.Generator().manual_seed(CHECK_SEED)
    side = model.layout.resolution
    differences, logits = [], []
    for batch in CHECK_BATCH_SIZES:
        images = torch.randn(batch, 3, side, side, generator=generator)
        with torch.no_grad():
            expected = model(images)
            got = torch.as_tensor(run(images))
        if got.shape != expected.shape:
            raise DeployCheckError(f"{what} gives logits of shape {tuple(got.shape)} for {batch} images, PyTorch "
                                   f"{tuple(expected.shape)}")
        differences.append(float((got - expected).abs().max()))
        logits.append(float(expected.abs().max()))
    agreement = Agreement(float(np.max(differences)), max(logits))  # np.max keeps a NaN, which never agrees
    if not agreement.holds:
        raise DeployCheckError(f"{what} does not compute what PyTorch does: its logits differ by up to "
                               f"{agreement.max_difference:.3g} where the largest is {agreement.largest_logit:.3g} "
                               f"(allowed: {TOLERANCE:g} of it) on random images, batch sizes "
                               f"{' and '.join(map(str, CHECK_BATCH_SIZES))}")
    return agreement

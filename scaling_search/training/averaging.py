"""The weight average a recipe may evaluate: an exponential moving average of the weights and BatchNorm buffers.

The TF EfficientNet reference keeps ``tf.train.ExponentialMovingAverage(0.9999, num_updates=global_step)``
of its weights and of the BatchNorm moving mean and variance, updates it after every optimizer step and
evaluates the averages, not the last weights (tensorflow/tpu ``models/official/efficientnet/main.py``).
Given ``num_updates``, TensorFlow does not use the decay as is but ``min(decay, (1 + t) / (10 + t))``
after step t. This module does the same (:func:`decay_at`), for two reasons:

* it is what the reference does, so the ``paper`` recipe keeps the reference's value, 0.9999;
* it is what makes the average meaningful in a short run. A fixed 0.9999 averages over ~10,000
  steps, and a proxy run of a few hundred steps would evaluate mostly its random initial weights.
  With the warm-up, the weight of step j in the average after step T is proportional to
  ``(j + 2)(j + 3)…(j + 9)``, about j⁸: the average centres on the last tenth of the run whatever
  its length. A cap of 0.9999 binds only from ~90,000 steps on (from 9 / (10 + t) <= 1 - decay), so
  no proxy run reaches it; the reference's own runs do (109,475 steps at batch 4096), and average
  their last ~20,000 steps at 0.9999.

timm's ``ModelEmaV3`` offers the same warm-up (``use_warmup``); this module keeps timm optional.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

WARMUP_OFFSET = 10
"""TensorFlow's warm-up: the decay after step t is at most (1 + t) / (``WARMUP_OFFSET`` + t)
(``ExponentialMovingAverage.apply`` with ``num_updates``)."""


def decay_at(decay: float, step: int) -> float:
    """The average's decay at the update after optimizer ``step`` (1 after the first): TensorFlow's warm-up, capped.

    Example:
        >>> from scaling_search.training.averaging import decay_at
        >>> round(decay_at(0.9999, 1), 4), round(decay_at(0.9999, 94), 4), decay_at(0.9999, 200_000)
        (0.1818, 0.9135, 0.9999)
    """
    return min(decay, (1 + step) / (WARMUP_OFFSET + step))


class WeightAverage(AveragedModel):
    """torch's :class:`~torch.optim.swa_utils.AveragedModel` of a model's weights and buffers, as an EMA.

    It starts as a copy of the model (the shadow variables start at the initial weights, as
    TensorFlow's do) and :meth:`update_parameters` moves every parameter and floating-point buffer
    (BatchNorm's running mean and variance: ``use_buffers=True``) towards the model's by
    ``1 - decay_at(decay, t)`` after step t; integer buffers (BatchNorm's batch counts) are copied.
    Its forward pass is the averaged network's, which is what a run with a weight average evaluates.

    The update is torch's EMA (``get_ema_multi_avg_fn``'s ``_foreach_lerp_``) with the decay worked
    out on the host. ``AveragedModel.update_parameters`` reads its ``n_averaged`` on the device or
    copies it there, a host–device sync per step that a CUDA-graph trainer avoids by design; here
    ``n_averaged`` stays on the CPU (``AveragedModel`` makes it there when given no device) and is
    read as a plain count, so an update queues its kernels and returns.

    Example:
        >>> import torch
        >>> from scaling_search.training.averaging import WeightAverage
        >>> model = torch.nn.Linear(1, 1, bias=False)
        >>> _ = model.weight.data.fill_(0.0)
        >>> average = WeightAverage(model, decay=0.9999)
        >>> _ = model.weight.data.fill_(11.0)
        >>> average.update_parameters(model)  # after step 1: decay 2/11
        >>> round(average.module.weight.item(), 4), int(average.n_averaged)
        (9.0, 1)
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        super().__init__(model, use_buffers=True)
        self.module.requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        """Move the average towards ``model`` after one more optimizer step: call it after the step, every step."""
        step = int(self.n_averaged) + 1
        averaged, current, counts, counted = [], [], [], []
        for mine, theirs in zip(itertools.chain(self.module.parameters(), self.module.buffers()),
                                itertools.chain(model.parameters(), model.buffers()), strict=True):
            if mine.is_floating_point():
                averaged.append(mine)
                current.append(theirs.detach())
            else:
                counts.append(mine)
                counted.append(theirs)
        torch._foreach_lerp_(averaged, current, 1.0 - decay_at(self.decay, step))
        if counts:
            torch._foreach_copy_(counts, counted)
        self.n_averaged += 1

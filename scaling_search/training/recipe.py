"""Training recipes and budgets for short proxy runs: immutable, named, explicit about what they keep.

Two named recipes live in :data:`RECIPES`:

``proxy`` (the default) is tuned for runs of a few epochs: SGD with Nesterov momentum 0.9,
0.1 per 256 images scaled linearly with the batch (Goyal et al.'s rule), a short linear warm-up
then a cosine decay to zero, label smoothing 0.1, weight decay 5e-5 on convolution and linear
weights only, and no augmentation. A few epochs are the under-fitting regime, where crops and
flips only add noise, and large peak rates hurt once crops are on (the sweep behind these
choices is in docs/benchmarks.md, "The proxy recipe"). Without crops the network also sees
objects at the same scale in training and evaluation, which matters at low resolutions
(Touvron et al., FixRes).
Weight decay barely regularises in a few epochs; what it still does is keep the scale of
the BatchNorm-normalised conv weights (and so their effective step size) in check. 5e-5 sits in
the range the mobile networks use (EfficientNet 1e-5 with RMSProp, MobileNetV2 4e-5 with
RMSProp, 5e-5 with SGD in common re-implementations) and shrinks the weights by only
``exp(-lr · wd · steps)`` ≈ 0.5 % over a thousand steps at 0.1, so it cannot dominate a short run.

``paper`` keeps what a short run can keep of the EfficientNet paper's ImageNet recipe:
RMSProp with decay 0.9, momentum 0.9 and epsilon 1e-3 in TensorFlow's form, 0.016 per 256
images (0.256 at the paper's batch of 4096), weight decay 1e-5, label smoothing 0.1, and the
reference's schedule (``build_learning_rate`` in tensorflow/tpu
``models/official/efficientnet/utils.py``): the rate is multiplied by 0.97 every 2.4 epochs, in
steps (``exponential_decay`` with ``staircase=True``, counted from the first step, warm-up
included). Only the warm-up is fitted to the run: the reference warms up for 5 of its 350 epochs,
so this recipe warms up for the same share of the run's steps, at least one. The decay is not
re-timed, so a run shorter than 2.4 epochs trains at the peak rate after its warm-up, as the
reference does over its first 2.4 epochs. The warm-up is this trainer's linear ramp, which
reaches the peak at its last step; the reference's starts from 0 at the first step (a step
without an update). The augmentation is the ImageNet one (random-resized crop of 35–100 % of
the area, and flips) without AutoAugment. It evaluates an exponential moving average of the
weights, as the reference does (``ema_decay``, :mod:`scaling_search.training.averaging`): decay
0.9999 with TensorFlow's warm-up, min(0.9999, (1 + t) / (10 + t)) after step t, which in any run
shorter than ~90,000 steps averages over about the last tenth of the run. :data:`TF_REFERENCE` holds
the reference's own values, which every study report sets beside its recipe's.

Both recipes evaluate with "precise BatchNorm" statistics (as pycls does): before each
evaluation the running averages are replaced by the exact mean and variance over
``bn_calibration_images`` training images under the current weights. The layout's running
averages (momentum 0.01, TF's decay 0.99) average over the last ~100 steps, which in a run of a
few hundred steps lags weights that are still changing fast, and after a few dozen steps still
mostly holds the initial values: evaluation would measure that lag rather than the network.

TensorFlow's RMSProp differs from ``torch.optim.RMSprop`` in two ways that matter at the start of
training: TF adds epsilon *inside* the square root (``sqrt(ms + eps)``, PyTorch uses
``sqrt(ms) + eps``) and TF starts the mean square at 1 (PyTorch at 0, which makes the first
steps ~3× the gradient's sign in size). The trainer implements TF's form, as timm's
``RMSpropTF`` does, with the learning rate applied inside the momentum buffer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

from scaling_search.data.augment import Augmentation
from scaling_search.errors import InputError

OptimizerName = Literal["sgd", "rmsprop"]
OPTIMIZERS: tuple[OptimizerName, ...] = ("sgd", "rmsprop")
ScheduleName = Literal["cosine", "exponential"]
SCHEDULES: tuple[ScheduleName, ...] = ("cosine", "exponential")

REFERENCE_EPOCHS = 350
"""The reference's run: ``main.py``'s ``train_steps``, 218,949 steps at its batch of 2048 over ImageNet's
:data:`REFERENCE_TRAIN_IMAGES`, in tensorflow/tpu ``models/official/efficientnet``."""
REFERENCE_TRAIN_IMAGES = 1_281_167
"""ImageNet's training images (``main.py``'s ``num_train_images``)."""
REFERENCE_RESOLUTION = 224
"""EfficientNet-B0's input side in the reference (``efficientnet_builder.efficientnet_params``)."""
REFERENCE_WARMUP_FRACTION = 5 / REFERENCE_EPOCHS
"""The reference's warm-up as a share of its run: 5 epochs (``warmup_epochs`` of ``build_learning_rate``) of
:data:`REFERENCE_EPOCHS`."""
REFERENCE_EMA_DECAY = 0.9999
"""The reference's weight average: ``main.py``'s ``moving_average_decay``, applied after every step as
``tf.train.ExponentialMovingAverage(decay, num_updates=global_step)`` to the weights and the BatchNorm moving mean
and variance (``utils.get_ema_vars``), whose averages are evaluated. The paper's §5.2, which gives the rest of the
recipe, does not mention it; its code applies it."""


EVAL_FULL_BATCH_SIDE = 64
"""Resolution up to which evaluation uses the whole ``eval_batch_size``."""
MAX_LR = 1e9
"""Largest learning rate per 256 images: far past divergence, yet still a float32 once scaled to the batch."""
MAX_EPOCHS = 10_000
PROXY_RESOLUTION = 64
"""Input side of a proxy run when no network is chosen: B0 at 64 px is the usual short-run proxy on a GPU."""
CPU_BATCH = 64
"""Training batch on a CPU: B0 at 64 px trains fastest per image near this batch (docs/benchmarks.md)."""


@dataclass(frozen=True)
class Recipe:
    """How to train: optimizer, learning-rate schedule, regularisation, augmentation and batch sizes.

    The named recipes are in ``RECIPES``; change one with ``dataclasses.replace``:

        >>> from dataclasses import replace
        >>> from scaling_search.training.recipe import RECIPES
        >>> sorted(RECIPES)
        ['paper', 'proxy']
        >>> replace(RECIPES["proxy"], lr_per_256=0.2).lr_per_256
        0.2
    """

    optimizer: OptimizerName = "sgd"
    lr_per_256: float = 0.1
    """Peak learning rate for a batch of 256 images; the batch actually used scales it linearly."""
    momentum: float = 0.9
    weight_decay: float = 5e-5
    """L2 penalty on conv and linear weights; never on BatchNorm parameters or biases."""
    warmup_epochs: float = 0.3
    """Linear warm-up length in epochs (fractions allowed), capped at half the run."""
    warmup_fraction: float = 0.0
    """Linear warm-up as a share of the run's steps, at least one step and at most half the run; set this or
    ``warmup_epochs``, not both."""
    schedule: ScheduleName = "cosine"
    """After warm-up: ``cosine`` to zero at the end of the run, or ``exponential``: × ``decay_factor`` every
    ``decay_epochs``, in steps counted from the first step (TF's ``exponential_decay`` with ``staircase=True``)."""
    decay_factor: float | None = None
    """The exponential schedule's factor per decay, in (0, 1]; None for cosine."""
    decay_epochs: float | None = None
    """Epochs between the exponential schedule's decays; None for cosine."""
    label_smoothing: float = 0.1
    train_batch_size: int = 256
    eval_batch_size: int = 1024
    """Images per evaluation batch at 64 px or less; fewer above, for the same pixels (see :meth:`eval_batch`)."""
    augmentation: Augmentation = field(default_factory=lambda: Augmentation(kind="none", flip=False))
    rmsprop_decay: float = 0.9
    rmsprop_eps: float = 1e-3
    bn_calibration_images: int = 1024
    """Training images whose BatchNorm statistics replace the running averages before each evaluation; 0: off."""
    ema_decay: float | None = None
    """Evaluate an exponential moving average of the weights and BatchNorm buffers with this decay, in (0, 1), and
    TensorFlow's warm-up (:mod:`scaling_search.training.averaging`); None: evaluate the last weights."""
    zero_init: bool = True
    """Start the classifier and each residual branch's last BatchNorm scale at zero (Goyal et al. 2017).

    The reference's classifier init, uniform ±1/sqrt(classes), is sized for 1000 classes; with ten it
    starts at a loss of 3–6 and a few hundred steps are spent undoing it. Zero-init starts every
    residual block as the identity and the loss at log(classes): on the built-in synthetic task at
    32 px (batch 64, seed 0) B0 reached 25 % validation accuracy (chance 10 %) in two CPU epochs
    with it and stayed at chance (10 %) without. The architecture is unchanged; ``paper`` keeps the
    reference init."""

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}")
        if not 0 < self.lr_per_256 <= MAX_LR:
            raise InputError(f"lr_per_256 (the peak learning rate per 256 images) must lie in (0, {MAX_LR:g}], "
                             f"got {self.lr_per_256}")
        for name in ("momentum", "rmsprop_decay", "label_smoothing"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise InputError(f"{name} must lie in [0, 1), got {getattr(self, name)}")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise InputError(f"weight decay must be >= 0, got {self.weight_decay}")
        if not (self.warmup_epochs >= 0 and math.isfinite(self.warmup_epochs)):
            raise InputError(f"warm-up epochs must be >= 0, got {self.warmup_epochs}")
        if not 0 <= self.warmup_fraction < 1:
            raise InputError(f"warmup_fraction (the warm-up's share of the run) must lie in [0, 1), "
                             f"got {self.warmup_fraction}")
        if self.warmup_epochs and self.warmup_fraction:
            raise InputError("give the warm-up as warmup_epochs or as warmup_fraction, not both")
        self._check_schedule()
        if self.bn_calibration_images < 0:
            raise InputError(f"bn_calibration_images must be >= 0, got {self.bn_calibration_images}")
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            raise InputError(f"ema_decay (the weight average's decay) must lie in (0, 1), or be None for no "
                             f"average, got {self.ema_decay}")
        if not self.rmsprop_eps > 0:
            raise InputError(f"RMSProp epsilon must be > 0, got {self.rmsprop_eps}")
        for name in ("train_batch_size", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be >= 1, got {getattr(self, name)}")

    def _check_schedule(self) -> None:
        if self.schedule not in SCHEDULES:
            raise InputError(f"schedule must be one of {', '.join(SCHEDULES)}, not {self.schedule!r}")
        if self.schedule == "cosine":
            if self.decay_factor is not None or self.decay_epochs is not None:
                raise InputError("the cosine schedule takes no decay_factor or decay_epochs")
            return
        if self.decay_factor is None or not 0 < self.decay_factor <= 1:
            raise InputError(f"the exponential schedule needs a decay_factor in (0, 1], got {self.decay_factor}")
        if self.decay_epochs is None or not (self.decay_epochs > 0 and math.isfinite(self.decay_epochs)):
            raise InputError(f"the exponential schedule needs decay_epochs > 0, got {self.decay_epochs}")

    def eval_batch(self, resolution: int) -> int:
        """Images per evaluation (and BatchNorm calibration) batch at ``resolution``: activations grow with its square.

        At 64 px and below it is ``eval_batch_size``; above, the batch keeps the same number of
        pixels (1024 images at 64 px is 256 at 128 px, 83 at 224 px), so evaluating a large
        candidate on a CPU does not need tens of GiB at once.
        """
        return max(1, min(self.eval_batch_size, self.eval_batch_size * EVAL_FULL_BATCH_SIDE**2 // resolution**2))

    def peak_lr(self, batch_size: int) -> float:
        """The learning rate at the end of warm-up for ``batch_size`` images a step (linear scaling)."""
        return self.lr_per_256 * batch_size / 256

    def warmup_steps(self, steps_per_epoch: float, total_steps: int) -> int:
        """Warm-up length in steps: ``warmup_epochs`` worth, or ``warmup_fraction`` of the run and at least one step;
        never more than half the run."""
        if self.warmup_fraction:
            return min(max(1, round(self.warmup_fraction * total_steps)), total_steps // 2)
        return min(round(self.warmup_epochs * steps_per_epoch), total_steps // 2)

    def lr_schedule(self, batch_size: int, steps_per_epoch: float, total_steps: int) -> Schedule:
        """The learning rate of a run of ``total_steps`` steps of ``batch_size`` images, ``steps_per_epoch`` an epoch
        (fractional where the data pipeline repeats without dropping a partial batch, as the reference's does).

        Example:

            >>> from scaling_search.training.recipe import RECIPES
            >>> schedule = RECIPES["paper"].lr_schedule(batch_size=256, steps_per_epoch=100, total_steps=1000)
            >>> schedule.warmup_steps, round(schedule.rate(239), 6), round(schedule.rate(240), 6)
            (14, 0.016, 0.01552)
        """
        return Schedule(
            peak=self.peak_lr(batch_size),
            warmup_steps=self.warmup_steps(steps_per_epoch, total_steps),
            total_steps=total_steps,
            decay=None if self.decay_factor is None or self.decay_epochs is None
            else (self.decay_factor, self.decay_epochs * steps_per_epoch),
        )


@dataclass(frozen=True)
class Budget:
    """How long to train: whole epochs, optionally over a capped number of training images each.

    Example:

        >>> from scaling_search.training.recipe import Budget
        >>> Budget(epochs=5, max_train_images=10_000)
        Budget(epochs=5, max_train_images=10000)
        >>> Budget(epochs=0)
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: epochs must be an integer in [1, 10000], got 0
    """

    epochs: int = 2
    max_train_images: int | None = None
    """Images per epoch (a fresh random subset each epoch); None for the whole training split."""

    def __post_init__(self) -> None:
        if int(self.epochs) != self.epochs or not 1 <= self.epochs <= MAX_EPOCHS:
            raise InputError(f"epochs must be an integer in [1, {MAX_EPOCHS}], got {self.epochs}")
        if self.max_train_images is not None and self.max_train_images < 1:
            raise InputError(f"max_train_images (the cap on training images per epoch) must be >= 1, "
                             f"got {self.max_train_images}")


def default_batch(recipe: Recipe, device_type: str) -> int:
    """The training batch when none is asked for: :data:`CPU_BATCH` on a CPU, the recipe's own on an accelerator."""
    return CPU_BATCH if device_type == "cpu" else recipe.train_batch_size


@dataclass(frozen=True)
class Schedule:
    """One run's learning rate by step: :meth:`Recipe.lr_schedule` makes it from the recipe's schedule."""

    peak: float
    warmup_steps: int
    total_steps: int
    decay: tuple[float, float] | None
    """(factor, steps between decays) of the exponential schedule; None for cosine."""

    def rate(self, step: int) -> float:
        """Rate for 0-based ``step``: a linear warm-up that reaches ``peak`` at its last step, then the decay.

        Cosine runs from ``peak`` after the warm-up towards 0 at ``total_steps``; exponential is
        ``peak · factor^floor(step / steps between decays)``, the step counted from the first, as the
        reference's ``exponential_decay`` counts the global step.
        """
        if step < self.warmup_steps:
            return self.peak * (step + 1) / self.warmup_steps
        if self.decay is not None:
            factor, steps = self.decay
            return self.peak * factor ** math.floor(step / steps)
        progress = (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps)
        return self.peak * 0.5 * (1.0 + math.cos(math.pi * progress))


TF_REFERENCE = Recipe(optimizer="rmsprop", lr_per_256=0.016, weight_decay=1e-5, warmup_epochs=5.0,
                      schedule="exponential", decay_factor=0.97, decay_epochs=2.4, train_batch_size=4096,
                      augmentation=Augmentation(scale=(0.08, 1.0)), bn_calibration_images=0,
                      ema_decay=REFERENCE_EMA_DECAY, zero_init=False)
"""The TF EfficientNet reference's ImageNet recipe as a :class:`Recipe`, to compare recipes with, not to train with.

Tan & Le 2019, §5.2, and tensorflow/tpu ``models/official/efficientnet`` (``main.py``, ``utils.py``,
``preprocessing.py``): TF-form RMSProp (decay 0.9, momentum 0.9, epsilon 1e-3), 0.016 per 256 images at
the paper's batch of 4096 (its 0.256), a 5-epoch warm-up then ×0.97 every 2.4 epochs, weight decay 1e-5,
label smoothing 0.1, Inception crops of 8–100 % of the area with flips, BatchNorm running averages at
evaluation (momentum 0.99), and the weight average of :data:`REFERENCE_EMA_DECAY`. What a recipe does not
hold is in the constants above (:data:`REFERENCE_EPOCHS`, :data:`REFERENCE_RESOLUTION`) and AutoAugment,
which the reference adds and this trainer does not have."""

RECIPES: MappingProxyType[str, Recipe] = MappingProxyType(
    {
        "proxy": Recipe(),
        # The reference at an ordinary batch, with its warm-up as a share of the run, crops of 35-100 %, precise BN.
        "paper": replace(TF_REFERENCE, train_batch_size=256, warmup_epochs=0.0,
                         warmup_fraction=REFERENCE_WARMUP_FRACTION, augmentation=Augmentation(),
                         bn_calibration_images=1024),
    }
)
"""Named recipes; ``proxy`` is the default."""


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise InputError(f"unknown recipe {name!r}; choose one of {', '.join(RECIPES)}") from None


def configured_recipe(name: str, *, lr: float | None = None, batch_size: int | None = None,
                      augmentation: Augmentation | None = None) -> Recipe:
    """Recipe ``name`` with what the user set: its learning rate per 256 images, training batch and augmentation.

    None keeps the recipe's own. A study's trials (:meth:`StudyDefinition.training_recipe
    <scaling_search.study.definition.StudyDefinition.training_recipe>`) and ``scaling-search train``
    both build their recipe here. Raises InputError for an unknown name or a value the recipe cannot take.
    """
    recipe = get_recipe(name)
    if lr is not None:
        recipe = replace(recipe, lr_per_256=lr)
    if batch_size is not None:
        recipe = replace(recipe, train_batch_size=batch_size)
    if augmentation is not None:
        recipe = replace(recipe, augmentation=augmentation)
    return recipe

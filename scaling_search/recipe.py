"""Training recipes and budgets for short proxy runs: immutable, named, explicit about what they keep.

Two named recipes live in :data:`RECIPES`:

``proxy`` (the default) is tuned for runs of a few epochs: SGD with Nesterov momentum 0.9,
0.1 per 256 images scaled linearly with the batch (Goyal et al.'s rule), a short linear warm-up
then a cosine decay to zero, label smoothing 0.1, weight decay 5e-5 on convolution and linear
weights only, and no augmentation. A few epochs are the under-fitting regime, where crops and
flips only add noise. On Fashion-MNIST (B0 at width and depth 0.5, 32 px, two epochs of 8000
images, batch 64, CPU, one or two seeds each) the final validation accuracy was 0.74–0.79 with
no augmentation, 0.70–0.75 with flips, 0.70–0.74 with random-resized crops of 64–100 % of the
area and 0.61–0.69 with the ImageNet crops of 35–100 %; with those crops, peak rates per 256 of
0.05 / 0.1 / 0.2 / 0.4 / 0.8 gave 0.69 / 0.61 / 0.54 / 0.56 / 0.31, and without them 0.05 and 0.1
were alike. Without crops the network also sees objects at the same scale in training and
evaluation, which matters at low resolutions (Touvron et al., FixRes). (These runs predate the
exact reference initialisation: depthwise kernels were then drawn 1/sqrt(channels) too small.)
Weight decay barely regularises in a few epochs; what it still does is keep the scale of
the BatchNorm-normalised conv weights (and so their effective step size) in check. 5e-5 sits in
the range the mobile networks use (EfficientNet 1e-5 with RMSProp, MobileNetV2 4e-5 with
RMSProp, 5e-5 with SGD in common re-implementations) and shrinks the weights by only
``exp(-lr · wd · steps)`` ≈ 0.5 % over a thousand steps at 0.1, so it cannot dominate a short run.

``paper`` keeps what a short run can keep of the EfficientNet paper's ImageNet recipe:
RMSProp with decay 0.9, momentum 0.9 and epsilon 1e-3 in TensorFlow's form, 0.016 per 256
images (0.256 at the paper's batch of 4096), weight decay 1e-5, label smoothing 0.1.
The paper decays the rate by 0.97 every 2.4 epochs, which over a two-epoch run is a constant
rate (0.97^(2/2.4) ≈ 0.975), so this recipe uses the same warm-up and cosine schedule as
``proxy``; its augmentation is the ImageNet one (random-resized crop of 35–100 % of the
area, and flips) without AutoAugment.

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
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from scaling_search.data.augment import Augmentation
from scaling_search.errors import InputError

OptimizerName = Literal["sgd", "rmsprop"]
OPTIMIZERS: tuple[OptimizerName, ...] = ("sgd", "rmsprop")


EVAL_FULL_BATCH_SIDE = 64
"""Resolution up to which evaluation uses the whole ``eval_batch_size``."""
MAX_LR = 1e9
"""Largest learning rate per 256 images: far past divergence, yet still a float32 once scaled to the batch."""
MAX_EPOCHS = 10_000
PROXY_RESOLUTION = 64
"""Input side of a proxy run when no network is chosen: B0 at 64 px is the usual short-run proxy on a GPU."""
CPU_BATCH = 64
"""Training batch on a CPU: B0 at 64 px trains fastest per image near batch 64 (about 1.5x batch 256 on 2 cores)."""


@dataclass(frozen=True)
class Recipe:
    """How to train: optimizer, learning-rate schedule, regularisation, augmentation and batch sizes.

    The named recipes are in ``RECIPES``; change one with ``dataclasses.replace``:

        >>> from dataclasses import replace
        >>> from scaling_search.recipe import RECIPES
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
    """Linear warm-up length (fractions allowed), capped at half the run; cosine decay to 0 follows."""
    label_smoothing: float = 0.1
    train_batch_size: int = 256
    eval_batch_size: int = 1024
    """Images per evaluation batch at 64 px or less; fewer above, for the same pixels (see :meth:`eval_batch`)."""
    augmentation: Augmentation = field(default_factory=lambda: Augmentation(kind="none", flip=False))
    rmsprop_decay: float = 0.9
    rmsprop_eps: float = 1e-3
    bn_calibration_images: int = 1024
    """Training images whose BatchNorm statistics replace the running averages before each evaluation; 0: off."""
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
        if self.bn_calibration_images < 0:
            raise InputError(f"bn_calibration_images must be >= 0, got {self.bn_calibration_images}")
        if not self.rmsprop_eps > 0:
            raise InputError(f"RMSProp epsilon must be > 0, got {self.rmsprop_eps}")
        for name in ("train_batch_size", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be >= 1, got {getattr(self, name)}")

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

    def warmup_steps(self, steps_per_epoch: int, total_steps: int) -> int:
        """Warm-up length in steps: ``warmup_epochs`` worth, but never more than half the run."""
        return min(round(self.warmup_epochs * steps_per_epoch), total_steps // 2)


@dataclass(frozen=True)
class Budget:
    """How long to train: whole epochs, optionally over a capped number of training images each.

    Example:

        >>> from scaling_search.recipe import Budget
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


def learning_rate(step: int, total_steps: int, warmup_steps: int, peak: float) -> float:
    """Rate for 0-based ``step``: linear warm-up to ``peak`` over ``warmup_steps``, then cosine towards 0."""
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak * 0.5 * (1.0 + math.cos(math.pi * progress))


RECIPES: MappingProxyType[str, Recipe] = MappingProxyType(
    {
        "proxy": Recipe(),
        "paper": Recipe(optimizer="rmsprop", lr_per_256=0.016, weight_decay=1e-5, augmentation=Augmentation(),
                        zero_init=False),
    }
)
"""Named recipes; ``proxy`` is the default."""


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise InputError(f"unknown recipe {name!r}; choose one of {', '.join(RECIPES)}") from None

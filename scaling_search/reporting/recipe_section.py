"""The report's "Recipe against the reference" section: how the study's recipe differs from the TF reference's.

A ranking of scaled networks holds for the recipe that trained them: Bello et al. (2021, "Revisiting
ResNets") found the best scaling strategy changes with the training regime. So every study report
sets its recipe beside the TF EfficientNet reference's (:data:`~scaling_search.training.recipe.TF_REFERENCE`),
row by row. Each row is worded from the recipe's data and the run's length by the same function for
both sides, so a row differs exactly when the two recipes do; nothing is written per study.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from scaling_search.data.augment import Augmentation
from scaling_search.study.definition import ResolvedDefinition
from scaling_search.training.averaging import WARMUP_OFFSET, decay_at
from scaling_search.training.proxy import epoch_shape
from scaling_search.training.recipe import (
    REFERENCE_EPOCHS,
    REFERENCE_RESOLUTION,
    REFERENCE_TRAIN_IMAGES,
    TF_REFERENCE,
    Recipe,
)

SAME = "same"
"""The study's cell of a row that does not differ from the reference's."""


class RunLength(NamedTuple):
    """How long one run trains: epochs, images per epoch and per step, and optimizer steps.

    ``images`` and ``steps`` are None when the study did not record its training split's size.
    """

    epochs: int
    images: int | None
    batch: int
    steps: int | None


REFERENCE_RUN = RunLength(REFERENCE_EPOCHS, REFERENCE_TRAIN_IMAGES, TF_REFERENCE.train_batch_size,
                          round(REFERENCE_EPOCHS * REFERENCE_TRAIN_IMAGES / TF_REFERENCE.train_batch_size))
"""The reference's run: its input pipeline repeats the data, so steps are epochs × images / batch, not floored per
epoch (``main.py``'s ``train_steps``, 218,949 at batch 2048, is the same count at half the batch)."""


class RecipeRow(NamedTuple):
    """One aspect of training, worded for the reference and for the study."""

    aspect: str
    reference: str
    study: str

    @property
    def differs(self) -> bool:
        return self.reference != self.study


def study_run(definition: ResolvedDefinition, train_images: int | None) -> RunLength:
    """The length of each of the study's runs: the trainer's own epoch shape over a training split of
    ``train_images`` (None when the study did not record it: no step count)."""
    recipe = definition.training_recipe()
    if train_images is None:
        return RunLength(definition.epochs, None, recipe.train_batch_size, None)
    images, batch = epoch_shape(train_images, definition.budget(), recipe)
    return RunLength(definition.epochs, images, batch, definition.epochs * (images // batch))


def recipe_rows(recipe: Recipe, run: RunLength, resolution: int) -> list[RecipeRow]:
    """How ``recipe``, trained for ``run`` at a base ``resolution``, stands against the reference, row by row.

    Example:
        >>> from scaling_search.training.recipe import RECIPES
        >>> rows = recipe_rows(RECIPES["proxy"], RunLength(2, 3000, 64, 92), 32)
        >>> [row.aspect for row in rows if not row.differs]
        ['label smoothing']
        >>> next(row.study for row in rows if row.aspect == "training length")
        '2 epochs of 3,000 images: 92 optimizer steps'
    """
    reference = TF_REFERENCE
    return [
        RecipeRow("optimizer", optimizer_text(reference), optimizer_text(recipe)),
        RecipeRow("peak learning rate", rate_text(reference, REFERENCE_RUN.batch), rate_text(recipe, run.batch)),
        RecipeRow("schedule", schedule_text(reference, REFERENCE_RUN), schedule_text(recipe, run)),
        RecipeRow("weight decay", decay_text(reference), decay_text(recipe)),
        RecipeRow("label smoothing", f"{reference.label_smoothing:g}", f"{recipe.label_smoothing:g}"),
        RecipeRow("augmentation", augmentation_text(reference.augmentation, autoaugment=True),
                  augmentation_text(recipe.augmentation, autoaugment=False)),
        RecipeRow("weight average (EMA)", average_text(reference, REFERENCE_RUN), average_text(recipe, run)),
        RecipeRow("BatchNorm statistics at evaluation", batchnorm_text(reference), batchnorm_text(recipe)),
        RecipeRow("initialisation", init_text(reference), init_text(recipe)),
        RecipeRow("training length", length_text(REFERENCE_RUN), length_text(run)),
        RecipeRow("base network's resolution", f"{REFERENCE_RESOLUTION} px", f"{resolution} px"),
    ]


def recipe_lines(name: str, rows: list[RecipeRow]) -> list[str]:
    """The section: its heading, a paragraph and the table, the study's cell ``same`` where nothing differs."""
    differing = sum(row.differs for row in rows)
    lines = [
        "## Recipe against the reference",
        "",
        f"How each run of this study trained (the `{name}` recipe) beside the TF EfficientNet reference's ImageNet "
        "recipe (Tan & Le 2019, §5.2, and tensorflow/tpu `models/official/efficientnet`): "
        f"{differing} of {len(rows)} rows differ. A ranking holds for the recipe that trained it (Bello et al. 2021 "
        "found the best scaling strategy changes with training length), so read this study's answer as this "
        "recipe's.",
        "",
        "| | TF reference | this study |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {row.aspect} | {row.reference} | {row.study if row.differs else SAME} |" for row in rows]
    return [*lines, ""]


def optimizer_text(recipe: Recipe) -> str:
    if recipe.optimizer == "rmsprop":
        return (f"RMSProp in TensorFlow's form, decay {recipe.rmsprop_decay:g}, momentum {recipe.momentum:g}, "
                f"ε {recipe.rmsprop_eps:g}")
    return f"SGD, Nesterov momentum {recipe.momentum:g}"


def rate_text(recipe: Recipe, batch: int) -> str:
    return f"{recipe.lr_per_256:g} per 256 images: {recipe.peak_lr(batch):.4g} at batch {batch:,}"


def decay_text(recipe: Recipe) -> str:
    """The L2 weight decay as the docs write it: ``1e-5``, not Python's ``1e-05``."""
    return f"{recipe.weight_decay:g}".replace("e-0", "e-") + " (L2)"


def schedule_text(recipe: Recipe, run: RunLength) -> str:
    """The warm-up and the decay after it, with the steps they take in ``run`` when its steps are known."""
    warmup = (f"{recipe.warmup_fraction * 100:.3g} % of the run" if recipe.warmup_fraction else
              f"{recipe.warmup_epochs:g} epochs")
    if run.steps is None:
        schedule = None
    else:
        schedule = recipe.lr_schedule(run.batch, run.steps / run.epochs, run.steps)
        warmup += f" ({count(schedule.warmup_steps, 'step')})"
    text = f"linear warm-up over {warmup}, then "
    if recipe.decay_factor is None or recipe.decay_epochs is None:
        return text + "cosine to zero at the end of the run"
    text += f"× {recipe.decay_factor:g} every {recipe.decay_epochs:g} epochs, in steps"
    if schedule is None or schedule.decay is None:
        return text
    decays = math.floor((schedule.total_steps - 1) / schedule.decay[1])
    return text + (f" ({count(decays, 'decay')} in the run)" if decays else " (none within the run)")


def augmentation_text(augmentation: Augmentation, autoaugment: bool) -> str:
    if augmentation.kind == "random-resized":
        (low, high), (narrow, wide) = augmentation.scale, augmentation.ratio
        crops = f"random-resized crops of {low * 100:g}–{high * 100:g} % of the area, aspect {narrow:.2f}–{wide:.2f}"
    elif augmentation.kind == "pad-crop":
        crops = f"padding by {augmentation.pad_fraction:.1%} of the side, then a random crop"
    else:
        crops = "no crops"
    flips = "flips" if augmentation.flip else "no flips"
    return f"{crops}, {flips}, {'AutoAugment' if autoaugment else 'no AutoAugment'}"


def average_text(recipe: Recipe, run: RunLength) -> str:
    """The weight average: off, or its decay, TensorFlow's warm-up and the decay it reaches in ``run``."""
    decay = recipe.ema_decay
    if decay is None:
        return "none: the last weights are evaluated"
    text = (f"decay {decay:g} with TensorFlow's warm-up, min({decay:g}, (1 + t) / ({WARMUP_OFFSET} + t)) after "
            "step t; the average is evaluated")
    if run.steps is None:
        return text
    return text + f"; at the last step ({run.steps:,}) the decay is {decay_at(decay, run.steps):.4g}"


def batchnorm_text(recipe: Recipe) -> str:
    if recipe.bn_calibration_images:
        return (f"recomputed over {recipe.bn_calibration_images:,} training images under the evaluated weights "
                "before each evaluation")
    return "the running averages" + (", averaged with the weights" if recipe.ema_decay is not None else "")


def init_text(recipe: Recipe) -> str:
    if recipe.zero_init:
        return "classifier and each residual branch's last BatchNorm scale at zero"
    return "the reference's"


def length_text(run: RunLength) -> str:
    if run.images is None or run.steps is None:
        return (f"{run.epochs:,} epochs; optimizer steps not recorded (the study did not store its training "
                "split's size)")
    epochs = f"{run.epochs:,} epoch{'' if run.epochs == 1 else 's'}"
    return f"{epochs} of {run.images:,} images: {run.steps:,} optimizer step{'' if run.steps == 1 else 's'}"


def count(number: int, noun: str) -> str:
    """``1 step``, ``2 steps``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"

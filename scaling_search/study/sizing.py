"""Defaults sized to the device: what a study leaves unset becomes a small CPU task or a fuller GPU one.

A study that names nothing of its proxy task (no base, dataset, proxy resolution, epochs, images,
batch, learning rate or recipe) is, on CPU, the built-in demo (:data:`DEMO`): a light base at a
56 px proxy where γ can be searched, on a 4-class synthetic task it learns in two short epochs.
A CPU study that names any of them is sized to its base instead: a base that costs more per image
than B0 gets fewer training images (:func:`cpu_budget`), so its default study takes about as long
as B0's at 32 px.

On a GPU the proxy's base resolution is sized to the study's base and grid: the smallest resolution
where γ can be searched (:func:`gpu_base_resolution`; 160 px for B0's default grid, where a 64 px
proxy leaves no contender with γ > 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from scaling_search.coefficients.faithfulness import PROXY_CLASSES, default_resolution
from scaling_search.coefficients.grid import GridSpec
from scaling_search.counting.analytic import analytic_counts
from scaling_search.models.architecture import EFFICIENTNET_B0, BaseArchitecture
from scaling_search.models.bases import EFFICIENTNET_DEMO
from scaling_search.models.scaling import MIN_RESOLUTION, base_layout
from scaling_search.study.definition import ResolvedDefinition, StudyDefinition
from scaling_search.study.study_base import study_base
from scaling_search.training.recipe import CPU_BATCH, PROXY_RESOLUTION, RECIPES

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
                          finalist_seeds=3, max_refine=2, max_train_images=1000)
"""A CPU study of B0 (named, or any option of :data:`TASK_OPTIONS` set; else it is the demo, :data:`DEMO`) trains
3 candidates and the paper's point, then all four again on 3 fresh seeds (the fewest a verdict is drawn from): 16
runs of 2 × 1,000 images (about 15 s each at 32 px on one core), about 2 minutes on 2 cores.
Another base has no paper's point (9 runs) and its training budget scales with its cost (:func:`cpu_budget`)."""
MIN_CPU_TRAIN_IMAGES = 2 * CPU_BATCH
"""The fewest training images per epoch a CPU study of any base gets: two CPU batches (128 images)."""
SIZING_CLASSES = 10
"""The classifier a base's cost per image is compared at (the built-in synthetic task's and CIFAR-10's classes)."""
GPU_SIZING = DeviceSizing(base_resolution=PROXY_RESOLUTION, epochs=5, batch_size=RECIPES["proxy"].train_batch_size,
                          max_candidates=None, cpus_per_trial=2, finalist_seeds=5, max_refine=None,
                          max_train_images=None)
"""A GPU study's defaults; its ``base_resolution`` is only the fallback of :func:`gpu_base_resolution`'s callers that
have no grid (``resolve_for_device`` sizes the proxy to the study's grid)."""




@dataclass(frozen=True)
class DemoTask:
    """The proxy task of the built-in CPU demo: what a study that names none of :data:`TASK_OPTIONS` trains on CPU."""

    base: str
    dataset: str
    base_resolution: int
    epochs: int
    max_train_images: int
    batch_size: int
    lr: float
    refine: bool
    """Whether the demo refines its winning class (unless the user says): off, because the refinement and the
    confirmation of its best on fresh seeds would double the demo's runs."""


DEMO = DemoTask(base=EFFICIENTNET_DEMO.name, dataset="synthetic:classes=4,train=2500,test=500", base_resolution=56,
                epochs=2, max_train_images=2000, batch_size=32, lr=0.4, refine=False)
"""The built-in demo (``scaling-search run --phi 1`` on CPU); each value measured in docs/proxy.md, "The built-in demo".

At 56 px the light base's grid keeps contenders with γ 1.0, 1.05, 1.1, 1.15, 1.3 and 1.4 (B0 at 32 px: γ = 1 only),
and the three the CPU plan spreads over train at 56–80 px with 1.9–2.1× the base's compute. Four classes (shapes,
striped) and batches of 32 at ``lr`` 0.4 per 256 images let two epochs of 2,000 images reach 0.54–0.65 validation
accuracy with γ = 1.4 (chance 0.25); the data is rendered at 126 px and shrunk, so nothing is upsampled."""
LATENCY_DEMO = replace(DEMO, base_resolution=112)
"""The demo of a study held to latency (``scaling-search run --phi 1 --cost latency`` on CPU): the same task at a 112 px
proxy. A latency study's contender must train at the proxy with the compute (MACs) its network costs at the cost
scale; at 56 px resolution rounding moves that by 10–16 % for every point of the demo's latency grid whose family
grows as promised, so none could contend, while at 112 px all six do (docs/costs.md, "The proxy of a latency study").
Four times the pixels: on 2 cores its 12 runs took 15.4 minutes, after 15 minutes timing its latency grid (cached
for the next study; docs/benchmarks.md)."""


def demo_task(definition: StudyDefinition) -> DemoTask:
    """The demo a CPU study that names no proxy task becomes: :data:`LATENCY_DEMO` when it is held to latency, else
    :data:`DEMO`."""
    return LATENCY_DEMO if definition.cost == "latency" else DEMO


TASK_OPTIONS = ("base", "base_table", "dataset", "base_resolution", "epochs", "max_train_images", "batch_size", "lr",
                "recipe")
"""The options that name a study's proxy task: a CPU study that sets none of them is the demo (:data:`DEMO`)."""


def is_demo(definition: StudyDefinition) -> bool:
    """Whether ``definition`` leaves its whole proxy task to the device, so that on CPU it becomes :data:`DEMO`.

    Example:
        >>> from scaling_search.study.definition import StudyDefinition
        >>> is_demo(StudyDefinition(phi=2)), is_demo(StudyDefinition(base_resolution=32))
        (True, False)
    """
    default = StudyDefinition()
    return all(getattr(definition, name) == getattr(default, name) for name in TASK_OPTIONS)


def demo_line(definition: StudyDefinition) -> str | None:
    """The one line a run of the demo starts with, saying what it is and what a user's own study gets; None otherwise.

    ``definition`` is a resolved one: it is the demo when its task is :data:`DEMO`'s.
    """
    demo = demo_task(definition)
    if (definition.base, definition.dataset, definition.base_resolution, definition.epochs,
            definition.max_train_images, definition.batch_size, definition.lr) != (
            demo.base, demo.dataset, demo.base_resolution, demo.epochs, demo.max_train_images, demo.batch_size,
            demo.lr):
        return None
    duration = ("about five minutes" if demo is DEMO else
                "about half an hour (a quarter of it timing the latency grid, which is cached for the next study; a "
                "latency study's proxy must be large enough to train with the compute its networks cost)")
    return (f"Demo: {demo.base} (B0's seven stages, at most two blocks each, width 0.375) at a "
            f"{demo.base_resolution} px proxy on the built-in synthetic task with 4 classes, {demo.epochs} epochs x "
            f"{demo.max_train_images:,} images, then the finalists on 3 fresh seeds and no refinement (--refine adds "
            f"it), so that resolution (gamma) can be searched on a 2-core CPU in {duration}; naming --base, "
            f"--dataset or --base-resolution studies that instead (B0 at "
            f"{CPU_SIZING.base_resolution} px on CPU, where gamma stays 1); on a GPU the default is "
            f"{EFFICIENTNET_B0.name} at the smallest proxy where gamma can be searched (160 px for the default grid) "
            f"on the 10-class task")


def resolve_for_device(definition: StudyDefinition, gpus: float) -> ResolvedDefinition:
    """Fill the options left unset with defaults sized to the cluster (GPU or CPU only), and on CPU to the base.

    On CPU a definition that names no proxy task (:func:`is_demo`) becomes the built-in demo (:data:`DEMO`).
    A definition resolved already comes back as it is (its device is ``cpu`` or ``cuda``, whatever ``gpus`` is).
    """
    if isinstance(definition, ResolvedDefinition):
        return definition
    use_gpu = definition.device.startswith("cuda") or (definition.device == "auto" and gpus > 0)
    if not use_gpu and is_demo(definition):
        demo = demo_task(definition)
        definition = replace(definition, base=demo.base, dataset=demo.dataset, base_resolution=demo.base_resolution,
                             epochs=demo.epochs, max_train_images=demo.max_train_images, batch_size=demo.batch_size,
                             lr=demo.lr, refine=demo.refine if definition.refine is None else definition.refine)
    sizing = GPU_SIZING if use_gpu else CPU_SIZING
    base_resolution = definition.base_resolution or (gpu_base_resolution(definition) if use_gpu
                                                     else sizing.base_resolution)
    if use_gpu:
        epochs, images = definition.epochs or sizing.epochs, sizing.max_train_images
    else:
        epochs, images = cpu_budget(study_base(definition), base_resolution, definition.epochs)
    options = {f.name: getattr(definition, f.name) for f in fields(StudyDefinition)}
    return ResolvedDefinition(**options | dict(
        device="cuda" if use_gpu else "cpu",
        base_resolution=base_resolution,
        epochs=epochs,
        batch_size=definition.batch_size or sizing.batch_size,
        max_candidates=definition.max_candidates if definition.max_candidates is not None or use_gpu
        else (sizing.max_candidates if definition.strategy == "grid" else None),
        cpus_per_trial=definition.cpus_per_trial or sizing.cpus_per_trial,
        finalist_seeds=definition.finalist_seeds or sizing.finalist_seeds,
        max_refine=definition.max_refine if definition.max_refine is not None or use_gpu else sizing.max_refine,
        max_train_images=definition.max_train_images or images,
        trials=definition.trials or (DEFAULT_TPE_TRIALS if definition.strategy == "tpe" else None),
    ))


def gpu_base_resolution(definition: StudyDefinition) -> int:
    """The proxy base resolution of a GPU study that names none: the smallest where γ can be searched for its grid.

    Looked for on :data:`~scaling_search.coefficients.faithfulness.DEFAULT_LADDER` (32 to 224 px)
    with the study's base, φ, ranges, step, tolerances and cost scale, and a 10-class proxy (the
    dataset is not read here; the classifier is a small part of the cost). The rule, and the
    fallback when no rung allows it, are :func:`~scaling_search.coefficients.faithfulness.default_resolution`'s.
    Counted in closed form, once per grid in a process (a few seconds; docs/proxy.md).

    Example:
        >>> from scaling_search.study.definition import StudyDefinition
        >>> gpu_base_resolution(StudyDefinition()), gpu_base_resolution(StudyDefinition(base="resnet50"))
        (160, 128)
    """
    multiple = definition.resolution_multiple
    spec = GridSpec.from_options(definition, base_resolution=math.ceil(MIN_RESOLUTION / multiple) * multiple,
                                 num_classes=PROXY_CLASSES, base=study_base(definition))  # each rung replaces it
    return default_resolution(spec)


def cpu_budget(base: BaseArchitecture, resolution: int, epochs: int | None = None) -> tuple[int, int]:
    """(epochs, training images per epoch) of a CPU study of ``base`` whose proxy starts at ``resolution`` px.

    B0's budget (:data:`CPU_SIZING`: 2 epochs of 1,000 images) shrinks by B0's MACs over ``base``'s,
    both unscaled at ``resolution`` px, so that a CPU study of any base trains about as many
    multiply-adds as B0's default; a cheaper base keeps B0's budget and just finishes sooner. An
    epoch has at least :data:`MIN_CPU_TRAIN_IMAGES` (two steps): when two epochs would have fewer
    each, the budget is spent in one epoch (``epochs`` left to the default), which also evaluates
    the validation images once instead of twice. For ResNet-50 (10× B0's MACs at 32 px, about 3×
    its CPU time per image at φ = 1) evaluation, which no cap shrinks, is most of a trial. Given
    ``epochs``, each gets B0's 1,000 images times the same ratio.

    Example:
        >>> from scaling_search.models.bases import EFFICIENTNET_B0, REGNET_Y_400MF, RESNET50
        >>> cpu_budget(EFFICIENTNET_B0, 32), cpu_budget(REGNET_Y_400MF, 32), cpu_budget(RESNET50, 32)
        ((2, 1000), (2, 958), (1, 203))
        >>> cpu_budget(EFFICIENTNET_B0, 32, epochs=5), cpu_budget(RESNET50, 32, epochs=2)
        ((5, 1000), (2, 128))
    """
    most, default_epochs = CPU_SIZING.max_train_images, CPU_SIZING.epochs
    assert most is not None
    ratio = 1.0
    if base != EFFICIENTNET_B0:
        b0 = analytic_counts(base_layout(resolution, SIZING_CLASSES)).macs
        ratio = min(1.0, b0 / analytic_counts(base_layout(resolution, SIZING_CLASSES, base=base)).macs)
    if epochs is None:
        epochs = default_epochs if most * ratio >= MIN_CPU_TRAIN_IMAGES else 1
        images = default_epochs * most * ratio / epochs
    else:
        images = most * ratio
    return epochs, max(MIN_CPU_TRAIN_IMAGES, min(most, round(images)))


def largest_resolution(definition: ResolvedDefinition) -> int:
    """An upper bound on any candidate's resolution, to render or store the data once."""
    gamma = definition.gamma_range[1] if definition.phi > 0 else definition.gamma_range[0]
    return max(8, math.ceil(definition.base_resolution * max(gamma, 1.0) ** abs(definition.phi) * 1.5))

"""The proxy trainer: one short, seeded training run of a layout, reduced to a :class:`ProxyResult`.

The data stays on the device as uint8 tensors. Each step gathers a batch by index from a seeded
permutation (the last partial batch is dropped), augments it on the device and trains — no
DataLoader, no per-image Python. The network runs in channels_last on every device. On CUDA the
step runs under bf16 autocast and is replayed as one CUDA graph (:mod:`scaling_search.training.step`); on
CPU it runs eagerly in fp32 on the cores the process may use. Before each evaluation the
BatchNorm statistics are recomputed over training images under the current weights ("precise
BN", see :mod:`scaling_search.training.recipe`).

A recipe with ``ema_decay`` keeps a weight average (:class:`~scaling_search.training.averaging.WeightAverage`)
and evaluates it instead of the last weights: validation and test accuracy, the curves and the
per-image correctness are all the average's, and precise BN recomputes the average's own
statistics. The average is updated eagerly after each step returns, outside any CUDA graph: the
graph (or the eager step) updates the weights in place, and the update, queued next on the same
stream, reads them there. Its tensors are its own, outside the graph's memory pool, so capture
and replay are as without it.

Outcomes are values, not exceptions: a non-finite training loss, or non-finite logits at an
evaluation, end the run as ``diverged``; CUDA running out of memory as ``oom``, any other error
inside training as ``failed``. Bad arguments raise ``InputError`` before anything runs;
``KeyboardInterrupt`` and exceptions raised by ``report`` (Optuna's ``TrialPruned``, say) pass
through unchanged.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
from torch import nn

from scaling_search.counting.analytic import analytic_counts
from scaling_search.data.augment import eval_batch, normalisation, train_batch
from scaling_search.data.dataset import ImageData
from scaling_search.errors import InputError
from scaling_search.models.network import build, count_parameters, zero_init_residuals
from scaling_search.models.scaling import Layout
from scaling_search.support.formatting import describe
from scaling_search.support.machine import GIB, available_cores, memory_fit, peak_rss_mb
from scaling_search.training.averaging import WeightAverage
from scaling_search.training.correctness import pack_correctness
from scaling_search.training.recipe import RECIPES, Budget, Recipe
from scaling_search.training.step import GraphedStep, StepMode, TrainStep, make_step, step_mode

Status = Literal["ok", "diverged", "oom", "failed"]
Report = Callable[[int, float, float], Any]
"""``report(epoch, val_acc, train_loss)`` after each epoch; epochs count from 1."""

CHECK_EVERY = 20
"""Steps between checks that the loss is finite: each check waits for the device."""
SETTLE_STEPS = 4
"""Steps left out of the throughput: the graph's eager warm-up (3) and its capture (1), or cuDNN autotuning."""
MAX_THREADS = 1024
"""Most CPU threads a run may ask for: more than any machine's cores, so a larger number is a typo."""


@dataclass(frozen=True)
class EpochProgress:
    """What a progress display shows after an epoch."""

    epoch: int
    epochs: int
    train_loss: float
    val_acc: float
    img_per_s: float | None
    elapsed_s: float


@dataclass(frozen=True)
class ProxyResult:
    """The outcome of one proxy run. Unmeasured values are None, never NaN.

    ``val_acc`` and ``test_acc`` are the final model's accuracies and are set only when the run
    finished (status ``ok``); the curves and ``best_val_acc`` keep the epochs that completed. With
    a recipe's ``ema_decay`` every accuracy is the weight average's.
    ``img_per_s`` counts training images over training time only (no evaluation, no graph
    warm-up or capture). ``peak_mem_mb`` is ``torch.cuda.max_memory_allocated`` on CUDA; on CPU
    it is how far the run raised the process's peak resident set size (``ru_maxrss``), so 0 when
    an earlier peak in the same process was higher, and None where the OS does not report it.

    Example (:func:`train_proxy` returns one):

        >>> from dataclasses import fields
        >>> from scaling_search.training.proxy import ProxyResult
        >>> [field.name for field in fields(ProxyResult)][:4]
        ['status', 'reason', 'val_acc', 'best_val_acc']
    """

    status: Status
    reason: str | None
    val_acc: float | None
    best_val_acc: float | None
    test_acc: float | None
    val_curve: tuple[float, ...]
    train_loss_curve: tuple[float, ...]
    epochs: int
    wall_s: float
    img_per_s: float | None
    peak_mem_mb: float | None
    params: int | None
    step_mode: StepMode | None
    graph_error: str | None
    """Why CUDA-graph capture failed when it did (the run then went on eagerly)."""
    device: str
    val_correct: str | None = None
    """Which validation images the final model got right, packed
    (:func:`scaling_search.training.correctness.pack_correctness`):
    what the verdicts of :mod:`scaling_search.stats.comparison` read. Set only when the run finished."""
    test_correct: str | None = None
    """The same for the test split, which judges the winner (the validation split picked it)."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["val_curve"] = list(self.val_curve)
        data["train_loss_curve"] = list(self.train_loss_curve)
        return data


class _Diverged(Exception):
    """The training loss, or the logits at an evaluation, stopped being finite."""


@dataclass
class _Run:
    """What a run has measured so far; filled in as it goes so a failed run still reports it."""

    val_curve: list[float]
    train_loss_curve: list[float]
    timed_images: int = 0
    timed_s: float = 0.0
    params: int | None = None
    step_mode: StepMode | None = None
    graph_error: str | None = None
    test_acc: float | None = None
    val_correct: str | None = None
    test_correct: str | None = None

    @property
    def img_per_s(self) -> float | None:
        return self.timed_images / self.timed_s if self.timed_s > 0 else None


def train_proxy(
    layout: Layout,
    data: ImageData,
    budget: Budget,
    recipe: Recipe = RECIPES["proxy"],
    seed: int = 0,
    device: str | torch.device = "cpu",
    report: Report | None = None,
    threads: int | None = None,
    graph: bool = True,
    progress: Callable[[EpochProgress], Any] | None = None,
) -> ProxyResult:
    """Train ``layout`` on ``data`` for ``budget`` with ``recipe`` and report how it went.

    ``threads`` sets the CPU's intra-op threads (default: the cores this process may run on) and
    is restored afterwards. ``graph=False`` keeps CUDA steps eager, for comparison. ``progress``
    receives an :class:`EpochProgress` after each epoch, before ``report``. Same seed, device and
    threads give the same accuracies on CPU.

    Example:
        >>> from scaling_search.data.load import load_dataset
        >>> from scaling_search.models.scaling import scale
        >>> from scaling_search.training.recipe import Budget
        >>> from scaling_search.training.proxy import train_proxy
        >>> data = load_dataset("synthetic:classes=2,train=64,test=16", resolution=16)
        >>> layout = scale(0.25, 0.25, resolution=16, num_classes=data.num_classes)
        >>> result = train_proxy(layout, data, Budget(epochs=1), threads=1)
        >>> result.status, result.epochs, result.step_mode
        ('ok', 1, 'eager')
    """
    device = torch.device(device)
    if layout.num_classes != data.num_classes:
        raise InputError(f"the layout has {layout.num_classes} classes but {data.name} has {data.num_classes}")
    check_threads(threads)
    if device.type == "cpu":
        check_fits_on_cpu(layout, epoch_shape(len(data.train_y), budget, recipe)[1])
    run = _Run(val_curve=[], train_loss_curve=[])
    started = time.perf_counter()
    rss_before = peak_rss_mb()
    status: Status = "ok"
    reason: str | None = None
    with contextlib.ExitStack() as stack:
        stack.enter_context(_device_scope(device, threads))
        epochs = _epochs(layout, data, budget, recipe, seed, device, graph, run)
        stack.callback(epochs.close)
        while True:
            try:
                record = next(epochs)
            except StopIteration:
                break
            except _Diverged as err:
                status, reason = "diverged", str(err)
            except torch.cuda.OutOfMemoryError as err:
                status, reason = "oom", describe(err)
            except Exception as err:
                status, reason = "failed", describe(err)
            if status != "ok":
                break
            if progress is not None:
                progress(record)
            if report is not None:
                report(record.epoch, record.val_acc, record.train_loss)
        peak = _peak_memory_mb(device, rss_before)
    return ProxyResult(
        status=status,
        reason=reason,
        val_acc=run.val_curve[-1] if status == "ok" else None,
        best_val_acc=max(run.val_curve, default=None),
        test_acc=run.test_acc if status == "ok" else None,
        val_correct=run.val_correct if status == "ok" else None,
        test_correct=run.test_correct if status == "ok" else None,
        val_curve=tuple(run.val_curve),
        train_loss_curve=tuple(run.train_loss_curve),
        epochs=len(run.val_curve),
        wall_s=time.perf_counter() - started,
        img_per_s=run.img_per_s,
        peak_mem_mb=peak,
        params=run.params,
        step_mode=run.step_mode,
        graph_error=run.graph_error,
        device=str(device),
    )


def _epochs(
    layout: Layout,
    data: ImageData,
    budget: Budget,
    recipe: Recipe,
    seed: int,
    device: torch.device,
    graph: bool,
    run: _Run,
) -> Generator[EpochProgress, None, None]:
    """Train epoch by epoch, yielding after each; the test accuracy is measured after the last."""
    started = time.perf_counter()
    torch.manual_seed(seed)  # model init, dropout and stochastic depth (inside fork_rng)
    generator = torch.Generator(device=device).manual_seed(seed)  # permutations and augmentation
    model = build(layout)
    if recipe.zero_init:
        zero_init_residuals(model)
    model = model.to(device).to(memory_format=torch.channels_last)  # faster than NCHW, on CPU too (docs/benchmarks.md)
    run.params = count_parameters(model)
    train_x, train_y = data.train_x.to(device), data.train_y.to(device)
    val_x, val_y = data.val_x.to(device), data.val_y.to(device)
    mean, std = normalisation(data, device)
    images, batch = epoch_shape(len(train_y), budget, recipe)
    steps_per_epoch = images // batch
    total_steps = steps_per_epoch * budget.epochs
    schedule = recipe.lr_schedule(batch, steps_per_epoch, total_steps)
    settle = min(SETTLE_STEPS, total_steps - 1)
    optimizer, step = make_step(model, recipe, (batch, 3, layout.resolution, layout.resolution), graph)
    run.step_mode = step_mode(step)
    average = None if recipe.ema_decay is None else WeightAverage(model, recipe.ema_decay)
    evaluator = _Evaluator(model if average is None else average.module,
                           step.step if isinstance(step, GraphedStep) else step, layout.resolution, mean, std,
                           recipe.eval_batch(layout.resolution))
    model.train()
    for epoch in range(1, budget.epochs + 1):
        first_step = (epoch - 1) * steps_per_epoch
        first_timed = max(0, settle - first_step)  # index in this epoch of the first step that counts for speed
        order = torch.randperm(len(train_y), generator=generator, device=device)
        loss_sum = torch.zeros((), device=device)
        timer = 0.0
        for i in range(steps_per_epoch):
            if i == first_timed:
                timer = _now(device)
            index = order[i * batch : (i + 1) * batch]
            x = train_batch(train_x[index], layout.resolution, recipe.augmentation, mean, std, generator=generator)
            optimizer.set_lr(schedule.rate(first_step + i))
            loss_sum += step(x, train_y[index])
            if average is not None:
                average.update_parameters(model)  # after the step's update, outside its graph
            if (i + 1) % CHECK_EVERY == 0 or i + 1 == steps_per_epoch:
                _check_finite(loss_sum, epoch, i + 1)
        epoch_img_per_s = None
        if first_timed < steps_per_epoch:
            seconds, timed = _now(device) - timer, (steps_per_epoch - first_timed) * batch
            run.timed_images += timed
            run.timed_s += seconds
            epoch_img_per_s = timed / seconds if seconds > 0 else None
        run.step_mode = step_mode(step)  # a failed capture falls back to eager in the first epoch
        run.graph_error = step.fallback_reason if isinstance(step, GraphedStep) else None
        train_loss = loss_sum.item() / steps_per_epoch
        evaluator.calibrate_batchnorm(train_x[order[: recipe.bn_calibration_images]])
        val_acc, val_right = evaluator.accuracy(val_x, val_y, "validation", epoch)
        run.val_curve.append(val_acc)
        run.train_loss_curve.append(train_loss)
        if epoch == budget.epochs:
            run.val_correct = pack_correctness(val_right.cpu().numpy())
            run.test_acc, test_right = evaluator.accuracy(data.test_x.to(device), data.test_y.to(device), "test", epoch)
            run.test_correct = pack_correctness(test_right.cpu().numpy())
        yield EpochProgress(epoch, budget.epochs, train_loss, val_acc, epoch_img_per_s, time.perf_counter() - started)


def check_threads(threads: int | None) -> None:
    """Raise InputError unless ``threads`` is None (the cores this process may use) or in [1, :data:`MAX_THREADS`]."""
    if threads is not None and not 1 <= threads <= MAX_THREADS:
        raise InputError(f"threads must lie in [1, {MAX_THREADS}], got {threads}")


def epoch_shape(train_images: int, budget: Budget, recipe: Recipe) -> tuple[int, int]:
    """(images trained on per epoch, images per step): the budget's cap, and no batch larger than an epoch."""
    images = min(train_images, budget.max_train_images or train_images)
    return images, min(recipe.train_batch_size, images)


def check_fits_on_cpu(layout: Layout, batch: int) -> None:
    """Refuse, before building it, a run whose weights, optimizer state and batch activations exceed the RAM.

    A rough lower bound: four float32 copies of the weights (weights, gradients, two optimizer
    buffers) and four of each conv and linear output per image (the output, its BatchNorm and
    activation, and the gradient). On CUDA running out of memory is caught and reported as ``oom``;
    on a CPU the kernel's OOM killer would end the process without a word.
    """
    counts = analytic_counts(layout)
    needed = 4 * (4 * counts.params + 4 * counts.activations * batch)
    fit = memory_fit(needed)
    if fit is not None and not fit.copies:
        raise InputError(f"training this network ({counts.params:,} parameters) at batch {batch} needs at least "
                         f"{needed / GIB:.1f} GiB, more than this machine's {fit.total / GIB:.1f} GiB; use a smaller "
                         "network, resolution or batch")


def _check_finite(loss_sum: torch.Tensor, epoch: int, steps: int) -> None:
    value = loss_sum.item()
    if not math.isfinite(value):
        raise _Diverged(f"training loss became {value} in epoch {epoch} by step {steps}")


@dataclass(frozen=True)
class _Evaluator:
    """Eager, no-grad forward passes in large batches, with the training step's autocast and memory format."""

    model: nn.Module
    step: TrainStep
    resolution: int
    mean: torch.Tensor
    std: torch.Tensor
    batch: int

    def _logits(self, images: torch.Tensor) -> torch.Tensor:
        x = eval_batch(images, self.resolution, self.mean, self.std)
        with self.step.autocast():
            return self.model(x.contiguous(memory_format=self.step.memory_format))

    @torch.no_grad()
    def accuracy(self, images: torch.Tensor, labels: torch.Tensor, split: str, epoch: int
                 ) -> tuple[float, torch.Tensor]:
        """Top-1 accuracy in eval mode, and which images were right (a bool tensor on the device); one host sync.

        Raises :class:`_Diverged`, naming ``split`` and ``epoch``, when any image's logits are not
        finite: ``argmax`` would count NaN logits as class 0 and record a broken network at chance.
        The count of such images is kept on the device beside the per-image correctness, so the
        check adds no sync.
        """
        right = torch.zeros(len(labels), dtype=torch.bool, device=labels.device)
        non_finite = torch.zeros((), dtype=torch.long, device=labels.device)
        self.model.eval()
        try:
            for start in range(0, len(images), self.batch):
                logits = self._logits(images[start : start + self.batch])
                right[start : start + self.batch] = logits.argmax(1) == labels[start : start + self.batch]
                non_finite += (~torch.isfinite(logits)).any(1).sum()
        finally:
            self.model.train()
        correct, bad = torch.stack([right.sum(), non_finite]).tolist()
        if bad:
            raise _Diverged(f"{split} logits were not finite for {bad} of {len(labels)} images at the "
                            f"evaluation after epoch {epoch}")
        return correct / len(labels), right

    @torch.no_grad()
    def calibrate_batchnorm(self, images: torch.Tensor) -> None:
        """Precise BatchNorm: set the running statistics to their average over ``images`` under the current weights.

        Batches are seen as at evaluation (whole image, no dropout or stochastic depth) with only
        the norms in training mode; momentum 1/k at the k-th batch makes the running values the
        plain average. The buffers are reset in place, so a captured graph keeps its addresses.
        """
        if len(images) == 0:
            return
        norms = [m for m in self.model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        momenta = [m.momentum for m in norms]
        self.model.eval()
        try:
            for norm in norms:
                norm.reset_running_stats()
                norm.train()
            for k, start in enumerate(range(0, len(images), self.batch), 1):
                for norm in norms:
                    norm.momentum = 1.0 / k
                self._logits(images[start : start + self.batch])
        finally:
            for norm, momentum in zip(norms, momenta, strict=True):
                norm.momentum = momentum
            self.model.train()


def _now(device: torch.device) -> float:
    """Host time once the device has finished the work queued so far."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


@contextlib.contextmanager
def _device_scope(device: torch.device, threads: int | None) -> Iterator[None]:
    """Forked RNG state, and per device: CPU threads, or the CUDA device with cuDNN autotuning; all restored."""
    with contextlib.ExitStack() as stack:
        if device.type == "cuda":
            stack.enter_context(torch.cuda.device(device))
            stack.enter_context(torch.random.fork_rng(devices=[torch.cuda.current_device()]))
            benchmark = torch.backends.cudnn.benchmark
            torch.backends.cudnn.benchmark = True
            stack.callback(setattr, torch.backends.cudnn, "benchmark", benchmark)
            torch.cuda.reset_peak_memory_stats()
            stack.callback(torch.cuda.empty_cache)
        else:
            stack.enter_context(torch.random.fork_rng(devices=[]))
            previous = torch.get_num_threads()
            torch.set_num_threads(threads or available_cores())
            stack.callback(torch.set_num_threads, previous)
        yield


def _peak_memory_mb(device: torch.device, rss_before: float | None) -> float | None:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    rss_after = peak_rss_mb()
    return None if rss_before is None or rss_after is None else rss_after - rss_before

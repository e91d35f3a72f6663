"""One training step — forward, loss, backward, optimizer update — run eagerly or replayed as a CUDA graph.

Short proxy runs of small networks are bound by kernel-launch overhead, not arithmetic: an
eager EfficientNet-B0 step at low resolution costs about the same whatever the batch
(docs/benchmarks.md). Capturing the *whole* step (as in PyTorch's "CUDA Graphs" notes, whole-network
capture) replays its ~thousands of kernels with one launch. For that the step must be
capturable end to end:

* the optimizer is a few ``torch._foreach_*`` calls over state allocated up front, and reads
  its learning rate from a 0-dim device tensor that :meth:`Optimizer.set_lr` fills before
  each replay (outside the graph), so the schedule needs no re-capture and no host sync;
* autocast runs with ``cache_enabled=False`` (required inside a capture);
* inputs and targets are copied into static buffers that the graph reads.

:class:`GraphedStep` runs the first few steps eagerly on a side stream (cuDNN autotuning and
lazy initialisation happen there, and they are real training steps), then captures, then
replays. If capture fails it falls back to eager steps and keeps the reason.
"""

from __future__ import annotations

import contextlib
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from scaling_search.support.formatting import describe
from scaling_search.training.recipe import Recipe

StepMode = Literal["graph", "eager"]
_NORMS = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm)


def param_groups(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """(decayed, not decayed): weight decay applies to conv and linear weights, never to norms or biases."""
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            if not param.requires_grad:
                continue
            if isinstance(module, _NORMS) or name == "bias":
                no_decay.append(param)
            else:
                decay.append(param)
    return decay, no_decay


class Optimizer:
    """SGD with Nesterov momentum, or TensorFlow-style RMSProp, as capturable foreach updates.

    SGD follows ``torch.optim.SGD(nesterov=True)``; RMSProp follows TensorFlow (and timm's
    ``RMSpropTF``): mean square starts at 1, epsilon inside the square root, learning rate inside
    the momentum buffer. Weight decay is L2 added to the gradient of the decayed group only.
    """

    def __init__(self, model: nn.Module, recipe: Recipe) -> None:
        decay, no_decay = param_groups(model)
        self.recipe = recipe
        self.params: list[torch.Tensor] = [*decay, *no_decay]
        self.decayed = len(decay)
        device = self.params[0].device
        self.lr = torch.zeros((), device=device)
        self.momentum_buffers = [torch.zeros_like(p) for p in self.params]
        self.square_avgs = [torch.ones_like(p) for p in self.params] if recipe.optimizer == "rmsprop" else []

    def set_lr(self, value: float) -> None:
        """Write the next step's learning rate into the device tensor the update reads."""
        self.lr.fill_(value)

    def zero_grad(self) -> None:
        for param in self.params:
            param.grad = None

    @torch.no_grad()
    def step(self) -> None:
        grads = [gradient(p) for p in self.params]
        decay, split = self.recipe.weight_decay, self.decayed
        if decay:
            grads = [*torch._foreach_add(grads[:split], self.params[:split], alpha=decay), *grads[split:]]
        if self.recipe.optimizer == "sgd":
            self._sgd(grads)
        else:
            self._rmsprop(grads)

    def _sgd(self, grads: list[torch.Tensor]) -> None:
        momentum = self.recipe.momentum
        torch._foreach_mul_(self.momentum_buffers, momentum)
        torch._foreach_add_(self.momentum_buffers, grads)
        updates = torch._foreach_add(grads, self.momentum_buffers, alpha=momentum)
        torch._foreach_mul_(updates, self.lr)
        torch._foreach_sub_(self.params, updates)

    def _rmsprop(self, grads: list[torch.Tensor]) -> None:
        decay = self.recipe.rmsprop_decay
        torch._foreach_mul_(self.square_avgs, decay)
        torch._foreach_addcmul_(self.square_avgs, grads, grads, value=1.0 - decay)
        denominators = torch._foreach_add(self.square_avgs, self.recipe.rmsprop_eps)
        torch._foreach_sqrt_(denominators)
        steps = torch._foreach_div(grads, denominators)
        torch._foreach_mul_(steps, self.lr)
        torch._foreach_mul_(self.momentum_buffers, self.recipe.momentum)
        torch._foreach_add_(self.momentum_buffers, steps)
        torch._foreach_sub_(self.params, self.momentum_buffers)


def gradient(param: torch.Tensor) -> torch.Tensor:
    """``param``'s gradient, which backward has just set: every parameter takes part in the forward pass."""
    if param.grad is None:
        raise RuntimeError(f"a parameter of shape {tuple(param.shape)} has no gradient: it took no part in the loss")
    return param.grad


class TrainStep:
    """Forward, label-smoothed cross-entropy, backward and update; channels_last, and bf16 autocast on CUDA.

    channels_last is the faster layout for this network on CPU as well: oneDNN's depthwise and
    pointwise convolutions are faster in it than in NCHW (figures in docs/benchmarks.md).
    """

    def __init__(self, model: nn.Module, optimizer: Optimizer, label_smoothing: float) -> None:
        self.model = model
        self.optimizer = optimizer
        self.label_smoothing = label_smoothing
        device = next(model.parameters()).device
        self.cuda = device.type == "cuda"
        self.memory_format = torch.channels_last

    def autocast(self) -> contextlib.AbstractContextManager:
        """bf16 autocast on CUDA (weight cache off, as graph capture requires); nothing on CPU."""
        if self.cuda:
            return torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False)
        return contextlib.nullcontext()

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One step on batch ``(x, y)``; returns the batch's mean loss as a 0-dim fp32 device tensor."""
        self.optimizer.zero_grad()
        with self.autocast():
            logits = self.model(x.contiguous(memory_format=self.memory_format))
        loss = F.cross_entropy(logits.float(), y, label_smoothing=self.label_smoothing)
        loss.backward()
        self.optimizer.step()
        return loss.detach()


class GraphedStep:
    """A :class:`TrainStep` captured as one CUDA graph after ``warmup`` eager steps on a side stream."""

    def __init__(self, step: TrainStep, batch_shape: tuple[int, int, int, int], warmup: int = 3) -> None:
        device = step.optimizer.lr.device
        self.step = step
        self.warmup = warmup
        self.calls = 0
        self.mode: StepMode = "graph"
        self.fallback_reason: str | None = None
        self.static_x = torch.empty(batch_shape, device=device).contiguous(memory_format=torch.channels_last)
        self.static_y = torch.zeros(batch_shape[0], dtype=torch.long, device=device)
        self.static_loss = torch.zeros((), device=device)
        self.side_stream = torch.cuda.Stream(device)
        self.graph: torch.cuda.CUDAGraph | None = None

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.static_x.copy_(x)
        self.static_y.copy_(y)
        self.calls += 1
        if self.mode == "eager":
            return self.step(self.static_x, self.static_y)
        if self.calls <= self.warmup:
            return self._side_stream_step()
        graph = self.graph if self.graph is not None else self._capture()
        if graph is None:
            return self.step(self.static_x, self.static_y)
        graph.replay()
        return self.static_loss

    def _side_stream_step(self) -> torch.Tensor:
        current = torch.cuda.current_stream(self.static_x.device)
        self.side_stream.wait_stream(current)
        with torch.cuda.stream(self.side_stream):
            self.static_loss.copy_(self.step(self.static_x, self.static_y))
        current.wait_stream(self.side_stream)
        return self.static_loss

    def _capture(self) -> torch.cuda.CUDAGraph | None:
        """Capture one step into a graph (nothing runs yet); on failure switch to eager, say why and return None."""
        graph = torch.cuda.CUDAGraph()
        self.step.optimizer.zero_grad()  # backward then allocates the gradients in the graph's pool
        stream = torch.cuda.current_stream(self.static_x.device)
        try:
            with torch.cuda.graph(graph):
                self.static_loss = self.step(self.static_x, self.static_y)
        except torch.cuda.OutOfMemoryError:
            raise
        except RuntimeError as err:
            # a capture invalidated inside the block fails again in capture_end, which can skip restoring the
            # stream; the first error is the cause
            torch.cuda.set_stream(stream)
            self.step.optimizer.zero_grad()
            self.mode = "eager"
            self.fallback_reason = describe(err.__context__ if isinstance(err.__context__, Exception) else err)
            return None
        self.graph = graph
        return graph


def make_step(
    model: nn.Module, recipe: Recipe, batch_shape: tuple[int, int, int, int], graph: bool
) -> tuple[Optimizer, TrainStep | GraphedStep]:
    """The optimizer and a callable ``step(x, y) -> loss``: graphed on CUDA when ``graph``, else eager."""
    optimizer = Optimizer(model, recipe)
    step = TrainStep(model, optimizer, recipe.label_smoothing)
    if graph and step.cuda:
        return optimizer, GraphedStep(step, batch_shape)
    return optimizer, step


def step_mode(step: TrainStep | GraphedStep) -> StepMode:
    return step.mode if isinstance(step, GraphedStep) else "eager"

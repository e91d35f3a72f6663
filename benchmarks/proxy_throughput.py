"""Training-step throughput of EfficientNet-B0: this project's step against timm's eager step, side by side.

For each resolution, on one device and one fixed random batch (already on the device):

* ``ours``       — this project's step (:mod:`scaling_search.training.step`): model, label-smoothed loss,
  backward and SGD-Nesterov update, replayed as one CUDA graph on CUDA (eager on CPU);
* ``ours eager`` — the same step run eagerly (CUDA only: on CPU ``ours`` is already eager);
* ``trainer``    — ``ours`` plus what the proxy trainer adds each step: gathering a batch of uint8
  images (stored at the training resolution) by index and preparing it on the device with the
  proxy recipe's augmentation, and setting the learning rate;
* ``timm eager`` — ``timm.create_model("efficientnet_b0")`` with ``torch.optim.SGD(nesterov=True)``,
  eager, the same batch, channels_last (the faster layout on CPU too), bf16 autocast on CUDA, the
  same dropout and stochastic depth (0.2), the same loss.

Images/s is the median over ``--repeats`` timings of ``--steps`` steps each, after warm-up (which
covers cuDNN autotuning and the graph's capture). ``--check`` instead compares a graphed step
with an eager step from the same weights, optimizer state, batch and learning rate (two
consecutive steps with different rates, for SGD and RMSProp), and exits 1 if the loss, the
gradient norms or the update norms differ by more than bf16 rounding allows.

    PYTHONPATH=. python benchmarks/proxy_throughput.py --device cuda
    PYTHONPATH=. python benchmarks/proxy_throughput.py --device cpu --resolutions 32 64 --batch 32 --steps 3
    PYTHONPATH=. python benchmarks/proxy_throughput.py --device cuda --check
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace

import torch
import torch.nn.functional as F

from scaling_search.data.augment import train_batch
from scaling_search.models.architecture import RELEASED_FAMILY
from scaling_search.models.network import build
from scaling_search.models.scaling import scale
from scaling_search.support.machine import available_cores
from scaling_search.training.recipe import RECIPES, Recipe
from scaling_search.training.step import GraphedStep, make_step, step_mode

GPU_BATCH = {32: 512, 64: 512, 128: 256, 224: 256}
TARGETS = {64: 3.0, 224: 1.1}
"""Wanted ratio ours / timm eager on CUDA at these resolutions (batches 512 and 256)."""
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
RECIPE = RECIPES["proxy"]
CHECK_TOLERANCE = 2e-2
"""Relative difference allowed between graphed and eager values: a few bf16 ulps (2^-8 ≈ 4e-3)."""


def main() -> int:
    args = parse_args()
    auto = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(auto if args.device == "auto" else args.device)
    if device.type == "cpu":
        torch.set_num_threads(args.threads or available_cores())
    else:
        torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    if args.check:
        return run_check(device, args.json)
    rows = [measure(res, batch_for(args, device, res), device, args) for res in args.resolutions]
    payload = {"device": device_name(device), "torch": torch.__version__, "threads": torch.get_num_threads(),
               "steps": args.steps, "repeats": args.repeats, "rows": rows}
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        print(f"B0 training step on {payload['device']}, torch {payload['torch']}, "
              f"{args.steps} steps x {args.repeats} repeats, median images/s")
        print(table(rows))
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--resolutions", type=int, nargs="+", default=[32, 64, 128, 224])
    parser.add_argument("--batch", type=int, help="batch for every resolution (default: 512/512/256/256 on CUDA, "
                                                  "32 on CPU)")
    parser.add_argument("--steps", type=int, help="timed steps per repeat (default 30 on CUDA, 3 on CPU)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (at least the graph's 3 + 1)")
    parser.add_argument("--threads", type=int, help="CPU threads (default: the cores this process may use)")
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--no-timm", action="store_true", help="skip the timm baseline")
    parser.add_argument("--check", action="store_true", help="graphed vs eager numerics instead of throughput")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.steps is None:
        args.steps = 3 if args.device == "cpu" else 30
    return args


def batch_for(args: argparse.Namespace, device: torch.device, resolution: int) -> int:
    if args.batch:
        return args.batch
    return GPU_BATCH.get(resolution, 256) if device.type == "cuda" else 32


def device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"


def measure(resolution: int, batch: int, device: torch.device, args: argparse.Namespace) -> dict:
    """Images/s of each variant at one resolution and batch; each variant frees its model before the next."""
    x = torch.randn(batch, 3, resolution, resolution, device=device)
    y = torch.randint(0, args.classes, (batch,), device=device)
    row: dict = {"resolution": resolution, "batch": batch}
    cuda = device.type == "cuda"
    row["ours"], row["step_mode"], row["graph_error"] = ours(x, y, args, graph=True)
    row["ours_eager"] = ours(x, y, args, graph=False)[0] if cuda else None  # on CPU, "ours" is eager
    row["trainer"] = ours(x, y, args, graph=True, pipeline=True)[0]
    row["timm_eager"] = None if args.no_timm else timm_eager(x, y, args)
    row["ratio"] = row["ours"] / row["timm_eager"] if row["timm_eager"] else None
    row["target"] = TARGETS.get(resolution) if cuda else None
    speeds = ", ".join(f"{k} {row[k]:.0f}" for k in ("ours", "ours_eager", "trainer", "timm_eager") if row[k])
    ratio = f", ours/timm {row['ratio']:.2f}" if row["ratio"] else ""
    print(f"res {resolution} batch {batch}: {speeds} images/s{ratio}", file=sys.stderr, flush=True)
    if cuda:
        torch.cuda.empty_cache()
    return row


def b0(resolution: int, classes: int, dropout: float = 0.2, drop_path: float = 0.2) -> torch.nn.Module:
    b0_model = RELEASED_FAMILY[0]
    layout = scale(b0_model.width, b0_model.depth, resolution, classes, dropout=dropout, drop_path=drop_path)
    return build(layout)


def ours(
    x: torch.Tensor, y: torch.Tensor, args: argparse.Namespace, graph: bool, pipeline: bool = False
) -> tuple[float, str, str | None]:
    """Images/s of this project's step, the step's mode, and why CUDA-graph capture failed if it did."""
    device = x.device
    model = b0(x.shape[-1], args.classes).to(device, memory_format=torch.channels_last)
    optimizer, step = make_step(model, RECIPE, tuple(x.shape), graph)
    if pipeline:
        images = torch.randint(0, 256, (4 * len(x), *x.shape[1:]), dtype=torch.uint8, device=device)
        labels = torch.randint(0, args.classes, (len(images),), device=device)
        mean = torch.tensor(MEAN, device=device).view(1, 3, 1, 1)
        std = torch.tensor(STD, device=device).view(1, 3, 1, 1)
        generator = torch.Generator(device=device).manual_seed(0)

        def run() -> torch.Tensor:
            index = torch.randint(0, len(images), (len(x),), device=device, generator=generator)
            batch = train_batch(images[index], x.shape[-1], RECIPE.augmentation, mean, std, generator=generator)
            optimizer.set_lr(0.1)
            return step(batch, labels[index])
    else:

        def run() -> torch.Tensor:
            optimizer.set_lr(0.1)
            return step(x, y)

    speed = images_per_second(run, len(x), device, args)
    return speed, step_mode(step), step.fallback_reason if isinstance(step, GraphedStep) else None


def timm_eager(x: torch.Tensor, y: torch.Tensor, args: argparse.Namespace) -> float:
    import timm

    device = x.device
    cuda = device.type == "cuda"
    model = timm.create_model("efficientnet_b0", num_classes=args.classes, drop_rate=0.2, drop_path_rate=0.2)
    model = model.to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=RECIPE.momentum, nesterov=True,
                                weight_decay=RECIPE.weight_decay)

    def run() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
            logits = model(x.contiguous(memory_format=torch.channels_last))
        loss = F.cross_entropy(logits.float(), y, label_smoothing=RECIPE.label_smoothing)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return images_per_second(run, len(x), device, args)


def images_per_second(run: Callable[[], torch.Tensor], batch: int, device: torch.device,
                      args: argparse.Namespace) -> float:
    for _ in range(args.warmup):
        run()
    speeds = []
    for _ in range(args.repeats):
        sync(device)
        start = time.perf_counter()
        for _ in range(args.steps):
            loss = run()
        float(loss)  # also waits for the device
        speeds.append(batch * args.steps / (time.perf_counter() - start))
    return statistics.median(speeds)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def table(rows: list[dict]) -> str:
    headers = ["res", "batch", "ours", "ours eager", "trainer", "timm eager", "ours/timm", "target", "ours step"]
    keys = ["resolution", "batch", "ours", "ours_eager", "trainer", "timm_eager", "ratio", "target", "step_mode"]
    formats = ["d", "d", ".0f", ".0f", ".0f", ".0f", ".2f", ".1f", "s"]
    cells = [headers] + [["-" if row[k] is None else format(row[k], f) for k, f in zip(keys, formats, strict=True)]
                         for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ---- numerics: graphed step against eager step ------------------------------------------------------------------


def run_check(device: torch.device, as_json: bool) -> int:
    """Two steps (different learning rates) graphed and eager from one state; per optimizer, relative differences."""
    cuda = device.type == "cuda"
    resolution, batch = (64, 128) if cuda else (32, 8)
    results = [check_optimizer(replace(RECIPE, optimizer=name, lr_per_256=lr), device, resolution, batch)
               for name, lr in (("sgd", 0.4), ("rmsprop", 0.016))]
    passed = all(r["passed"] for r in results)
    payload = {"device": device_name(device), "graph_available": cuda, "tolerance": CHECK_TOLERANCE,
               "passed": passed, "results": results}
    if as_json:
        print(json.dumps(payload, indent=2))
    else:
        if not cuda:
            print("no CUDA: comparing the eager step with itself (checks the plumbing only)")
        for r in results:
            print(f"{r['optimizer']:8s} step mode {r['step_mode']}: worst relative difference "
                  f"{r['worst']:.2e} ({r['worst_what']}) -> {'ok' if r['passed'] else 'FAIL'}")
            for what, diff in sorted(r["differences"].items(), key=lambda item: -item[1])[:4]:
                print(f"    {what:40s} {diff:.2e}")
    return 0 if passed else 1


def check_optimizer(recipe: Recipe, device: torch.device, resolution: int, batch: int) -> dict:
    torch.manual_seed(0)
    model = b0(resolution, 10, dropout=0.0, drop_path=0.0).to(device, memory_format=torch.channels_last)
    optimizer, step = make_step(model, recipe, (batch, 3, resolution, resolution), graph=True)
    batches = [(torch.randn(batch, 3, resolution, resolution, device=device),
                torch.randint(0, 10, (batch,), device=device)) for _ in range(6)]
    for x, y in batches[:4]:  # warm-up and capture (real steps: they change the weights)
        optimizer.set_lr(0.05)
        step(x, y)
    state = snapshot(model, optimizer)
    rates = (0.1, 0.03)  # differ from the capture's rate: the graph must read the rate from its tensor
    graphed = run_two(step, optimizer, model, batches[4:], rates)
    restore(model, optimizer, state)
    eager_step = step.step if isinstance(step, GraphedStep) else step
    eager = run_two(eager_step, optimizer, model, batches[4:], rates)
    differences = {what: relative(graphed[what], eager[what]) for what in graphed}
    worst_what = max(differences, key=differences.get)
    graphed_as_asked = device.type != "cuda" or step_mode(step) == "graph"  # eager vs eager proves nothing on CUDA
    return {"optimizer": recipe.optimizer, "step_mode": step_mode(step),
            "graph_error": step.fallback_reason if isinstance(step, GraphedStep) else None,
            "differences": differences, "worst": differences[worst_what], "worst_what": worst_what,
            "passed": graphed_as_asked and differences[worst_what] <= CHECK_TOLERANCE}


def run_two(step: Callable, optimizer, model: torch.nn.Module, batches, rates) -> dict[str, float]:
    """Losses, gradient norms and update norms of two consecutive steps."""
    named = dict(model.named_parameters())
    watched = [next(iter(named)), "blocks.7.branch.0.0.weight", "head.1.weight", "classifier.weight"]
    out: dict[str, float] = {}
    for k, ((x, y), rate) in enumerate(zip(batches, rates, strict=True), 1):
        before = {name: p.detach().clone() for name, p in named.items()}
        optimizer.set_lr(rate)
        out[f"step {k} loss"] = float(step(x, y))
        grads = {name: p.grad.float() for name, p in named.items()}
        updates = {name: p.detach() - before[name] for name, p in named.items()}
        out[f"step {k} total grad norm"] = total_norm(grads.values())
        out[f"step {k} total update norm"] = total_norm(updates.values())
        for name in watched:
            out[f"step {k} grad {name}"] = float(grads[name].norm())
            out[f"step {k} update {name}"] = float(updates[name].norm())
    return out


def total_norm(tensors) -> float:
    return float(torch.linalg.vector_norm(torch.cat([t.flatten() for t in tensors])))


def snapshot(model: torch.nn.Module, optimizer) -> list[torch.Tensor]:
    return [t.detach().clone() for t in stateful(model, optimizer)]


def restore(model: torch.nn.Module, optimizer, state: list[torch.Tensor]) -> None:
    """Copy the state back in place, so a captured graph sees it at the same addresses."""
    with torch.no_grad():
        for tensor, saved in zip(stateful(model, optimizer), state, strict=True):
            tensor.copy_(saved)


def stateful(model: torch.nn.Module, optimizer) -> list[torch.Tensor]:
    return [*model.parameters(), *model.buffers(), *optimizer.momentum_buffers, *optimizer.square_avgs]


def relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


if __name__ == "__main__":
    sys.exit(main())

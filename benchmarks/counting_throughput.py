"""How fast candidates' cost is measured: networks per second, ours against fvcore used the usual way.

A grid search measures every candidate network before training any, so this decides how long
`scaling-search candidates` and the start of `run` take. The public alternative is what one
writes with fvcore's documented API: build the network, then ``FlopCountAnalysis(model, x)``
(its conv and linear operators, the paper's convention) and ``ActivationCountAnalysis(model,
x).total()``: two traces. Ours is ``count_all``: one trace for both counts, and the distinct
uncached networks spread over worker processes. Both count the same
networks, one after another in one process first, then ours with its workers; no disk cache is
used (a fresh temporary folder), and every count is checked against the alternative's.

    PYTHONPATH=. python benchmarks/counting_throughput.py --networks 24 --resolution 224
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

PAPER_OPS = ("conv", "linear", "addmm", "matmul")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", type=at_least(1), default=24, help="distinct candidate networks to measure")
    parser.add_argument("--resolution", type=at_least(8), default=224, help="grid's base resolution (default 224)")
    parser.add_argument("--workers", type=at_least(1), help="our worker processes (default: one per core)")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args()


def at_least(low: int):
    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {text!r}")
        return value

    return parse


def grid_layouts(count: int, resolution: int) -> list:
    """``count`` distinct networks of the φ = 1 grid around the paper's point (nominal constraint, 10 % tolerance)."""
    from scaling_search.coefficients.grid import GridSpec, cost_layout, grid_points

    spec = GridSpec(phi=1.0, base_resolution=resolution, step=0.02, constraint="nominal", tolerance=0.1)
    distinct: dict[str, object] = {}
    for point in grid_points(spec):
        layout = cost_layout(spec, *point)
        distinct.setdefault(layout.structure_key(), layout)
        if len(distinct) == count:
            break
    return list(distinct.values())


def fvcore_usual(layout) -> tuple[int, int]:
    """The public way: FlopCountAnalysis and ActivationCountAnalysis, one trace each."""
    from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis

    from scaling_search.models.network import build

    model = build(layout).eval()
    x = torch.zeros(1, 3, layout.resolution, layout.resolution)
    flops = FlopCountAnalysis(model, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    activations = ActivationCountAnalysis(model, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    with torch.no_grad():
        by_operator = flops.by_operator()  # the paper counts conv and linear layers only
        return int(sum(by_operator[op] for op in PAPER_OPS)), int(activations.total())


def timed(function, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def main() -> int:
    args = parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    from scaling_search.counting.counter import PARALLEL_FROM, count_all, make_counter
    from scaling_search.support.machine import available_cores

    layouts = grid_layouts(args.networks, args.resolution)
    fvcore_usual(layouts[0])  # imports and first-trace costs out of the timings
    usual_s, usual = timed(lambda: [fvcore_usual(layout) for layout in layouts])
    workers = min(args.workers or available_cores(), len(layouts))
    runs = [("ours, 1 process", 1)]
    if workers > 1 and len(layouts) >= PARALLEL_FROM:  # fewer are measured in one process whatever workers says
        runs.append((f"ours, {workers} workers", workers))
    rows = []
    for label, worker_count in runs:
        with tempfile.TemporaryDirectory() as cache:
            seconds, counts = timed(count_all, make_counter("fvcore", Path(cache)), layouts, None, worker_count)
        for layout, (macs, activations) in zip(layouts, usual, strict=True):
            measured = counts[layout.structure_key()]
            assert (measured.macs, measured.activations) == (macs, activations), (layout, measured, macs)
        rows.append({"method": label, "networks_per_s": len(layouts) / seconds, "ratio": usual_s / seconds})
    rows.insert(0, {"method": "fvcore, usual", "networks_per_s": len(layouts) / usual_s, "ratio": 1.0})
    if args.json:
        print(json.dumps({"networks": len(layouts), "resolution": args.resolution, "cores": os.cpu_count(),
                          "rows": rows}, indent=2))
    else:
        print(f"{len(layouts)} distinct networks of the phi=1 grid at base resolution {args.resolution}, "
              "counts identical")
        print(f"{'method':<18}  {'networks/s':>10}  {'vs fvcore':>9}")
        for row in rows:
            print(f"{row['method']:<18}  {row['networks_per_s']:>10.2f}  {row['ratio']:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

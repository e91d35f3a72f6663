"""Do fresh latency measurements agree within the uncertainty they state? Ours against torch.utils.benchmark.

Times one network several times, each time afresh (no cache), three ways, and prints for each way
every call's median and stated ~95 % interval, the spread of the medians across calls (max / min),
in how many pairs of calls the two intervals overlap ("agree": two intervals that each cover the
true median with 95 % both cover it, so overlap, in at least 90 % of pairs) and, stricter, in how
many the second's median lies inside the first's interval ("inside"):

- ``processes``: ``measure_latency(processes=6)``, six fresh processes per call (flops' default);
- ``rounds``: ``measure_latency(processes=1)``, one process, rounds as the unit;
- ``torch.utils.benchmark``: ``Timer.adaptive_autorange`` in a fresh process per call, the public
  alternative; its stated interval is the median ± 2 × IQR / (1.349 √n) of its measurements (the
  normal-theory interval from the spread it reports), as it states no interval of its own.

Calls of the three ways are interleaved, so the machine's drift hits each alike. docs/benchmarks.md
records its output with the machine.

    PYTHONPATH=. python benchmarks/latency_agreement.py --calls 4
    PYTHONPATH=. python benchmarks/latency_agreement.py --base efficientnet_b0 --resolution 224 --json
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from itertools import combinations
from pathlib import Path

from scaling_search.counting.latency import LatencySettings, measure_latency
from scaling_search.models.bases import base_network
from scaling_search.models.layout import Layout
from scaling_search.models.scaling import base_layout


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="efficientnet_b0")
    parser.add_argument("--resolution", type=int, default=224)
    parser.add_argument("--calls", type=int, default=4, help="fresh calls per way (default 4)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    return parser.parse_args()


def torch_benchmark_call(layout: Layout) -> tuple[float, float, float]:
    """(median, low, high) in ms from ``torch.utils.benchmark.Timer.adaptive_autorange`` (run in a fresh process)."""
    import torch
    import torch.utils.benchmark as benchmark

    from scaling_search.models.network import build

    torch.set_num_threads(1)
    model = build(layout).eval()
    x = torch.randn(1, 3, layout.resolution, layout.resolution)
    with torch.inference_mode():
        measurement = benchmark.Timer("model(x)", globals={"model": model, "x": x}, num_threads=1).adaptive_autorange()
    median, iqr, n = measurement.median * 1e3, measurement.iqr * 1e3, len(measurement.times)
    half = 2 * iqr / (1.349 * math.sqrt(n))
    return median, median - half, median + half


def in_fresh_process(function, *args):
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def ours(layout: Layout, processes: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as cache:
        latency = measure_latency(layout, LatencySettings(), cache_dir=Path(cache), use_cache=False,
                                  processes=processes)
    return latency.median_ms, latency.low_ms or math.nan, latency.high_ms or math.nan


def summary(calls: list[tuple[float, float, float]], seconds: float) -> dict[str, object]:
    medians = [median for median, _, _ in calls]
    pairs = list(combinations(calls, 2))
    agree = sum(low <= other_high and other_low <= high for (_, low, high), (_, other_low, other_high) in pairs)
    inside = sum(low <= other <= high for (_, low, high), (other, _, _) in pairs)
    widths = [max(high / median - 1, 1 - low / median) for median, low, high in calls]
    return {"calls": [[round(v, 3) for v in call] for call in calls], "spread": max(medians) / min(medians),
            "mean_half_width": statistics.mean(widths), "agree": f"{agree} of {len(pairs)}",
            "inside": f"{inside} of {len(pairs)}",
            "seconds_per_call": seconds / len(calls)}


def main() -> None:
    args = parse_args()
    layout = base_layout(base=base_network(args.base), base_resolution=args.resolution)
    ways = {"processes (ours, 6 fresh processes)": lambda: ours(layout, 6),
            "rounds (ours, one process)": lambda: in_fresh_process(ours, layout, 1),
            "torch.utils.benchmark adaptive_autorange": lambda: in_fresh_process(torch_benchmark_call, layout)}
    calls: dict[str, list[tuple[float, float, float]]] = {name: [] for name in ways}
    seconds = dict.fromkeys(ways, 0.0)
    for _ in range(args.calls):
        for name, way in ways.items():
            started = time.perf_counter()
            calls[name].append(way())
            seconds[name] += time.perf_counter() - started
    rows = {name: summary(found, seconds[name]) for name, found in calls.items()}
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{args.base} at {args.resolution} px, CPU, batch 1, float32, 1 thread; {args.calls} fresh calls per way")
    print("| way | medians (ms) and stated intervals | spread max/min | mean stated ± | agree | inside | s per call |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, row in rows.items():
        shown = "; ".join(f"{m:.2f} ({lo:.2f}–{hi:.2f})" for m, lo, hi in row["calls"])  # type: ignore[union-attr]
        print(f"| {name} | {shown} | {row['spread']:.3f} | {100 * row['mean_half_width']:.1f} % | {row['agree']} | "
              f"{row['inside']} | {row['seconds_per_call']:.0f} |")


if __name__ == "__main__":
    main()

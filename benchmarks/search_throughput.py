"""Aggregate training throughput of a search with 1, 2 and 4 proxy runs sharing one GPU.

Ray Tune's fractional GPUs (``--trials-per-gpu N`` → ``num_gpus = 1/N``) start N worker
processes on the same device; this benchmark starts the same N processes directly, each a real
proxy run (``scaling-search train``: B0, CUDA graph, bf16) over the same data, so it also runs
where Ray is not installed (the GPU image used for our measurements has no Ray). Each run reports
its training images/s measured over its steady-state steps; runs are long enough that the N
overlap for nearly all of that time, so the aggregate is their sum. The wall time of the whole
group (start-up, data loading, graph capture, evaluation included) is reported beside it.

    PYTHONPATH=. python benchmarks/search_throughput.py --dataset npz:cifar.npz --resolution 64
    PYTHONPATH=. python benchmarks/search_throughput.py --device cpu --concurrency 1 2 --epochs 1 \\
        --dataset synthetic:classes=10,train=1000,test=100 --resolution 32 --batch-size 32

Target on one GPU: aggregate ≥ 1.5× at 4 runs against 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

TARGET_AT_FOUR = 1.5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--dataset", default="synthetic:classes=10,train=20000,test=1000")
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--threads", type=int, default=2, help="CPU threads per run")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args()


def run_group(args: argparse.Namespace, count: int) -> dict:
    command = [sys.executable, "-m", "scaling_search", "train", "--model", "b0", "--resolution",
               str(args.resolution), "--dataset", args.dataset, "--epochs", str(args.epochs), "--batch-size",
               str(args.batch_size), "--device", args.device, "--threads", str(args.threads), "--json"]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    start = time.perf_counter()
    processes = [subprocess.Popen([*command, "--seed", str(seed)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env) for seed in range(count)]
    results = []
    for process in processes:
        out, err = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"a run failed ({process.returncode}): {err.strip().splitlines()[-1:]}")
        results.append(json.loads(out))
    wall = time.perf_counter() - start
    rates = [r["img_per_s"] for r in results]
    if None in rates:
        raise SystemExit("a run finished without a throughput (too few steps to time); train longer")
    return {"runs": count, "aggregate_img_per_s": sum(rates), "per_run_img_per_s": rates, "group_wall_s": wall,
            "step_modes": sorted({r.get("step_mode") for r in results})}


def main() -> int:
    args = parse_args()
    rows = [run_group(args, count) for count in args.concurrency]
    base = rows[0]["aggregate_img_per_s"]
    for row in rows:
        row["ratio"] = row["aggregate_img_per_s"] / base
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"{'runs':>4}  {'aggregate img/s':>15}  {'ratio':>6}  {'group wall s':>12}  step")
        for row in rows:
            print(f"{row['runs']:>4}  {row['aggregate_img_per_s']:>15.0f}  {row['ratio']:>6.2f}  "
                  f"{row['group_wall_s']:>12.1f}  {','.join(map(str, row['step_modes']))}")
        four = next((r for r in rows if r["runs"] == 4), None)
        if four:
            verdict = "meets" if four["ratio"] >= TARGET_AT_FOUR else "misses"
            print(f"4 runs per device: {four['ratio']:.2f}x one run ({verdict} the {TARGET_AT_FOUR}x target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

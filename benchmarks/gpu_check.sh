#!/usr/bin/env bash
# GPU check of the proxy trainer on one CUDA GPU (written for an H100/H200 with 16 CPUs), in under 8 minutes:
#   1. versions: nvidia-smi, torch, CUDA, timm
#   2. numerics: a CUDA-graphed training step against the eager step (SGD and RMSProp), bf16 tolerance
#   3. throughput: B0's step at resolutions 32/64/128/224, graphed (ours) vs timm's efficientnet_b0 eager
#      (targets: ours >= 3x timm at 64 px batch 512, >= 1.1x at 224 px batch 256)
#   4. data: .gpudata/cifar10-jpeg-arrays.npz, made by .gpudata/materialize.py when absent
#   5. training: `scaling-search train` of B0 at resolution 64 on that CIFAR-10, 2 epochs, --json
#      (on the built-in synthetic data instead, and said so, when .gpudata/ was not carried along)
#   6. latency: `scaling-search flops --cost latency --cost-device cuda` of B0 (batch 64, bf16), issue #23
#   7. batch preparation: on-device augmentation vs torchvision's DataLoader pipeline (benchmarks/data_pipeline.py)
#   8. a summary table of all of the above, printed last
# Every step has its own timeout, so one hang cannot eat the others; a failed step is reported and the
# rest still run. Needs torch, torchvision and timm; no ray, optuna, fvcore, network or pip install.
#
#   bash benchmarks/gpu_check.sh        # from anywhere; logs and JSON go to $OUT when set, else a temp dir
# $OUT ends with two files: summary.txt and gpu_check.tgz (every log and JSON), as a device tool may return few files.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
RESULTS="${OUT:-$(mktemp -d /tmp/gpu_check.XXXXXX)}"
OUT="$RESULTS/gpu_check"  # everything goes here first, then into one archive beside the summary
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
CIFAR=.gpudata/cifar10-jpeg-arrays.npz
DATASET="npz:$CIFAR"
if [ ! -f "$CIFAR" ] && [ ! -f .gpudata/cifar10-jpeg.npz ]; then
    DATASET="synthetic"
    echo "!!! .gpudata/cifar10-jpeg.npz is missing: training on the built-in synthetic data instead of CIFAR-10"
fi
: > "$OUT/steps.tsv"

# step NAME SECONDS COMMAND...: run COMMAND under a timeout, stdout+stderr to the terminal and $OUT/NAME.log
step() {
    local name=$1 limit=$2 start=$SECONDS rc
    shift 2
    echo "=== $name (at most ${limit}s)"
    timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$OUT/$name.log"
    rc=${PIPESTATUS[0]}
    printf '%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - start))" >> "$OUT/steps.tsv"
    echo "=== $name: exit $rc after $((SECONDS - start))s"
}

step versions 20 bash -c "nvidia-smi; $PY -c 'import torch, timm; print(\"torch\", torch.__version__, \"cuda\",
    torch.version.cuda, \"cudnn\", torch.backends.cudnn.version(), torch.cuda.get_device_name(0), \"timm\",
    timm.__version__)'"
step numerics 60 bash -c "$PY benchmarks/proxy_throughput.py --device cuda --check --json > '$OUT/numerics.json'"
# the resolutions with targets first: if this times out, throughput.log still has the rows measured so far
step throughput 140 bash -c "$PY benchmarks/proxy_throughput.py --device cuda --resolutions 64 224 32 128 \
    --steps 10 --repeats 3 --json > '$OUT/throughput.json'"
if [ "$DATASET" != synthetic ]; then
    step cifar10_data 70 bash -c "test -f $CIFAR || $PY .gpudata/materialize.py .gpudata/cifar10-jpeg.npz .gpudata --arrays"
fi
step train_cifar10 80 bash -c "$PY -m scaling_search train --model b0 --resolution 64 --dataset $DATASET \
    --epochs 2 --device cuda --json > '$OUT/train_cifar10.json'"
# issue #23: B0's latency on this GPU (inference, batch 64, bf16) against its MACs: fvcore is not on the GPU image
step latency 25 bash -c "$PY -m scaling_search flops --model b0 --cost latency --cost-device cuda --counter analytic \
    --latency-batch-size 64 --latency-dtype bfloat16 --json > '$OUT/latency.json'"
step data_pipeline 30 bash -c "$PY benchmarks/data_pipeline.py --device cuda --storage 32 --resolutions 64 224 \
    --workers 8 --json > '$OUT/data_pipeline.json'"

step summary 15 "$PY" - "$OUT" "$DATASET" <<'EOF'
import json, sys
from pathlib import Path

out = Path(sys.argv[1])


def load(name):
    try:
        return json.loads((out / name).read_text())
    except (OSError, ValueError):
        return None


def show(value, spec):
    width = "".join(c for c in spec.split(".")[0] if c.isdigit())
    return f"{'-':>{width or 1}}" if value is None else format(value, spec)


print(f"\nGPU check summary ({out})")
print("step            exit  seconds")
for line in (out / "steps.tsv").read_text().splitlines():
    name, rc, seconds = line.split("\t")
    print(f"{name:14s} {rc:>5s} {seconds:>8s}" + ("" if rc == "0" else "  <-- FAILED"))

numerics = load("numerics.json")
if numerics:
    print(f"\nnumerics (graph vs eager, tolerance {numerics['tolerance']}): "
          + ("PASS" if numerics["passed"] else "FAIL"))
    for r in numerics["results"]:
        print(f"  {r['optimizer']:8s} step {r['step_mode']:5s} worst {r['worst']:.2e} ({r['worst_what']})"
              + (f"  capture failed: {r['graph_error']}" if r.get("graph_error") else ""))

throughput = load("throughput.json")
if throughput:
    print(f"\nthroughput on {throughput['device']}, images/s, median of {throughput['repeats']} x "
          f"{throughput['steps']} steps")
    print("  res  batch    ours  ours eager  trainer  timm eager  ours/timm  target  ours step")
    for r in sorted(throughput["rows"], key=lambda row: row["resolution"]):
        verdict = "" if r["target"] is None or r["ratio"] is None else (
            "  met" if r["ratio"] >= r["target"] else "  MISSED")
        print(f"  {r['resolution']:3d}  {r['batch']:5d}  {show(r['ours'], '6.0f')}  {show(r['ours_eager'], '10.0f')}"
              f"  {show(r['trainer'], '7.0f')}  {show(r['timm_eager'], '10.0f')}  {show(r['ratio'], '9.2f')}"
              f"  {show(r['target'], '6.1f')}  {r['step_mode']:>9s}{verdict}")
        if r.get("graph_error"):
            print(f"       capture failed at {r['resolution']} px: {r['graph_error']}")

train = load("train_cifar10.json")
if train:
    print(f"\n{sys.argv[2]}, B0 at 64 px, {train['epochs']} epochs: status {train['status']}"
          f"{'' if train['reason'] is None else ' (' + train['reason'] + ')'}, step {train['step_mode']}"
          + (f", capture failed: {train['graph_error']}" if train.get("graph_error") else ""))
    print(f"  val acc {show(train['val_acc'], '.4f')}  test acc {show(train['test_acc'], '.4f')}"
          f"  train img/s {show(train['img_per_s'], '.0f')}  wall {show(train['wall_s'], '.1f')} s"
          f"  peak {show(train['peak_mem_mb'], '.0f')} MB  val curve {train['val_curve']}")

latency = load("latency.json")
if latency:
    print(f"\nlatency of B0 at {latency['resolution']} px on {latency['cost_device']}, batch "
          f"{latency['latency_settings']['batch_size']} {latency['latency_settings']['dtype']}: median "
          f"{latency['latency_ms']:.3f} ms, IQR {latency['latency_iqr_ms']:.3f} ms over {latency['latency_blocks']} blocks, "
          f"peak memory {show(latency['peak_memory_bytes'], '.0f')} bytes")

data = load("data_pipeline.json")
if data:
    print(f"\nbatch preparation from {data['storage']} px, batch {data['batch']}, images/s "
          f"(torchvision: {data['workers']} DataLoader workers)")
    for r in data["rows"]:
        print(f"  res {r['resolution']:3d}  ours {r['ours']:9.0f}  torchvision {r['torchvision']:8.0f}"
              f"  ratio {r['ratio']:6.1f}")
EOF

cp "$OUT/summary.log" "$RESULTS/summary.txt" 2>/dev/null
tar czf "$RESULTS/gpu_check.tgz" -C "$RESULTS" gpu_check && rm -rf "$OUT"
echo "results: $RESULTS/summary.txt and $RESULTS/gpu_check.tgz"

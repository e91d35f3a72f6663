"""``scaling-search flops``: one network's params, MACs, activations and realised layout, and its latency if asked."""

from __future__ import annotations

import argparse
import math
import time
import warnings

from scaling_search.cli import flags
from scaling_search.cli.common import UsageError, add_output_flags, emit, fmt, progress, render_table
from scaling_search.counting.counter import count
from scaling_search.counting.latency import (
    MAX_ROUNDS,
    MEDIAN_PRECISION,
    MIN_ROUNDS,
    ROUND_BLOCKS,
    Latency,
    LatencyProgress,
    LatencySettings,
    measure_latency,
)
from scaling_search.models.architecture import EFFICIENTNET_B0, IMAGENET_CLASSES
from scaling_search.models.choice import choose_layout

NO_HEAD = "none (the classifier reads the last stage)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "flops",
        help="params, MACs and activations of one network",
        description="Count one network, named by width/depth multipliers of the base (--base, default B0), by\n"
        "compound scaling, by a released name (B0 only) or by a layout file (default: the base at its own\n"
        "resolution, 224 px for B0).\n\n"
        "  scaling-search flops --width 1.1 --depth 1.2 --resolution 260\n"
        "  scaling-search flops --alpha 1.2 --beta 1.1 --gamma 1.15 --phi 2\n"
        "  scaling-search flops --model b7 --json\n"
        "  scaling-search flops --base resnet50 --width 0.75 --depth 1.5\n"
        "  scaling-search flops --model b0 --cost latency --cost-device cpu --json\n"
        "  scaling-search flops --model b0 --cost latency --latency-threads 4 --latency-channels-last\n"
        "  scaling-search flops --model b2 --cost latency --cost-device cuda --latency-batch-size 64 \\\n"
        "                       --latency-dtype bfloat16 --latency-mode train\n\n"
        "MACs count conv and linear layers (SE convs included), as in the paper.\n\n"
        "--cost latency also times the network on --cost-device, by default in 6 fresh processes, one after\n"
        f"another: in each, after a warm-up, {MIN_ROUNDS} rounds of {ROUND_BLOCKS} blocks of calls (a block about "
        "50 ms). A process lands\n"
        "in a state that lasts as long as it does (on a shared VM, B0 moved by 30 % from one process to the\n"
        "next while each one's rounds agreed to 2 %), so each process's median is one observation: latency_ms\n"
        "is their median (the time of one call, a batch of --latency-batch-size images) and\n"
        "latency_low_ms..latency_high_ms its distribution-free 95 % interval; a warning says when that is wider\n"
        f"than ±{100 * MEDIAN_PRECISION:g} %. --latency-processes 1 times in this process only, in rounds until "
        f"±{100 * MEDIAN_PRECISION:g} % or {MAX_ROUNDS}\n"
        "rounds (faster; its interval covers that one process's noise only). latency_iqr_ms is the spread of\n"
        "the blocks (interquartile range); peak_memory_bytes is what the network took on a CUDA device. Times\n"
        "are cached per network, device, torch version and settings: a repeat is served from the cache\n"
        "(from_cache: true), and --no-latency-cache times afresh. Time on an otherwise idle device, never while\n"
        "a search trains on it (docs/costs.md).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    network = parser.add_argument_group("network")
    flags.BASE.add(network, sets_default=False)
    flags.add_network_flags(network, "the base's own")
    flags.NUM_CLASSES.add(parser, IMAGENET_CLASSES, sets_default=False,
                          help="classifier outputs; a --config layout keeps its own unless this is given")
    flags.COUNTER.add(parser)
    flags.COST.add(parser)
    latency_group = parser.add_argument_group("latency (with --cost latency)")
    flags.add_latency_flags(latency_group)
    flags.LATENCY_PROCESSES.add(latency_group, sets_default=False)
    add_output_flags(parser, rows=False)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    base = None if args.base is None else flags.chosen_base(args)
    given = flags.latency_flags_given(args) + (["--latency-processes"] if args.latency_processes is not None else [])
    if given and args.cost != "latency":
        raise UsageError(f"{', '.join(given)} apply only with --cost latency")
    settings = flags.latency_settings(args) if args.cost == "latency" else None
    layout = choose_layout(**flags.network_options(args), num_classes=args.num_classes, base=base)
    counts = count(layout, args.counter)
    payload: dict[str, object] = {
        "width": layout.width,
        "depth": layout.depth,
        "resolution": layout.resolution,
        "num_classes": layout.num_classes,
        "params": counts.params,
        "macs": counts.macs,
        "activations": counts.activations,
        "stem": layout.stem,
        "head": layout.head,
        "channels": layout.channels,
        "repeats": layout.repeats,
    }
    if layout.base != EFFICIENTNET_B0.name:  # the default base goes unnamed, like every flag left at its default
        payload["base"] = layout.base
    if args.cost != flags.COST.default:
        payload["cost_kind"] = args.cost
    summary = (
        f"{layout.base}  width {layout.width:g}  depth {layout.depth:g}  resolution {layout.resolution}  "
        f"classes {layout.num_classes}\n"
        f"params {counts.params:,}   MACs {counts.macs / 1e9:.4f} G   activations {counts.activations / 1e6:.2f} M\n"
        f"stem {layout.stem}  head {NO_HEAD if layout.head is None else layout.head}\n"
    )
    if settings is not None:
        if settings.compile:
            progress("compiling the network before timing it (a minute or more)")
        processes = flags.LATENCY_PROCESSES.default if args.latency_processes is None else args.latency_processes
        latency = measure_latency(layout, settings, use_cache=not args.no_latency_cache, processes=processes,
                                  progress=latency_progress(processes))
        if latency.half_width > MEDIAN_PRECISION:
            warnings.warn(f"the latency is known only to {spread(latency.half_width)} after {latency.rounds} rounds "
                          f"in {latency.processes} process{'es' if latency.processes > 1 else ''} "
                          f"(±{100 * MEDIAN_PRECISION:g} % wanted): the machine is too noisy; close other work"
                          + (" or use fewer --latency-threads" if settings.device == "cpu" else ""), stacklevel=1)
        payload.update(latency_payload(latency))
        summary += latency_lines(latency)
    summary += "\n"
    stages = [
        {"stage": i + 1, "block": s.block, "kernel": s.kernel, "stride": s.stride, "expand": s.expand_ratio,
         "in": s.in_channels, "out": s.out_channels, "repeats": s.repeats}
        for i, s in enumerate(layout.stages)
    ]
    columns = [("stage", "stage", fmt("d")), ("block", "block", fmt("s"))]
    columns += [(key, key, fmt("d")) for key in ("kernel", "stride", "expand", "in", "out", "repeats")]
    emit(args, payload, summary + render_table(stages, columns))
    return 0


def latency_payload(latency: Latency) -> dict[str, object]:
    """The JSON keys ``--cost latency`` adds."""
    return {
        "latency_ms": latency.median_ms,
        "latency_low_ms": latency.low_ms,
        "latency_high_ms": latency.high_ms,
        "latency_iqr_ms": latency.iqr_ms,
        "latency_processes": latency.processes,
        "latency_rounds": latency.rounds,
        "latency_blocks": latency.blocks,
        "latency_pinned": latency.half_width <= MEDIAN_PRECISION,
        "peak_memory_bytes": latency.peak_memory_bytes,
        "cost_device": latency.device_name,
        "latency_settings": latency.settings.to_dict(),
        "torch_version": latency.torch_version,
        "from_cache": latency.from_cache,
    }


def latency_lines(latency: Latency) -> str:
    """The table's lines about the latency: the median and its uncertainty, then what it was measured on."""
    interval = "" if latency.low_ms is None or latency.high_ms is None else (
        f"; 95 % interval {latency.low_ms:.3g}–{latency.high_ms:.3g} ms, {spread(latency.half_width)}")
    over = (f"median of {latency.processes} fresh processes, {latency.rounds} rounds of {ROUND_BLOCKS} blocks"
            if latency.processes > 1 else f"median of {latency.rounds} rounds of {ROUND_BLOCKS} blocks")
    lines = [f"latency {latency.median_ms:.3g} ms per call ({over}{interval}; "
             f"IQR {latency.iqr_ms:.2g} ms)",
             f"  on {latency.device_name} ({settings_words(latency.settings)}), torch {latency.torch_version}, "
             + ("from the cache" if latency.from_cache else "measured now")]
    if latency.peak_memory_bytes is not None:
        lines.append(f"  peak memory {latency.peak_memory_bytes / 2**20:,.1f} MiB")
    return "\n".join(lines) + "\n"


def settings_words(settings: LatencySettings) -> str:
    """'cpu, batch 1, float32, 1 thread, inference' and the switches that are on."""
    words = [settings.device, f"batch {settings.batch_size}", settings.dtype]
    if settings.device == "cpu":
        words.append(f"{settings.threads} thread{'s' if settings.threads > 1 else ''}")
    words += [name for name, on in (("channels-last", settings.channels_last), ("compiled", settings.compile)) if on]
    return ", ".join([*words, settings.mode])


def spread(half_width: float) -> str:
    """±2.1 %, or 'not at all' when there is no interval yet."""
    return "not at all" if math.isinf(half_width) else f"±{100 * half_width:.1f} %"


def latency_progress(processes: int, quiet_s: float = 3.0, every_s: float = 5.0) -> LatencyProgress:
    """A progress line on stderr while latency is measured (in ``processes`` processes), silent for ``quiet_s`` s."""
    started = time.monotonic()
    shown: float | None = None

    def show(done: int, half_width: float) -> None:
        nonlocal shown
        now = time.monotonic()
        if now - started < quiet_s or (shown is not None and now - shown < every_s):
            return
        shown = now
        so_far = (f"{done} of {processes} processes" if processes > 1
                  else f"{done} rounds ({MAX_ROUNDS} at most)")
        progress(f"measuring latency: {so_far}, the median known to {spread(half_width)} "
                 f"(±{100 * MEDIAN_PRECISION:g} % wanted)")

    return show

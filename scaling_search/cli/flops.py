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
        "--cost latency also times the network on --cost-device: after a warm-up, in blocks of calls (about\n"
        f"50 ms each), {ROUND_BLOCKS} blocks to a round, until the median round is known to "
        f"±{100 * MEDIAN_PRECISION:g} % (a distribution-\n"
        f"free 95 % interval over the rounds) or {MAX_ROUNDS} rounds are spent; a warning says when it is still "
        "wider.\n"
        "Rounds, not blocks, are the unit of the interval, as a shared machine's speed wanders from one second\n"
        "to the next. latency_ms is the median time of one call (a batch of --latency-batch-size images),\n"
        "latency_low_ms..latency_high_ms its 95 % interval, latency_iqr_ms the spread of the blocks\n"
        "(interquartile range); peak_memory_bytes is what the network took on a CUDA device. Times are cached\n"
        "per network, device, torch version and settings: a repeat is served from the cache (from_cache: true),\n"
        "and --no-latency-cache times afresh. Time on an otherwise idle device, never while a search trains on\n"
        "it (docs/costs.md).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    network = parser.add_argument_group("network")
    flags.BASE.add(network, sets_default=False)
    flags.add_network_flags(network, "the base's own")
    flags.NUM_CLASSES.add(parser, IMAGENET_CLASSES, sets_default=False,
                          help="classifier outputs; a --config layout keeps its own unless this is given")
    flags.COUNTER.add(parser)
    flags.COST.add(parser)
    flags.add_latency_flags(parser.add_argument_group("latency (with --cost latency)"))
    add_output_flags(parser, rows=False)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    base = None if args.base is None else flags.chosen_base(args)
    given = flags.latency_flags_given(args)
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
        latency = measure_latency(layout, settings, use_cache=not args.no_latency_cache,
                                  progress=latency_progress())
        if latency.half_width > MEDIAN_PRECISION:
            warnings.warn(f"the latency is known only to {spread(latency.half_width)} after {latency.rounds} rounds "
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
    lines = [f"latency {latency.median_ms:.3g} ms per call (median of {latency.rounds} rounds of "
             f"{ROUND_BLOCKS} blocks{interval}; "
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


def latency_progress(quiet_s: float = 3.0, every_s: float = 5.0) -> LatencyProgress:
    """A progress line on stderr while latency is measured, silent for the first ``quiet_s`` seconds."""
    started = time.monotonic()
    shown: float | None = None

    def show(rounds: int, half_width: float) -> None:
        nonlocal shown
        now = time.monotonic()
        if now - started < quiet_s or (shown is not None and now - shown < every_s):
            return
        shown = now
        progress(f"measuring latency: {rounds} rounds, the median known to {spread(half_width)} "
                 f"(±{100 * MEDIAN_PRECISION:g} % wanted, {MAX_ROUNDS} rounds at most)")

    return show

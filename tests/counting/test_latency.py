"""Latency as a cost: settings checked, the cache keyed and reused, the intervals calibrated, a real measurement.

Timing is injected (fake block timers) wherever the numbers matter, so no test depends on how busy
the machine is; the real timer runs once per mode on a tiny network, and only its shape is checked.
"""

from __future__ import annotations

import json
import math
import random
import statistics
from dataclasses import replace

import pytest
import torch

from scaling_search.counting import latency as latency_module
from scaling_search.counting.latency import (
    LatencySettings,
    device_name,
    latency_key,
    latency_ratio,
    measure_latency,
    median_interval,
    paired_ratio_interval,
    relative_half_width,
)
from scaling_search.errors import InputError
from scaling_search.models.bases import base_network
from scaling_search.models.scaling import base_layout, scale
from scaling_search.support.machine import available_cores

BASE = scale(resolution=32, num_classes=10)
WIDE = scale(width=1.5, resolution=32, num_classes=10)
DEMO = base_layout(base=base_network("efficientnet_demo"), base_resolution=32, num_classes=10)


class CountingTimer:
    """A fake block timer: ``ms`` per call for BASE and ``ratio`` times that for any other network, with noise.

    ``noise`` is the sd of a log-normal factor on each block (seeded); ``drift`` slows the machine down by
    that share per block timed, whichever network runs. It records each call as (layout, blocks).
    """

    def __init__(self, ms: float = 4.0, ratio: float = 2.0, noise: float = 0.002, drift: float = 0.0,
                 seed: int = 0) -> None:
        self.ms, self.ratio, self.noise, self.drift = ms, ratio, noise, drift
        self.random = random.Random(seed)
        self.calls: list[tuple[object, int]] = []
        self.timed = 0

    def __call__(self, layout, settings, blocks):
        self.calls.append((layout, blocks))
        typical = self.ms * (1.0 if layout == BASE else self.ratio)
        times = []
        for _ in range(blocks):
            self.timed += 1
            times.append(typical * (1 + self.drift * self.timed) * math.exp(self.random.gauss(0, self.noise)))
        return times

    @property
    def blocks(self) -> int:
        return sum(blocks for _, blocks in self.calls)


# --- settings ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("options", "message"), [
    ({"device": "gpu"}, "latency device must be cpu, cuda or cuda:N, got 'gpu'"),
    ({"device": "cuda:x"}, "latency device must be cpu, cuda or cuda:N"),
    ({"dtype": "float16"}, "latency dtype float16 runs only on CUDA; on cpu use float32 or bfloat16"),
    ({"dtype": "int8"}, "latency dtype must be one of float32, bfloat16, float16, got 'int8'"),
    ({"threads": 0}, r"latency threads must be an integer in \[1, 1024\], got 0"),
    ({"batch_size": 0}, r"latency batch size must be an integer in \[1, 4096\], got 0"),
    ({"batch_size": True}, "latency batch size must be an integer"),
    ({"mode": "training"}, "latency mode must be one of inference, train, got 'training'"),
    ({"mode": "train"}, "latency mode train needs a batch size of 2 or more"),
    ({"compile": "yes"}, "compile must be true or false"),
])
def test_settings_refuse_what_cannot_be_measured(options, message):
    with pytest.raises(InputError, match=message) as caught:
        LatencySettings(**options)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("options", "message"), [
    ({"device": "cuda:99"}, "latency device cuda:99: this machine has"),
    ({"threads": available_cores() + 1}, r"latency threads must be an integer in \[1, \d+\] \(the cores this process "
                                          r"may use\), got \d+"),
])
def test_what_this_machine_lacks_is_refused_when_it_measures(options, message, tmp_path):
    """A form any machine may hold (a study on a cluster times elsewhere); this one refuses to measure it."""
    settings = LatencySettings(**options)
    with pytest.raises(InputError, match=message) as caught:
        measure_latency(BASE, settings, cache_dir=tmp_path, timer=CountingTimer())
    assert "\n" not in str(caught.value)


def test_settings_defaults_and_dict():
    settings = LatencySettings()
    assert settings.to_dict() == {"device": "cpu", "batch_size": 1, "dtype": "float32", "threads": 1,
                                  "channels_last": False, "compile": False, "mode": "inference"}
    assert device_name(settings) and "\n" not in device_name(settings)


def test_budget_is_checked():
    with pytest.raises(InputError, match="latency precision must be a number in"):
        measure_latency(BASE, precision=0.0, timer=CountingTimer())
    with pytest.raises(InputError, match="min_rounds must be an integer in"):
        measure_latency(BASE, min_rounds=5, timer=CountingTimer())
    with pytest.raises(InputError, match="max_rounds must be an integer in"):
        latency_ratio(WIDE, BASE, precision=0.01, min_rounds=10, max_rounds=9, timer=CountingTimer())


# --- the cache ----------------------------------------------------------------------------------------------------


def test_cache_key_changes_with_every_setting_the_device_and_torch(monkeypatch):
    settings = LatencySettings()
    changed = [replace(settings, batch_size=2), replace(settings, dtype="bfloat16"),
               replace(settings, channels_last=True), replace(settings, compile=True),
               replace(settings, mode="train", batch_size=2)]
    if available_cores() > 1:
        changed.append(replace(settings, threads=2))
    keys = [latency_key(BASE, settings, "cpu A")]
    keys += [latency_key(BASE, other, "cpu A") for other in changed]
    keys += [latency_key(BASE, settings, "cpu B"), latency_key(WIDE, settings, "cpu A"),
             latency_key(replace(BASE, activation="relu"), settings, "cpu A")]
    monkeypatch.setattr(torch, "__version__", "0.0.0-other")
    keys.append(latency_key(BASE, settings, "cpu A"))
    assert len(set(keys)) == len(keys)


def test_dropout_is_in_the_key_only_where_it_costs_time():
    inference, train = LatencySettings(), LatencySettings(mode="train", batch_size=2)
    other = replace(BASE, dropout=0.5)
    assert latency_key(BASE, inference, "cpu") == latency_key(other, inference, "cpu")
    assert latency_key(BASE, train, "cpu") != latency_key(other, train, "cpu")


def test_second_call_is_served_from_the_cache_and_measures_nothing(tmp_path):
    timer = CountingTimer()
    first = measure_latency(BASE, cache_dir=tmp_path, timer=timer)
    measured = len(timer.calls)
    assert measured > 0 and not first.from_cache and (first.rounds, first.blocks) == (6, 30)
    second = measure_latency(BASE, cache_dir=tmp_path, timer=timer)
    assert len(timer.calls) == measured
    assert second.from_cache and replace(second, from_cache=False) == first


def test_use_cache_false_measures_again_and_replaces_the_cached_rounds(tmp_path):
    timer = CountingTimer()
    measure_latency(BASE, cache_dir=tmp_path, timer=timer, precision=0.9, max_rounds=20)
    fresh = measure_latency(BASE, cache_dir=tmp_path, timer=timer, use_cache=False, precision=0.9, max_rounds=20)
    assert timer.blocks == 60 and not fresh.from_cache and fresh.rounds == 6
    assert measure_latency(BASE, cache_dir=tmp_path, timer=timer, precision=0.9).rounds == 6  # what it wrote


def test_more_precision_adds_rounds_to_the_cached_ones(tmp_path):
    timer = CountingTimer(noise=0.05)
    loose = measure_latency(BASE, cache_dir=tmp_path, timer=timer, precision=0.9)
    tight = measure_latency(BASE, cache_dir=tmp_path, timer=timer, precision=1e-6, max_rounds=9)
    assert loose.rounds == 6 and tight.rounds == 9 and timer.blocks == 45
    assert not tight.from_cache and tight.half_width > 1e-6


def test_a_round_is_one_observation_so_a_slow_round_widens_the_interval(tmp_path):
    """Blocks of a round move together on a shared machine: the interval follows the rounds, not the blocks.

    Each round's five blocks are alike, but every other round runs 20 % slower (another process
    took the core for a while). Thirty blocks counted as independent would give a median pinned to
    within ±0 % of either speed; six rounds give an interval that spans both speeds.
    """
    state = {"round": 0}

    def wandering(layout, settings, blocks):
        state["round"] += 1
        return [4.0 * (1.2 if state["round"] % 2 else 1.0)] * blocks

    result = measure_latency(BASE, cache_dir=tmp_path, timer=wandering, max_rounds=6)
    assert result.low_ms == 4.0 and result.high_ms == 4.8 and result.half_width > 0.09


def test_ratio_reuses_the_cached_rounds_of_the_pair(tmp_path):
    timer = CountingTimer()
    first = latency_ratio(WIDE, BASE, precision=0.0125, cache_dir=tmp_path, timer=timer)
    calls = len(timer.calls)
    again = latency_ratio(WIDE, BASE, precision=0.0125, cache_dir=tmp_path, timer=timer)
    assert len(timer.calls) == calls and again.ratio == first.ratio
    assert again.latency.from_cache and again.base_latency.from_cache and not first.latency.from_cache
    assert replace(again.latency, from_cache=False) == first.latency


def test_an_unusable_cache_is_a_warning_and_a_broken_entry_a_miss(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.warns(UserWarning, match="could not cache latency in"):
        result = measure_latency(BASE, cache_dir=blocked, timer=CountingTimer())
    assert result.rounds == 6
    measure_latency(BASE, cache_dir=tmp_path, timer=CountingTimer())
    [entry] = (tmp_path / "latency").iterdir()
    record = json.loads(entry.read_text())
    assert [len(r) for r in record["rounds_ms"]] == [5] * 6
    assert record["device_name"] == device_name(LatencySettings())
    for broken in ("{", json.dumps({"rounds_ms": [[1.0, -2.0]]}), json.dumps({"rounds_ms": [[]]}),
                   json.dumps({"rounds_ms": "x"}), json.dumps({"times_ms": [1.0] * 30}), "[]"):
        entry.write_text(broken)
        assert not measure_latency(BASE, cache_dir=tmp_path, timer=CountingTimer()).from_cache


def test_a_timer_that_returns_too_few_blocks_is_a_bug(tmp_path):
    with pytest.raises(ValueError, match="a block timer returned"):
        measure_latency(BASE, cache_dir=tmp_path, timer=lambda layout, settings, blocks: [1.0])


# --- the ratio ----------------------------------------------------------------------------------------------------


def test_a_quiet_ratio_is_pinned_down_around_the_truth(tmp_path):
    timer = CountingTimer(ratio=2.0, noise=0.01, seed=1)  # one seeded run: coverage is checked by simulation below
    result = latency_ratio(WIDE, BASE, precision=0.0125, cache_dir=tmp_path, timer=timer)
    assert result.measurable and result.reason is None
    assert result.low <= 2.0 <= result.high
    assert relative_half_width(result.ratio, result.low, result.high) <= 0.0125
    assert result.latency.rounds == result.base_latency.rounds >= 6
    assert json.loads(json.dumps(result.to_dict()))["latency"]["settings"]["device"] == "cpu"


def test_a_candidate_whose_ratio_cannot_be_pinned_down_is_not_measurable(tmp_path):
    timer = CountingTimer(ratio=2.0, noise=0.5)
    result = latency_ratio(WIDE, BASE, precision=0.0125, cache_dir=tmp_path, timer=timer, max_rounds=8)
    assert not result.measurable
    assert result.ratio is None and result.low is None and result.high is None
    assert result.reason.startswith("ratio known only to ±") and "after 8 paired rounds (40 blocks of each network)" \
        in result.reason and "±1.2 % needed; the machine is too noisy" in result.reason
    assert "\n" not in result.reason
    assert result.latency.rounds == result.base_latency.rounds == 8  # the budget


def test_a_ratio_plainly_outside_a_band_stops_as_soon_as_its_interval_shows_it(tmp_path):
    """A grid asks whether a point can meet its band: one plainly off it is let go at the first interval, and one
    near it is pinned down as asked."""
    off = latency_ratio(WIDE, BASE, precision=0.0125, cache_dir=tmp_path / "a", outside=(1.9, 2.1),
                        timer=CountingTimer(ratio=2.6, noise=0.03, seed=3))
    assert off.measurable and off.low > 2.1 and off.latency.rounds == 6
    assert relative_half_width(off.ratio, off.low, off.high) > 0.0125  # stopped before the precision asked
    pinned = latency_ratio(WIDE, BASE, precision=0.0125, cache_dir=tmp_path / "b",
                           timer=CountingTimer(ratio=2.6, noise=0.03, seed=3))
    assert pinned.latency.rounds > 6 and relative_half_width(pinned.ratio, pinned.low, pinned.high) <= 0.0125
    near = latency_ratio(WIDE, BASE, precision=0.0125, cache_dir=tmp_path / "c", outside=(1.9, 2.1),
                         timer=CountingTimer(ratio=2.0, noise=0.03, seed=3))
    assert near.measurable and relative_half_width(near.ratio, near.low, near.high) <= 0.0125


def test_short_rounds_ask_the_timer_for_that_many_blocks_and_count_beside_full_ones(tmp_path):
    timer = CountingTimer(noise=0.01)
    short = latency_ratio(WIDE, BASE, precision=0.05, cache_dir=tmp_path, timer=timer, round_blocks=1)
    assert short.measurable and {blocks for _, blocks in timer.calls} == {1}
    assert short.latency.blocks == short.latency.rounds
    full = latency_ratio(WIDE, BASE, precision=0.002, cache_dir=tmp_path, timer=timer, max_rounds=12)
    assert full.latency.rounds == 12 and full.latency.blocks == short.latency.rounds + 5 * (12 - short.latency.rounds)
    with pytest.raises(InputError, match="blocks per round"):
        latency_ratio(WIDE, BASE, precision=0.05, cache_dir=tmp_path, timer=timer, round_blocks=0)


def test_ratio_rounds_alternate_between_the_networks(tmp_path):
    timer = CountingTimer(noise=0.3)
    latency_ratio(WIDE, BASE, precision=0.0125, cache_dir=tmp_path, timer=timer, max_rounds=8)
    order = ["c" if layout == WIDE else "b" for layout, _ in timer.calls]
    assert "".join(order) == "cbbccbbccbbccbbc"


def test_drift_of_the_machine_hits_both_networks_alike(tmp_path):
    """The machine slows by 0.1 % per block throughout: interleaved rounds keep the ratio where it is."""
    timer = CountingTimer(ratio=1.5, noise=0.002, drift=0.001)
    result = latency_ratio(WIDE, BASE, precision=0.05, cache_dir=tmp_path, timer=timer)
    assert result.measurable and result.low <= 1.5 <= result.high


def test_the_same_network_as_the_base_is_exactly_one(tmp_path):
    result = latency_ratio(replace(BASE, width=1.0), BASE, precision=0.0125, cache_dir=tmp_path, timer=CountingTimer())
    assert (result.ratio, result.low, result.high, result.measurable) == (1.0, 1.0, 1.0, True)


# --- the intervals, by simulation -----------------------------------------------------------------------------------


def simulated_rounds(rng: random.Random, n: int, typical: float, machine: list[float],
                     heavy: bool) -> list[list[float]]:
    """Rounds of 5 blocks: the machine's speed in each round (shared by the pair), log-normal noise of 3 % per block,
    and with ``heavy`` one block in ten slowed by half (interrupted)."""
    return [[typical * machine[i] * math.exp(rng.gauss(0, 0.03)) * (1.5 if heavy and rng.random() < 0.1 else 1.0)
             for _ in range(5)] for i in range(n)]


@pytest.mark.parametrize("heavy", [False, True], ids=["log-normal", "outliers"])
def test_paired_ratio_interval_covers_the_true_ratio_about_95_percent_of_the_time(heavy):
    """Coverage near 95 %, whatever the machine's speed does between rounds, and no wider than the textbook needs.

    The machine's speed changes by 20 % (sd) from round to round, which both networks of a round
    share. The yardstick is the paired t interval on the rounds' log ratios (mean ± t·s/√n), the
    best there is for normal noise: the signed-rank interval is within 20 % of it there, and
    narrower once blocks are interrupted.
    """
    rng = random.Random(23)
    covered, widths, yardstick = 0, [], []
    for trial in range(300):
        n = 6 + trial % 35
        machine = [math.exp(rng.gauss(0, 0.2)) for _ in range(n)]
        rounds = simulated_rounds(rng, n, 1.37, machine, heavy)
        base_rounds = simulated_rounds(rng, n, 1.0, machine, heavy)
        estimate, low, high = paired_ratio_interval(rounds, base_rounds)
        covered += low <= 1.37 <= high
        widths.append(relative_half_width(estimate, low, high))
        logs = [math.log(statistics.median(a) / statistics.median(b)) for a, b in zip(rounds, base_rounds, strict=True)]
        t = {6: 2.571}.get(n, 2.45 if n < 10 else 2.1)
        yardstick.append(math.exp(t * statistics.stdev(logs) / math.sqrt(n)) - 1)
    assert 0.92 <= covered / 300 <= 0.99  # neither too narrow nor too wide
    assert statistics.mean(widths) <= 1.2 * statistics.mean(yardstick)


def test_median_interval_covers_the_median_about_95_percent_of_the_time():
    rng = random.Random(5)
    covered = sum(low <= 1.0 <= high for low, high in (
        median_interval([math.exp(rng.gauss(0, 0.05)) for _ in range(40)]) for _ in range(200)))
    assert 0.90 <= covered / 200 <= 0.995


def test_intervals_need_enough_rounds():
    assert median_interval([1.0] * 5) is None and median_interval([1.0] * 6) == (1.0, 1.0)
    assert paired_ratio_interval([[2.0]] * 5, [[1.0]] * 5) is None
    assert paired_ratio_interval([[2.0]] * 6, [[1.0]] * 6) == (2.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="paired rounds differ in number: 6 and 5"):
        paired_ratio_interval([[2.0]] * 6, [[1.0]] * 5)


def test_the_whole_procedure_stops_with_intervals_that_cover_the_truth(tmp_path):
    """Sequential stopping: the width barely depends on where the estimate is, so coverage holds after stopping."""
    covered = measurable = 0
    for seed in range(100):
        timer = CountingTimer(ratio=1.7, noise=0.02, seed=seed)
        result = latency_ratio(WIDE, BASE, precision=0.0125, cache_dir=tmp_path, use_cache=False, timer=timer)
        if result.measurable:
            measurable += 1
            covered += result.low <= 1.7 <= result.high
    assert measurable >= 90 and covered / measurable >= 0.9


# --- real measurements --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [LatencySettings(), LatencySettings(mode="train", batch_size=2),
                                      LatencySettings(channels_last=True, dtype="bfloat16")],
                         ids=["inference", "train", "channels-last-bf16"])
def test_a_real_measurement_of_a_tiny_network(tmp_path, settings):
    threads = torch.get_num_threads()
    result = measure_latency(DEMO, settings, cache_dir=tmp_path, max_rounds=6)
    assert torch.get_num_threads() == threads  # restored
    assert (result.rounds, result.blocks) == (6, 30) and result.median_ms > 0 and result.iqr_ms >= 0
    assert result.low_ms <= result.median_ms <= result.high_ms
    assert result.peak_memory_bytes is None and not result.from_cache and result.settings == settings
    assert result.torch_version == torch.__version__ and result.device_name == device_name(settings)
    assert measure_latency(DEMO, settings, cache_dir=tmp_path, max_rounds=6).from_cache


def test_the_real_timer_keeps_each_network_it_prepared():
    timer = latency_module.TorchTimer()
    settings = LatencySettings()
    assert len(timer(DEMO, settings, 2)) == 2 and len(timer(DEMO, settings, 3)) == 3
    assert len(timer.prepared) == 1 and timer.peak_memory_bytes(DEMO, settings) is None


def test_the_real_timer_keeps_only_the_networks_last_timed_when_told():
    timer = latency_module.TorchTimer(keep=1)
    settings = LatencySettings()
    timer(DEMO, settings, 1)
    timer(BASE, settings, 1)
    assert list(timer.prepared) == [latency_key(BASE, settings, settings.device)]
    with pytest.raises(InputError, match="prepared networks kept"):
        latency_module.TorchTimer(keep=0)


# --- across fresh processes -----------------------------------------------------------------------------------------


class ProcessStateTimer:
    """A fake timer for a machine where each process lands in its own state: 4 ms times a factor set by its pid."""

    def __call__(self, layout, settings, blocks):
        import os

        return [4.0 * (1 + (os.getpid() % 11) / 20)] * blocks


def test_processes_other_than_one_need_six_for_an_interval(tmp_path):
    with pytest.raises(InputError, match=r"latency processes must be 1 \(this process\) or 6 to 100 \(a 95 % interval "
                                         r"needs 6\), got 3") as caught:
        measure_latency(BASE, cache_dir=tmp_path, timer=CountingTimer(), processes=3)
    assert "\n" not in str(caught.value)


def test_cached_processes_are_served_without_starting_any(tmp_path):
    settings = LatencySettings()
    sessions = [[[float(ms)] * 5] * 6 for ms in (4, 5, 6, 7, 8, 9)]
    path = tmp_path / "latency" / f"{latency_key(BASE, settings, device_name(settings))}-processes.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"sessions_ms": sessions, "peak_memory_bytes": None}))

    def never(layout, settings, blocks):
        raise AssertionError("nothing should be timed")

    result = measure_latency(BASE, settings, cache_dir=tmp_path, timer=never, processes=6)
    assert result.from_cache and (result.processes, result.rounds, result.blocks) == (6, 36, 180)
    assert (result.median_ms, result.low_ms, result.high_ms) == (6.5, 4.0, 9.0)  # over the processes' medians


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_each_fresh_process_is_one_observation(tmp_path):
    """Six spawned processes, each in its own state: the interval spans their medians, not one process's rounds."""
    result = measure_latency(BASE, cache_dir=tmp_path, timer=ProcessStateTimer(), processes=6)
    record = json.loads(next((tmp_path / "latency").iterdir()).read_text())
    medians = sorted(statistics.median(statistics.median(r) for r in session) for session in record["sessions_ms"])
    assert len(medians) == 6 and len(set(medians)) > 1  # the processes landed in different states
    assert result.processes == 6 and result.rounds == 36 and not result.from_cache
    assert (result.low_ms, result.high_ms) == (medians[0], medians[-1])
    assert result.median_ms == statistics.median(medians)

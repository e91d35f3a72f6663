"""scaling_search.stats.comparison: packed per-image records and the paired bootstrap that compares two candidates."""

import json
import warnings

import numpy as np
import pytest

from scaling_search.stats import comparison as verdicts
from scaling_search.stats.comparison import (
    Comparison,
    compare_runs,
    compare_scores,
)
from scaling_search.training.correctness import pack_correctness, unpack_correctness

RESAMPLES = 2000


def runs(rng: np.random.Generator, accuracy: float, seeds, images: int) -> dict[int, np.ndarray]:
    """Independent per-image correctness for each seed at the given accuracy."""
    return {seed: rng.random(images) < accuracy for seed in seeds}


def difficulty_runs(rng: np.random.Generator, chance: np.ndarray, seeds) -> dict[int, np.ndarray]:
    """Per-image correctness where image n is right with probability chance[n] in every run."""
    return {seed: rng.random(chance.size) < chance for seed in seeds}


# --------------------------------------------------------------------------- packing


@pytest.mark.parametrize("length", [0, 1, 7, 8, 9, 5000])
def test_pack_round_trips(length):
    correct = np.random.default_rng(length).random(length) < 0.5
    text = pack_correctness(correct)
    assert text.startswith(f"{length}:")
    back = unpack_correctness(text)
    assert back.dtype == np.bool_ and back.shape == (length,)
    np.testing.assert_array_equal(back, correct)


def test_pack_takes_lists_and_zero_one_ints_and_is_compact():
    assert pack_correctness([1, 0, 1, 1, 0]) == pack_correctness([True, False, True, True, False]) == "5:sA=="
    assert len(pack_correctness(np.ones(5000, dtype=bool))) < 5000 / 8 * 4 / 3 + 10


@pytest.mark.parametrize("bad", [[0, 2, 1], [[True, False]], [0.5, 1.0]])
def test_pack_refuses_what_is_not_one_dimensional_correctness(bad):
    with pytest.raises(ValueError, match="correctness"):
        pack_correctness(bad)


@pytest.mark.parametrize("text", ["", "sA==", "five:sA==", "-5:sA==", "5:sA=", "5:s!==", "5:sAAA", "9:sA==",
                                  "5:sQ==", "3:sA==", "²:sA=="])
def test_unpack_refuses_malformed_text(text):
    with pytest.raises(ValueError, match="packed correctness"):
        unpack_correctness(text)


# --------------------------------------------------------------------------- compare_runs


def test_a_clear_winner_is_resolved():
    rng = np.random.default_rng(11)
    first, second = runs(rng, 0.8, range(3), 2000), runs(rng, 0.6, range(3), 2000)
    verdict = compare_runs(first, second, "wide", "deep", resamples=RESAMPLES)
    low, high = verdict.ci95
    assert verdict.resolved and 0 < low < high
    assert low <= 0.2 <= high
    assert verdict.difference == pytest.approx(0.2, abs=0.02)
    assert 1 / (RESAMPLES + 1) <= verdict.p_value < 0.01
    assert (verdict.seeds, verdict.images, verdict.paired) == (3, 2000, True)
    assert verdict.basis == "seeds and validation images"
    assert verdict.seeds_needed is None and verdict.images_needed is None
    assert 0 < verdict.detectable < verdict.difference
    assert "3 paired seeds × 2000 validation images): resolved." in verdict.sentence()


def test_an_unresolved_pair_says_so_and_what_would_resolve_it():
    rng = np.random.default_rng(5)
    first, second = runs(rng, 0.7, range(2), 500), runs(rng, 0.7, range(2), 500)
    verdict = compare_runs(first, second, "a", "b", resamples=RESAMPLES)
    low, high = verdict.ci95
    assert not verdict.resolved and low <= 0 <= high
    assert verdict.difference != 0
    assert verdict.p_value > 0.05
    text = verdict.sentence()
    assert "not resolved at this budget" in text and "tied" not in text.lower()
    assert "smallest difference it could detect" in text
    assert verdict.detectable > abs(verdict.difference)
    # a gap this small (noise-sized) needs both more seeds and more images
    assert verdict.seeds_needed > 2 and verdict.images_needed > 500
    assert (verdict.seeds_needed, verdict.images_needed) == expected_needs(first, second, verdict.difference)
    assert f"about {verdict.seeds_needed} seeds per candidate and {verdict.images_needed} validation images" in text


def expected_needs(first: dict, second: dict, difference: float) -> tuple[int | None, int | None]:
    """seeds_needed and images_needed by the formulas compare_runs states (paired, 2+ seeds, unresolved)."""
    a = np.stack([first[s] for s in sorted(first)]).astype(float)
    b = np.stack([second[s] for s in sorted(second)]).astype(float)
    seeds, images = a.shape
    unit = np.var((a - b).mean(axis=1), ddof=1)
    var_seed, var_image = unit / seeds, np.var((a - b).mean(axis=0)) / images
    target = (abs(difference) / (1.959964 + 0.841621)) ** 2
    if target > var_image:
        return min(max(int(np.ceil(unit / (target - var_image))), seeds + 1), verdicts.CAP + 1), None
    if target > var_seed:
        return None, min(max(int(np.ceil(var_image * images / (target - var_seed))), images + 1),
                         verdicts.IMAGES_CAP + 1)
    grow = (var_seed + var_image) / target
    return (min(max(int(np.ceil(grow * seeds)), seeds + 1), verdicts.CAP + 1),
            min(max(int(np.ceil(grow * images)), images + 1), verdicts.IMAGES_CAP + 1))


def test_seeds_needed_and_images_needed_follow_the_stated_formulas():
    # seed noise dominates (each seed shifts the first's accuracy): more seeds would do
    rng = np.random.default_rng(0)
    chance = rng.beta(2, 0.6, 20_000)
    first = {s: rng.random(20_000) < np.clip(chance + 0.005 + rng.normal(0, 0.01), 0, 1) for s in range(3)}
    second = difficulty_runs(rng, chance, range(3))
    by_seeds = compare_runs(first, second, "a", "b", resamples=RESAMPLES)
    assert not by_seeds.resolved and by_seeds.seeds_needed is not None and by_seeds.images_needed is None
    assert (by_seeds.seeds_needed, by_seeds.images_needed) == expected_needs(first, second, by_seeds.difference)
    assert f"about {by_seeds.seeds_needed} seeds per candidate would resolve" in by_seeds.sentence()
    # every seed the same: only more validation images would do
    one_a, one_b = rng.random(2000) < 0.7, rng.random(2000) < 0.69
    first, second = {0: one_a, 1: one_a}, {0: one_b, 1: one_b}
    by_images = compare_runs(first, second, "a", "b", resamples=RESAMPLES)
    assert not by_images.resolved and by_images.seeds_needed is None and by_images.images_needed > 2000
    assert (by_images.seeds_needed, by_images.images_needed) == expected_needs(first, second, by_images.difference)
    assert "more seeds alone would not" in by_images.sentence()
    assert f"about {by_images.images_needed} validation images would" in by_images.sentence()


def test_identical_predictions_give_no_difference_and_p_one():
    rng = np.random.default_rng(2)
    same = runs(rng, 0.7, range(3), 1000)
    verdict = compare_runs(same, {seed: correct.copy() for seed, correct in same.items()}, "a", "b")
    assert verdict.difference == 0 and verdict.ci95 == (0.0, 0.0)
    assert not verdict.resolved and verdict.p_value == 1.0
    assert verdict.detectable == 0 and verdict.seeds_needed is None and verdict.images_needed is None
    text = verdict.sentence()
    assert "not resolved at this budget" in text and "same predictions" in text and "tied" not in text


def test_identical_seeds_within_each_side_still_get_an_interval_from_the_images():
    rng = np.random.default_rng(3)
    one_a, one_b = rng.random(800) < 0.75, rng.random(800) < 0.70
    verdict = compare_runs({0: one_a, 1: one_a.copy()}, {0: one_b, 1: one_b.copy()}, "a", "b", resamples=RESAMPLES)
    low, high = verdict.ci95
    assert low < verdict.difference < high and high - low > 0.01
    assert verdict.p_value is not None and verdict.p_value >= 2 / (RESAMPLES + 1)
    assert verdict.detectable > 0
    # the seeds add nothing: the same interval as one seed each, images only
    alone = compare_runs({0: one_a}, {0: one_b}, "a", "b", resamples=RESAMPLES)
    assert alone.basis == "validation images only (one seed)"
    assert verdict.detectable == pytest.approx(alone.detectable, rel=0.15)


def test_one_seed_says_the_seed_noise_is_not_in_the_interval():
    rng = np.random.default_rng(4)
    verdict = compare_runs(runs(rng, 0.7, [0], 1000), runs(rng, 0.7, [0], 1000), "a", "b", resamples=RESAMPLES)
    assert verdict.seeds == 1 and verdict.paired and verdict.basis == "validation images only (one seed)"
    assert verdict.ci95 is not None and verdict.seeds_needed is None
    assert "seed-to-seed noise" in verdict.sentence() and "tied" not in verdict.sentence()
    resolved = compare_runs(runs(rng, 0.9, [0], 1000), runs(rng, 0.6, [0], 1000), "a", "b", resamples=RESAMPLES)
    assert resolved.resolved and "seed-to-seed noise is not in the interval" in resolved.sentence()


def test_a_seed_run_by_one_side_only_is_left_out_of_the_pairing():
    rng = np.random.default_rng(6)
    first, second = runs(rng, 0.8, [0, 1, 2], 1000), runs(rng, 0.7, [0, 1], 1000)
    verdict = compare_runs(first, second, "a", "b", resamples=RESAMPLES)
    assert verdict.paired and verdict.seeds == 2
    assert "paired on the 2 seeds both ran, 1 seed run by one side only left out" in verdict.basis
    both = np.stack([first[0], first[1]]).mean() - np.stack([second[0], second[1]]).mean()
    assert verdict.difference == pytest.approx(both)
    assert "2 paired seeds × 1000 validation images; paired on the 2 seeds" in verdict.sentence()


def test_no_seed_in_common_is_compared_unpaired():
    rng = np.random.default_rng(7)
    first, second = runs(rng, 0.8, [0, 1, 2], 1000), runs(rng, 0.6, [10, 11], 1000)
    verdict = compare_runs(first, second, "a", "b", resamples=RESAMPLES)
    assert not verdict.paired and verdict.seeds == 2 and verdict.resolved
    assert verdict.difference == pytest.approx(np.stack(list(first.values())).mean()
                                               - np.stack(list(second.values())).mean())
    assert "3 and 2 unpaired seeds (no seed in common) × 1000 validation images" in verdict.sentence()


def test_pairing_narrows_the_interval_when_seeds_share_their_data_order():
    rng = np.random.default_rng(9)
    chance = rng.beta(2, 0.6, size=4000)
    shared = {seed: rng.random(4000) for seed in range(3)}  # a seed draws the same "luck" for both candidates
    first = {seed: shared[seed] < np.clip(chance + 0.02, 0, 1) for seed in range(3)}
    second = {seed: shared[seed] < chance for seed in range(3)}
    paired = compare_runs(first, second, "a", "b", resamples=RESAMPLES)
    unpaired = compare_runs(first, {seed + 100: v for seed, v in second.items()}, "a", "b", resamples=RESAMPLES)
    assert paired.paired and not unpaired.paired
    assert paired.difference == pytest.approx(unpaired.difference)
    assert paired.detectable < 0.5 * unpaired.detectable


def test_mismatched_image_counts_and_empty_inputs_are_refused():
    with pytest.raises(ValueError, match="same validation images"):
        compare_runs({0: np.ones(10, bool)}, {0: np.ones(11, bool)}, "a", "b")
    with pytest.raises(ValueError, match="same validation images"):
        compare_runs({0: np.ones(10, bool), 1: np.ones(9, bool)}, {0: np.ones(10, bool)}, "a", "b")
    with pytest.raises(ValueError, match="no runs"):
        compare_runs({}, {0: np.ones(10, bool)}, "a", "b")
    with pytest.raises(ValueError, match="zero validation images"):
        compare_runs({0: np.ones(0, bool)}, {0: np.ones(0, bool)}, "a", "b")
    with pytest.raises(ValueError, match="True/False or 0/1"):
        compare_runs({0: np.full(10, 2)}, {0: np.ones(10, bool)}, "a", "b")


def test_compare_runs_is_deterministic_and_takes_unpacked_records():
    rng = np.random.default_rng(10)
    first, second = runs(rng, 0.72, range(2), 700), runs(rng, 0.70, range(2), 700)
    again = {seed: unpack_correctness(pack_correctness(v)) for seed, v in first.items()}
    one = compare_runs(first, second, "a", "b", resamples=500, random_seed=3)
    assert one == compare_runs(again, second, "a", "b", resamples=500, random_seed=3)
    assert one.ci95 != compare_runs(first, second, "a", "b", resamples=500, random_seed=4).ci95


def test_many_distinct_columns_take_the_index_and_normal_paths_and_agree(monkeypatch):
    rng = np.random.default_rng(12)
    first, second = runs(rng, 0.80, range(8), 3000), runs(rng, 0.78, range(8), 3000)
    exact = compare_runs(first, second, "a", "b", resamples=1000)
    monkeypatch.setattr(verdicts, "_EXACT_DRAWS", 0)
    normal = compare_runs(first, second, "a", "b", resamples=1000)
    assert exact.difference == normal.difference
    assert normal.detectable == pytest.approx(exact.detectable, rel=0.1)
    assert normal.ci95[0] == pytest.approx(exact.ci95[0], abs=0.004)
    assert normal.ci95[1] == pytest.approx(exact.ci95[1], abs=0.004)


def test_to_dict_is_json_ready_with_every_field():
    rng = np.random.default_rng(13)
    verdict = compare_runs(runs(rng, 0.8, range(2), 300), runs(rng, 0.7, range(2), 300), "a", "b", resamples=300)
    data = json.loads(json.dumps(verdict.to_dict()))
    assert set(data) == {field for field in Comparison.__dataclass_fields__}
    assert data["ci95"] == list(verdict.ci95) and data["first"] == "a" and data["paired"] is True


# --------------------------------------------------------------------------- compare_scores


@pytest.mark.parametrize("second", [[0.175, 0.175], [0.20, 0.20]])
def test_constant_scores_cannot_tell_and_never_give_p_zero(second):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        verdict = compare_scores([0.175, 0.175], second, "a", "b")
    assert verdict.ci95 is None and verdict.p_value is None and verdict.detectable is None
    assert not verdict.resolved and verdict.images == 0 and not verdict.paired
    assert verdict.difference == pytest.approx(0.175 - second[0])
    assert "cannot tell: every seed scored the same, so the noise is unknown" in verdict.sentence()
    assert "tied" not in verdict.sentence()


def test_one_score_on_a_side_cannot_tell():
    verdict = compare_scores([0.7], [0.6, 0.65], "a", "b")
    assert verdict.ci95 is None and verdict.p_value is None and verdict.seeds == 1
    assert "cannot tell: one seed, the seed noise is unknown" in verdict.sentence()


def test_scores_with_spread_get_a_seed_only_interval():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clear = compare_scores([0.80, 0.81, 0.805], [0.70, 0.71, 0.705], "a", "b", resamples=RESAMPLES)
        close = compare_scores([0.70, 0.72], [0.71, 0.70], "a", "b", resamples=RESAMPLES)
        constant_one_side = compare_scores([0.175, 0.175], [0.17, 0.18, 0.16], "a", "b", resamples=RESAMPLES)
    assert clear.resolved and clear.p_value >= 2 / (RESAMPLES + 1)
    assert clear.basis == "seeds only (no per-image records)"
    assert "3 seeds per candidate, per-seed accuracies only" in clear.sentence()
    assert not close.resolved and "not resolved at this budget" in close.sentence()
    assert close.seeds_needed is not None and close.seeds_needed > 2
    assert constant_one_side.ci95 is not None and constant_one_side.p_value > 0
    assert "2 and 3 seeds, per-seed accuracies only" in constant_one_side.sentence()


# --------------------------------------------------------------------------- calibration and speed


def test_false_resolutions_under_the_null_stay_rare():
    rng = np.random.default_rng(20)
    false = 0
    pairs = 200
    for _ in range(pairs):
        chance = rng.beta(3, 1, size=400)  # images differ in difficulty; both candidates equally good
        verdict = compare_runs(difficulty_runs(rng, chance, range(3)), difficulty_runs(rng, chance, range(3)),
                               "a", "b", resamples=400, random_seed=int(rng.integers(1 << 30)))
        false += verdict.resolved
    assert false <= 0.10 * pairs


def test_four_thousand_resamples_of_fifty_thousand_images():
    rng = np.random.default_rng(21)
    first, second = runs(rng, 0.80, range(3), 50_000), runs(rng, 0.79, range(3), 50_000)
    verdict = compare_runs(first, second, "a", "b", resamples=4000)
    assert verdict.images == 50_000 and verdict.seeds == 3

"""scaling_search.stats.comparison: packed per-image records, and the variance-components interval of a difference."""

import json
import math
import warnings

import numpy as np
import pytest

from scaling_search.stats import comparison as verdicts
from scaling_search.stats import distributions
from scaling_search.stats.comparison import (
    Comparison,
    accuracy_interval,
    compare_runs,
    compare_scores,
)
from scaling_search.training.correctness import pack_correctness, unpack_correctness


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
    verdict = compare_runs(first, second, "wide", "deep")
    low, high = verdict.ci95
    assert verdict.resolved and 0 < low < high
    assert low <= 0.2 <= high
    assert verdict.difference == pytest.approx(0.2, abs=0.02)
    assert verdict.p_value < 0.01
    assert (verdict.seeds, verdict.images, verdict.paired, verdict.split) == (3, 2000, True, "validation")
    assert verdict.basis == "seeds and images"
    assert verdict.seeds_needed is None and verdict.images_needed is None
    assert 0 < verdict.detectable < verdict.difference
    assert "3 paired seeds × 2000 validation images): resolved." in verdict.sentence()


def components_by_hand(first: dict, second: dict) -> tuple[float, float, float]:
    """(seed part, image part, interaction mean square) of a paired comparison, by the two-way ANOVA formulas."""
    d = np.stack([first[s] for s in sorted(first)]).astype(float) - np.stack([second[s] for s in sorted(second)])
    seeds, images = d.shape
    rows, columns = d.mean(axis=1), d.mean(axis=0)
    interaction = ((d - rows[:, None] - columns[None, :] + d.mean()) ** 2).sum() / ((seeds - 1) * (images - 1))
    seed_part = np.var(rows, ddof=1) / seeds
    image_part = max(0.0, np.var(columns, ddof=1) / images - interaction / (seeds * images))
    return seed_part, image_part, interaction


def test_the_interval_counts_the_seed_part_and_the_image_part_once_each():
    rng = np.random.default_rng(3)
    chance = rng.beta(0.6, 1.4, 3000)
    first = {s: rng.random(3000) < np.clip(chance + rng.normal(0, 0.01) + rng.normal(0, 0.2, 3000) * 0, 0, 1)
             for s in range(4)}
    second = {s: rng.random(3000) < np.clip(1 - chance, 0, 1) for s in range(4)}  # disagree on many images
    verdict = compare_runs(first, second, "a", "b")
    seed_part, image_part, _ = components_by_hand(first, second)
    assert image_part > 0
    assert verdict.standard_error == pytest.approx(math.sqrt(seed_part + image_part), rel=1e-9)
    # the former sum, var(per-seed)/S + var(per-image)/N, counted the interaction twice: wider
    d = np.stack([first[s] for s in range(4)]).astype(float) - np.stack([second[s] for s in range(4)])
    twice = np.var(d.mean(axis=1), ddof=1) / 4 + np.var(d.mean(axis=0), ddof=1) / 3000
    assert verdict.standard_error < math.sqrt(twice)
    low, high = verdict.ci95
    assert (high - low) / 2 > 1.96 * verdict.standard_error  # a t quantile, not z
    assert verdict.df is not None and verdict.df > 3


def test_two_seeds_a_side_are_never_resolved_whatever_the_difference():
    rng = np.random.default_rng(1)
    for seeds in ([0], [0, 1]):
        best, worst = runs(rng, 0.95, seeds, 5000), runs(rng, 0.05, seeds, 5000)
        verdict = compare_runs(best, worst, "best", "worst")
        low, _ = verdict.ci95
        assert verdict.difference > 0.85 and low > 0  # the interval excludes 0 by far ...
        assert not verdict.resolved  # ... and still no verdict
        assert verdict.seeds_needed is None and verdict.images_needed is None
        assert f"at least 3 seeds per candidate are needed to resolve a difference, and this has {len(seeds)}" \
            in verdict.sentence()
    assert "seed-to-seed noise is not in this interval (one seed)" in verdict.sentence() or len(seeds) == 2
    unpaired = compare_runs(runs(rng, 0.95, [0, 1, 2], 500), runs(rng, 0.05, [7, 8], 500), "a", "b")
    assert not unpaired.paired and unpaired.seeds == 2 and not unpaired.resolved
    scores = compare_scores([0.9, 0.91], [0.1, 0.11], "a", "b")
    assert scores.ci95 is not None and not scores.resolved


def test_an_unresolved_pair_plans_seeds_for_the_minimum_effect_as_a_range():
    rng = np.random.default_rng(0)
    chance = rng.beta(2, 0.6, 5000)
    first = {s: rng.random(5000) < np.clip(chance + 0.004 + rng.normal(0, 0.01), 0, 1) for s in range(3)}
    second = difficulty_runs(rng, chance, range(3))
    verdict = compare_runs(first, second, "a", "b")
    assert not verdict.resolved and verdict.min_effect == verdicts.DEFAULT_MIN_EFFECT
    low, high = verdict.seeds_needed
    assert 3 < low < high  # a range: 3 seeds pin the seed variance down to within x0.27 to x39
    assert verdict.images_needed is None
    text = verdict.sentence()
    assert "not resolved at this budget" in text and "tied" not in text.lower()
    assert f"to resolve 1.0 points (the minimum effect of interest) four times in five, about {low}–{high} seeds" \
        in text
    # the plan does not depend on the observed difference, only on the noise and the stated effect
    shifted = {s: v.copy() for s, v in first.items()}
    shifted[0][:40] = ~shifted[0][:40]
    other = compare_runs(shifted, second, "a", "b")
    assert other.difference != verdict.difference
    assert compare_runs(first, second, "a", "b", min_effect=0.02).seeds_needed[1] < high


def test_planned_seeds_follow_the_t_power_formula():
    rng = np.random.default_rng(8)
    chance = rng.beta(2, 0.6, 4000)
    first = {s: rng.random(4000) < np.clip(chance + rng.normal(0, 0.01), 0, 1) for s in range(5)}
    second = difficulty_runs(rng, chance, range(5))
    verdict = compare_runs(first, second, "a", "b")
    assert not verdict.resolved and verdict.seeds_needed is not None
    seed_part, image_part, _ = components_by_hand(first, second)
    unit = seed_part * 5
    low_unit = unit * 4 / distributions.chi2_quantile(0.975, 4)

    def detectable(seeds: int) -> float:
        terms = [(low_unit / seeds, seeds - 1.0)] + ([(image_part, 3999.0)] if image_part > 0 else [])
        total = sum(v for v, _ in terms)
        df = total ** 2 / sum(v * v / f for v, f in terms)
        return (distributions.t_quantile(0.975, df) + distributions.t_quantile(0.8, df)) * math.sqrt(total)

    low = verdict.seeds_needed[0]
    assert detectable(low) <= 0.01 < detectable(low - 1) or low == 6


def test_image_noise_too_large_for_seeds_plans_images():
    rng = np.random.default_rng(4)
    one_a, one_b = rng.random(300) < 0.7, rng.random(300) < 0.69
    noise = [rng.random(300) < 0.002 for _ in range(3)]  # a few flipped images per seed: a little seed noise
    first = {s: one_a ^ noise[s] for s in range(3)}
    second = {s: one_b.copy() for s in range(3)}
    verdict = compare_runs(first, second, "a", "b")
    assert not verdict.resolved and verdict.seeds_needed is None
    low, high = verdict.images_needed
    assert 300 < low <= high
    assert "more seeds alone would not" in verdict.sentence() and "test images" not in verdict.sentence()
    on_test = compare_runs(first, second, "a", "b", split="test")
    assert "× 300 test images" in on_test.sentence() and "validation" not in on_test.sentence()


def test_a_budget_that_detects_the_minimum_effect_says_so_instead_of_planning():
    rng = np.random.default_rng(2)
    chance = rng.beta(2, 0.6, 50_000)
    first = difficulty_runs(rng, chance, range(5))
    second = difficulty_runs(rng, chance, range(5))
    verdict = compare_runs(first, second, "a", "b", min_effect=0.05)
    assert not verdict.resolved and verdict.detectable < 0.05
    assert verdict.seeds_needed is None and verdict.images_needed is None
    assert "so it would resolve a true difference of 5.0 points" in verdict.sentence()


def test_identical_predictions_give_no_difference_and_p_one():
    rng = np.random.default_rng(2)
    same = runs(rng, 0.7, range(3), 1000)
    verdict = compare_runs(same, {seed: correct.copy() for seed, correct in same.items()}, "a", "b")
    assert verdict.difference == 0 and verdict.ci95 == (0.0, 0.0)
    assert not verdict.resolved and verdict.p_value == 1.0
    assert verdict.detectable == 0 and verdict.seeds_needed is None and verdict.images_needed is None
    text = verdict.sentence()
    assert "not resolved at this budget" in text and "same predictions" in text and "tied" not in text


def test_one_seed_says_the_seed_noise_is_not_in_the_interval():
    rng = np.random.default_rng(4)
    verdict = compare_runs(runs(rng, 0.7, [0], 1000), runs(rng, 0.7, [0], 1000), "a", "b")
    assert verdict.seeds == 1 and verdict.paired and verdict.basis == "images only (one seed)"
    assert verdict.ci95 is not None and verdict.seeds_needed is None
    assert "seed-to-seed noise is not in this interval" in verdict.sentence() and "tied" not in verdict.sentence()


def test_a_seed_run_by_one_side_only_is_left_out_of_the_pairing():
    rng = np.random.default_rng(6)
    first, second = runs(rng, 0.8, [0, 1, 2, 3], 1000), runs(rng, 0.7, [0, 1, 2], 1000)
    verdict = compare_runs(first, second, "a", "b")
    assert verdict.paired and verdict.seeds == 3
    assert "paired on the 3 seeds both ran, 1 seed run by one side only left out" in verdict.basis
    both = np.stack([first[s] for s in range(3)]).mean() - np.stack([second[s] for s in range(3)]).mean()
    assert verdict.difference == pytest.approx(both)
    assert "3 paired seeds × 1000 validation images; paired on the 3 seeds" in verdict.sentence()


def test_no_seed_in_common_is_compared_unpaired():
    rng = np.random.default_rng(7)
    first, second = runs(rng, 0.8, [0, 1, 2], 1000), runs(rng, 0.6, [10, 11, 12], 1000)
    verdict = compare_runs(first, second, "a", "b")
    assert not verdict.paired and verdict.seeds == 3 and verdict.resolved
    assert verdict.difference == pytest.approx(np.stack(list(first.values())).mean()
                                               - np.stack(list(second.values())).mean())
    assert "3 and 3 unpaired seeds (no seed in common) × 1000 validation images" in verdict.sentence()


def test_pairing_narrows_the_interval_when_seeds_share_their_data_order():
    rng = np.random.default_rng(9)
    chance = rng.beta(2, 0.6, size=4000)
    shared = {seed: rng.random(4000) for seed in range(3)}  # a seed draws the same "luck" for both candidates
    first = {seed: shared[seed] < np.clip(chance + 0.02, 0, 1) for seed in range(3)}
    second = {seed: shared[seed] < chance for seed in range(3)}
    paired = compare_runs(first, second, "a", "b")
    unpaired = compare_runs(first, {seed + 100: v for seed, v in second.items()}, "a", "b")
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
    with pytest.raises(ValueError, match="min_effect"):
        compare_runs({0: np.ones(10, bool)}, {0: np.ones(10, bool)}, "a", "b", min_effect=0)


def test_compare_runs_is_deterministic_and_takes_unpacked_records():
    rng = np.random.default_rng(10)
    first, second = runs(rng, 0.72, range(3), 700), runs(rng, 0.70, range(3), 700)
    again = {seed: unpack_correctness(pack_correctness(v)) for seed, v in first.items()}
    assert compare_runs(first, second, "a", "b") == compare_runs(again, second, "a", "b")


def test_to_dict_is_json_ready_with_every_field_and_round_trips():
    rng = np.random.default_rng(13)
    verdict = compare_runs(runs(rng, 0.71, range(3), 300), runs(rng, 0.7, range(3), 300), "a", "b")
    data = json.loads(json.dumps(verdict.to_dict()))
    assert set(data) == {field for field in Comparison.__dataclass_fields__}
    assert data["ci95"] == list(verdict.ci95) and data["first"] == "a" and data["paired"] is True
    assert Comparison.from_dict(data) == verdict


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


def test_scores_with_spread_get_welchs_interval():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clear = compare_scores([0.80, 0.81, 0.805], [0.70, 0.71, 0.705], "a", "b")
        close = compare_scores([0.70, 0.72, 0.69], [0.71, 0.70, 0.705], "a", "b")
        constant_one_side = compare_scores([0.175, 0.175, 0.175], [0.17, 0.18, 0.16], "a", "b")
    assert clear.resolved and clear.basis == "seeds only (no per-image records)"
    a, b = np.array([0.80, 0.81, 0.805]), np.array([0.70, 0.71, 0.705])
    error = math.sqrt(a.var(ddof=1) / 3 + b.var(ddof=1) / 3)
    assert clear.standard_error == pytest.approx(error)
    assert clear.df == pytest.approx(4.0)  # Welch with equal spreads and 3 seeds a side
    assert "3 seeds per candidate, per-seed accuracies only" in clear.sentence()
    assert not close.resolved and "not resolved at this budget" in close.sentence()
    assert constant_one_side.ci95 is not None and constant_one_side.p_value > 0


# --------------------------------------------------------------------------- accuracy_interval


def test_accuracy_interval_adds_the_seed_and_image_parts():
    rng = np.random.default_rng(14)
    chance = rng.beta(0.6, 1.4, 5000)
    spread = {s: difficulty_runs(rng, np.clip(chance + rng.normal(0, 0.05), 0, 1), [s])[s] for s in range(5)}
    calm = difficulty_runs(rng, chance, range(5))
    wide_low, wide_high = accuracy_interval(spread)
    calm_low, calm_high = accuracy_interval(calm)
    assert wide_high - wide_low > 1.5 * (calm_high - calm_low)  # seed noise widens it
    mean = np.mean([v.mean() for v in calm.values()])
    assert calm_low < mean < calm_high

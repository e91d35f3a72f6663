"""scaling_search.stats.fidelity: Spearman's ρ, Kendall's τ-b, and whether a proxy ranking survives longer training."""

import itertools
import json
import math
import warnings

import numpy as np
import pytest
from scipy import stats

from scaling_search.stats import fidelity
from scaling_search.stats.fidelity import RankFidelity, kendall_tau_b, permutation_p, rank_fidelity, spearman

CORRELATIONS = [spearman, kendall_tau_b]


def noisy_study(rng: np.random.Generator, proxy_true, long_true, noise: float, seeds: int = 3):
    """Proxy scores as lists and long-run scores by seed, each seed's score its candidate's true value plus noise."""
    names = [f"c{i}" for i in range(len(proxy_true))]
    proxy = {name: list(value + rng.normal(0, noise, seeds)) for name, value in zip(names, proxy_true, strict=True)}
    long = {name: {seed: float(value + rng.normal(0, noise)) for seed in range(seeds)}
            for name, value in zip(names, long_true, strict=True)}
    return proxy, long


# --------------------------------------------------------------------------- the two correlations


@pytest.mark.parametrize("correlation", CORRELATIONS)
def test_perfect_and_reversed_rankings_score_plus_and_minus_one(correlation):
    assert correlation([1, 2, 3, 4, 5], [0.1, 0.4, 0.5, 0.9, 3.0]) == 1.0
    assert correlation([1, 2, 3, 4, 5], [9, 7, 6, 2, -1]) == -1.0


def test_tied_rankings_match_hand_computed_values():
    # x = [1, 2, 2, 3] has mid-ranks [1, 2.5, 2.5, 4]; y = [1, 3, 2, 2] has [1, 4, 2.5, 2.5]. Centred
    # (mean 2.5): [-1.5, 0, 0, 1.5] and [-1.5, 1.5, 0, 0]; Σ products = 2.25, Σ squares = 4.5 each,
    # so ρ = 2.25 / sqrt(4.5 · 4.5) = 0.5.
    # Kendall, over the 6 pairs (i, j): (0,1) +, (0,2) +, (0,3) +, (1,2) tied in x, (1,3) −, (2,3) tied
    # in y: concordant − discordant = 3 − 1 = 2; pairs untied in x = 6 − 1 = 5, in y = 6 − 1 = 5,
    # so τ-b = 2 / sqrt(5 · 5) = 0.4 (τ-a, without the tie correction, would be 2 / 6).
    assert spearman([1, 2, 2, 3], [1, 3, 2, 2]) == pytest.approx(0.5, abs=1e-12)
    assert kendall_tau_b([1, 2, 2, 3], [1, 3, 2, 2]) == pytest.approx(0.4, abs=1e-12)
    # The same ties in the same places: ranks [1.5, 1.5, 3, 4] on both sides, so ρ = 1; Kendall: 5
    # concordant pairs, 1 pair tied on both sides, τ-b = 5 / sqrt(5 · 5) = 1 (τ-a would be 5 / 6).
    assert spearman([1, 1, 2, 3], [5, 5, 6, 7]) == pytest.approx(1.0, abs=1e-12)
    assert kendall_tau_b([1, 1, 2, 3], [5, 5, 6, 7]) == pytest.approx(1.0, abs=1e-12)
    # A tie on one side against a strict order: x = [1, 1, 2], y = [1, 2, 3]. Ranks [1.5, 1.5, 3] and
    # [1, 2, 3], centred [-0.5, -0.5, 1] and [-1, 0, 1]: ρ = 1.5 / sqrt(1.5 · 2) = sqrt(0.75).
    # Kendall: pairs (0,1) tied in x, (0,2) +, (1,2) +: τ-b = 2 / sqrt(2 · 3) = sqrt(2 / 3).
    assert spearman([1, 1, 2], [1, 2, 3]) == pytest.approx(math.sqrt(0.75), abs=1e-12)
    assert kendall_tau_b([1, 1, 2], [1, 2, 3]) == pytest.approx(math.sqrt(2 / 3), abs=1e-12)


def tie_heavy_pairs(seed: int, draws: int, longest: int, values: int):
    """Pairs of integer sequences of 3 to ``longest`` − 1 values in [0, ``values``), each side holding two or more."""
    rng = np.random.default_rng(seed)
    for _ in range(draws):
        n = int(rng.integers(3, longest))
        x, y = rng.integers(0, values, n), rng.integers(0, values, n)
        if len(set(x)) > 1 and len(set(y)) > 1:
            yield x, y


def test_values_match_scipy_on_tie_heavy_data():
    for x, y in tie_heavy_pairs(3, 40, 40, 5):
        assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
        assert kendall_tau_b(x, y) == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-12)


@pytest.mark.parametrize("correlation", CORRELATIONS)
def test_a_constant_side_gives_nan_without_warnings(correlation):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(correlation([0.5, 0.5, 0.5], [1, 2, 3]))
        assert math.isnan(correlation([1, 2, 3], [7, 7, 7]))
        assert math.isnan(correlation([1], [2]))


@pytest.mark.parametrize("correlation", CORRELATIONS)
@pytest.mark.parametrize(("x", "y"), [([1, 2, 3], [1, 2]), ([], []), ([1, float("nan")], [1, 2]),
                                      ([[1, 2]], [[1, 2]])])
def test_unusable_inputs_raise(correlation, x, y):
    with pytest.raises(ValueError, match="rank correlation"):
        correlation(x, y)


# --------------------------------------------------------------------------- the permutation p


def exact_p(x, y) -> tuple[float, float]:
    """Both one-sided p-values by brute force over every order of y, with scipy's ρ: what permutation_p must give."""
    observed = stats.spearmanr(x, y).statistic
    rhos = np.array([stats.spearmanr(x, order).statistic for order in itertools.permutations(y)])
    return float(np.mean(rhos >= observed - 1e-9)), float(np.mean(rhos <= observed + 1e-9))


@pytest.mark.parametrize(("count", "p"), [(2, 1 / 2), (3, 1 / 6), (4, 1 / 24), (5, 1 / 120), (6, 1 / 720),
                                          (8, 1 / 40320)])
def test_a_perfect_order_of_k_candidates_has_p_one_over_k_factorial(count, p):
    higher, lower = permutation_p(range(count), [0.1 * i for i in range(count)])
    assert higher == pytest.approx(p, rel=1e-12) and lower == 1.0
    higher, lower = permutation_p(range(count), [-i for i in range(count)])  # reversed: the mirror image
    assert higher == 1.0 and lower == pytest.approx(p, rel=1e-12)


def test_permutation_p_matches_brute_force_with_ties():
    for x, y in tie_heavy_pairs(11, 15, 7, 4):
        assert permutation_p(x, y) == pytest.approx(exact_p(x, y), abs=1e-12)
    # y = [1, 1, 2, 2] against a strict order: the 4 orders that swap only tied values keep ρ, so 4 of 24 reach it
    assert permutation_p([1, 2, 3, 4], [1, 1, 2, 2])[0] == pytest.approx(4 / 24)


def test_above_eight_candidates_p_is_drawn_seeded_and_close_to_exact(monkeypatch):
    x = np.arange(7)
    y = np.array([0, 2, 1, 3, 6, 4, 5])  # ρ = 0.93 against x
    exact = permutation_p(x, y)  # all 7! = 5,040 orders
    assert exact == pytest.approx(exact_p(x, y), abs=1e-12)
    monkeypatch.setattr(fidelity, "EXACT_UP_TO", 4)  # the drawn path, on a size whose exact answer is known
    drawn = permutation_p(x, y, random_seed=3)
    assert drawn == permutation_p(x, y, random_seed=3) and drawn != permutation_p(x, y, random_seed=4)
    assert drawn[0] == pytest.approx(exact[0], abs=0.002) and drawn[1] == pytest.approx(exact[1], abs=0.002)
    monkeypatch.undo()
    # a perfect order of 10 is never reached by chance in 20,000 draws: p = (0 + 1) / (20,000 + 1), never 0
    assert permutation_p(range(10), range(10))[0] == pytest.approx(1 / 20_001)
    assert permutation_p(range(10), range(10), permutations=99)[0] == pytest.approx(1 / 100)


def test_permutation_p_of_a_constant_side_is_nan_and_bad_input_raises():
    assert all(math.isnan(p) for p in permutation_p([1, 2, 3], [5, 5, 5]))
    with pytest.raises(ValueError, match="rank correlation"):
        permutation_p([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="permutations must be at least 1"):
        permutation_p([1, 2, 3], [1, 2, 3], permutations=0)


# --------------------------------------------------------------------------- rank_fidelity


def test_three_perfectly_ordered_candidates_give_no_verdict():
    # Well separated, 2 and 3 seeds: the resampled seeds never reorder them, so the bootstrap would give "1.00 to
    # 1.00"; yet a random order of 3 is the proxy's own 1 time in 6, so nothing may be concluded.
    for seeds in (2, 3):
        proxy, long = noisy_study(np.random.default_rng(seeds), [0.5, 0.6, 0.7], [0.6, 0.7, 0.8], 0.002, seeds)
        found = rank_fidelity(proxy, long)
        assert found.spearman == found.kendall == 1.0 and found.seeds == seeds
        assert found.permutation_p == pytest.approx(1 / 6) and found.permutation_p_opposite == 1.0
        assert found.spearman_ci95 is None and found.kendall_ci95 is None  # not "1.00 to 1.00"
        assert found.spearman_steady and found.kendall_steady
        text = found.sentence()
        assert "agree:" not in text and "opposite" not in text and "1.00 to 1.00" not in text
        assert text.startswith("No verdict from 3 candidates: Spearman ρ = 1.00 (no interval), Kendall τ = 1.00 "
                               "(no interval), permutation p = 0.17;")
        assert "a verdict needs at least 5 candidates, since with K candidates even a perfect order has p = 1/K! " \
               "(here 1/6 = 0.17; with 5, 1/120 = 0.008)" in text
        assert "the resampled seeds hardly ever reorder these candidates" in text


def test_four_perfectly_ordered_candidates_give_no_verdict_though_p_is_below_005():
    proxy, long = noisy_study(np.random.default_rng(0), [0.5, 0.6, 0.7, 0.8], [0.6, 0.7, 0.8, 0.9], 0.002)
    found = rank_fidelity(proxy, long)
    assert found.permutation_p == pytest.approx(1 / 24) and found.permutation_p < 0.05
    assert found.sentence().startswith("No verdict from 4 candidates:") and "agree:" not in found.sentence()


def test_six_well_separated_candidates_agree_on_p_alone():
    true = np.linspace(0.60, 0.70, 6)
    proxy, long = noisy_study(np.random.default_rng(0), true - 0.2, true, noise=0.002)
    found = rank_fidelity(proxy, long)
    assert found.spearman == found.kendall == 1.0
    assert found.permutation_p == pytest.approx(1 / 720) and found.permutation_p_opposite == 1.0
    assert found.spearman_ci95 is None and found.kendall_ci95 is None  # steady, not "1.00 to 1.00"
    assert found.spearman_steady and found.kendall_steady
    assert found.winner_kept and found.winner_long_rank == 1 and found.proxy_winner == found.long_winner == "c5"
    assert found.candidates == ("c5", "c4", "c3", "c2", "c1", "c0")  # best proxy score first
    assert list(found.proxy) == sorted(found.proxy, reverse=True)
    assert (found.seeds, found.proxy_seeds, found.paired) == (3, 3, True)
    text = found.sentence()
    assert text.startswith("Proxy and long ranks agree: Spearman ρ = 1.00 (no interval), Kendall τ = 1.00 (no "
                           "interval), permutation p = 0.0014; p below 0.05, and no interval for ρ and τ: the "
                           "resampled seeds hardly ever reorder these candidates")
    assert "the proxy winner c5 keeps first place on the long runs." in text


def test_a_faithful_proxy_with_seed_noise_agrees_on_its_intervals_and_p():
    true = np.linspace(0.60, 0.70, 6)
    proxy, long = noisy_study(np.random.default_rng(0), true - 0.2, true, noise=0.02)
    found = rank_fidelity(proxy, long)
    assert found.spearman_ci95[0] > 0.5 and found.kendall_ci95[0] > 0.4
    assert found.spearman_ci95[1] <= 1.0 and found.kendall_ci95[1] <= 1.0
    assert not found.spearman_steady and found.permutation_p < 0.05
    assert "both intervals above 0 and p below 0.05;" in found.sentence()
    assert found.sentence().startswith("Proxy and long ranks agree: Spearman ρ = 0.94 (95 % interval 0.")


def test_intervals_above_zero_do_not_agree_without_a_small_p():
    # Intervals wholly above 0 (seed noise cannot overturn this ρ) but an order that chance gives 1 time in 5.
    found = RankFidelity(tuple("abcde"), (0.9, 0.8, 0.7, 0.6, 0.5), (0.7, 0.5, 0.8, 0.6, 0.4), 0.6, (0.5, 0.7), 0.4,
                         (0.3, 0.5), "a", "c", False, 2, 3, 3, True, 0.175, 0.89)
    text = found.sentence()
    assert text.startswith("Too uncertain to say whether proxy and long ranks agree:")
    assert "p is not below 0.05: a random order of the long runs agrees as well 18 % of the time" in text
    assert "interval contains 0" not in text
    # a steady correlation cannot stand in for p either
    steady = RankFidelity(tuple("abcde"), (0.9, 0.8, 0.7, 0.6, 0.5), (0.7, 0.5, 0.8, 0.6, 0.4), 0.6, None, 0.4,
                          None, "a", "c", False, 2, 3, 3, True, 0.175, 0.89, True, True)
    assert steady.sentence().startswith("Too uncertain to say")


def test_a_reversed_proxy_runs_opposite_and_loses_its_winner():
    true = np.linspace(0.60, 0.70, 5)
    proxy, long = noisy_study(np.random.default_rng(1), true, true[::-1], noise=0.002)
    found = rank_fidelity(proxy, long)
    assert found.spearman == found.kendall == -1.0
    assert found.spearman_ci95 is found.kendall_ci95 is None and found.spearman_steady and found.kendall_steady
    assert not found.winner_kept and found.winner_long_rank == 5
    assert found.proxy_winner == "c4" and found.long_winner == "c0"
    assert found.permutation_p_opposite == pytest.approx(1 / 120) and found.permutation_p == 1.0
    text = found.sentence()
    assert text.startswith("Proxy and long ranks run opposite ways:") and "agree:" not in text
    assert "opposite-way p = 0.0083" in text and "the opposite-way p below 0.05" in text
    assert "the proxy winner c4 comes 5th of 5 on the long runs, where c0 comes first." in text


def test_a_random_proxy_is_too_uncertain_to_call():
    rng = np.random.default_rng(0)
    proxy, long = noisy_study(rng, np.full(8, 0.5), np.full(8, 0.7), noise=0.02)  # no true differences at all
    found = rank_fidelity(proxy, long)
    for low, high in (found.spearman_ci95, found.kendall_ci95):
        assert low < 0 < high and high - low > 0.6
    assert found.permutation_p > 0.05
    text = found.sentence()
    assert text.startswith("Too uncertain to say whether proxy and long ranks agree")
    assert "an interval contains 0, too wide to conclude from 8 candidates" in text
    assert "p is not below 0.05" in text
    assert "opposite" not in text


def test_ties_on_the_long_runs_share_the_better_rank():
    proxy = {"a": [0.60], "b": [0.55], "c": [0.50], "d": [0.45]}
    # a ties b for first: a keeps first place, and is named the long winner
    tied_first = rank_fidelity(proxy, {"a": [0.8, 0.9], "b": [0.9, 0.8], "c": [0.7, 0.7], "d": [0.6, 0.6]})
    assert tied_first.winner_long_rank == 1 and tied_first.winner_kept and tied_first.long_winner == "a"
    assert "the proxy winner a shares first place on the long runs with b." in tied_first.sentence()
    # c first, a ties b and d behind it: a is 2nd (not 3rd or 4th)
    tied_second = rank_fidelity(proxy, {"a": [0.8, 0.8], "b": [0.8, 0.8], "c": [0.9, 0.9], "d": [0.8, 0.8]})
    assert tied_second.winner_long_rank == 2 and not tied_second.winner_kept and tied_second.long_winner == "c"
    assert "the proxy winner a shares 2nd of 4 with b and d on the long runs, where c comes first." in (
        tied_second.sentence())


def test_two_candidates_give_no_verdict():
    proxy = {"a": [0.60, 0.61], "b": [0.50, 0.52]}
    kept = rank_fidelity(proxy, {"a": {0: 0.80, 1: 0.82}, "b": {0: 0.70, 1: 0.71}})
    swapped = rank_fidelity(proxy, {"a": {0: 0.70, 1: 0.71}, "b": {0: 0.80, 1: 0.82}})
    assert kept.spearman == kept.kendall == 1.0 and kept.winner_kept
    assert swapped.spearman == swapped.kendall == -1.0 and not swapped.winner_kept
    assert swapped.winner_long_rank == 2 and swapped.long_winner == "b"
    assert (kept.permutation_p, kept.permutation_p_opposite) == (0.5, 1.0)
    assert (swapped.permutation_p, swapped.permutation_p_opposite) == (1.0, 0.5)
    for found in (kept, swapped):
        text = found.sentence()
        assert text.startswith("No verdict from 2 candidates") and "(here 1/2 = 0.5;" in text
        assert "agree:" not in text and "opposite ways:" not in text


@pytest.mark.parametrize(("proxy", "long", "message"), [
    ({"a": [1.0], "b": [2.0], "c": [3.0]}, {"a": [1.0], "b": [2.0], "d": [3.0]},
     "missing from long: c; missing from proxy: d"),
    ({"a": [1.0], "b": [2.0]}, {"a": [1.0], "b": [2.0], "x": [3.0], "y": [1.0]}, "missing from proxy: x, y"),
    ({"a": [1.0]}, {"a": [1.0]}, "at least 2 candidates, got 1"),
    ({}, {}, "at least 2 candidates, got 0"),
    ({"a": [1.0], "b": []}, {"a": [1.0], "b": [2.0]}, "b has no proxy scores"),
    ({"a": [1.0], "b": [2.0]}, {"a": [1.0], "b": {0: float("inf")}}, "b's long scores must be finite"),
])
def test_mismatched_or_too_few_candidates_raise(proxy, long, message):
    with pytest.raises(ValueError, match=message):
        rank_fidelity(proxy, long)


def test_paired_seeds_share_one_draw():
    # Every seed moves every candidate the same way (seed 0 up, seed 1 down, a big shift); within a
    # seed the order is the proxy's. Drawn together, the shift cancels and the order always holds;
    # drawn separately (the same scores given as lists), it scrambles the order.
    proxy = {name: [score, score] for name, score in zip("abcde", [0.9, 0.8, 0.7, 0.6, 0.5], strict=True)}
    gaps = {name: 0.01 * rank for rank, name in enumerate("edcba")}
    by_seed = {name: {0: 0.5 + gap + 0.1, 1: 0.5 + gap - 0.1} for name, gap in gaps.items()}
    paired = rank_fidelity(proxy, by_seed)
    unpaired = rank_fidelity(proxy, {name: list(runs.values()) for name, runs in by_seed.items()})
    assert paired.paired and not unpaired.paired
    assert paired.spearman == unpaired.spearman == 1.0
    assert paired.spearman_ci95 is None and paired.kendall_ci95 is None  # steady: never "1.00 to 1.00"
    assert paired.spearman_steady and paired.kendall_steady
    assert not unpaired.spearman_steady and not unpaired.kendall_steady
    assert unpaired.spearman_ci95[0] < 0.5 and unpaired.kendall_ci95[0] < 0.5
    # different seeds on different candidates cannot be paired
    shifted = dict(by_seed, a={5: by_seed["a"][0], 6: by_seed["a"][1]})
    assert not rank_fidelity(proxy, shifted).paired


def test_one_long_seed_gives_no_interval():
    proxy = {"a": [0.6], "b": [0.5], "c": [0.4]}
    for long in ({"a": [0.8], "b": [0.7], "c": [0.6]}, {"a": [0.8, 0.81], "b": [0.7, 0.7], "c": [0.6]}):
        found = rank_fidelity(proxy, long)
        assert found.seeds == 1 and found.spearman == 1.0
        assert found.spearman_ci95 is None and found.kendall_ci95 is None
        assert not found.spearman_steady and found.permutation_p == pytest.approx(1 / 6)
        text = found.sentence()
        assert "no interval: one long-run seed" in text and "at least 2 long-run seeds per candidate" in text
        assert not text.startswith("Proxy and long ranks agree")
    # with enough candidates p alone would agree, but the seed noise is unknown: no verdict either way
    five = rank_fidelity({name: [0.6 - 0.1 * i] for i, name in enumerate("abcde")},
                         {name: [0.8 - 0.1 * i] for i, name in enumerate("abcde")})
    assert five.permutation_p == pytest.approx(1 / 120)
    assert five.sentence().startswith("Cannot say whether proxy and long ranks agree from 5 candidates:")


def test_one_proxy_seed_is_said():
    proxy, long = noisy_study(np.random.default_rng(2), np.linspace(0.5, 0.6, 4), np.linspace(0.7, 0.8, 4), 0.02)
    found = rank_fidelity({name: scores[:1] for name, scores in proxy.items()}, long)
    assert found.proxy_seeds == 1 and found.seeds == 3 and found.spearman_ci95 is not None
    assert "one proxy seed, so the proxy's own seed noise is not in the intervals" in found.sentence()


def test_a_constant_side_cannot_be_compared_and_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = rank_fidelity({"a": [0.6, 0.61], "b": [0.5, 0.52], "c": [0.4, 0.4]},
                              {"a": [0.7, 0.7], "b": [0.7, 0.7], "c": [0.7, 0.7]})
    assert math.isnan(found.spearman) and math.isnan(found.kendall)
    assert found.spearman_ci95 is None and found.kendall_ci95 is None
    assert found.winner_long_rank == 1 and found.long_winner == "a"
    assert found.permutation_p is None and found.permutation_p_opposite is None
    assert found.sentence().startswith("Proxy and long ranks cannot be compared: the long runs scored every candidate")


def test_resampled_means_spread_as_the_unbiased_variance_says():
    # two seeds: the plain bootstrap's variance of the mean is (S − 1)/S · var(ddof=1)/S, half the usual estimate;
    # rescaled by sqrt(S / (S − 1)) it is var(ddof=1)/S: here var([0.50, 0.52], ddof=1) = 0.02² / 2 = 0.0002,
    # so 0.0001 (the plain bootstrap would give 0.00005)
    values = np.array([[0.50, 0.52], [0.40, 0.40]])
    means = fidelity._rescaled_means(values, 20_000, np.random.default_rng(0))
    assert means.shape == (20_000, 2)
    assert np.var(means[:, 0]) == pytest.approx(0.0001, rel=0.05)
    assert np.all(means[:, 1] == 0.40)  # no spread, nothing drawn
    assert np.all(fidelity._rescaled_means(values[:, :1], 5, np.random.default_rng(0)) == [0.50, 0.40])


def test_interval_leaves_out_undefined_replicates_and_needs_half_of_them():
    half = np.array([np.nan] * 5 + [0.1, 0.2, 0.3, 0.4, 0.5])
    assert fidelity._interval(half) == (tuple(np.quantile([0.1, 0.2, 0.3, 0.4, 0.5], [0.025, 0.975])), False)
    assert fidelity._interval(np.append(half, np.nan)) == (None, False)


def test_a_one_point_interval_is_none_and_steady():
    assert fidelity._interval(np.ones(200)) == (None, True)
    assert fidelity._interval(np.append(np.ones(196), [0.8] * 4)) == (None, True)  # 2 % elsewhere: still one point
    assert fidelity._interval(np.append(np.ones(190), [0.8] * 10))[0] == pytest.approx((0.8, 1.0))  # 5 %: an interval


def test_the_same_random_seed_gives_the_same_result():
    proxy, long = noisy_study(np.random.default_rng(4), np.linspace(0.5, 0.6, 6), np.linspace(0.7, 0.8, 6), 0.03)
    first = rank_fidelity(proxy, long, resamples=500, random_seed=7)
    assert rank_fidelity(proxy, long, resamples=500, random_seed=7) == first
    other = rank_fidelity(proxy, long, resamples=500, random_seed=8)
    assert other.spearman == first.spearman and other.spearman_ci95 != first.spearman_ci95


def test_to_dict_is_json_ready():
    proxy, long = noisy_study(np.random.default_rng(5), np.linspace(0.5, 0.6, 4), np.linspace(0.7, 0.8, 4), 0.03)
    found = rank_fidelity(proxy, long, resamples=200)
    data = json.loads(json.dumps(found.to_dict(), allow_nan=False))
    assert data["candidates"] == list(found.candidates) and data["spearman_ci95"] == list(found.spearman_ci95)
    assert data["permutation_p"] == found.permutation_p and data["spearman_steady"] is False
    assert set(data) == set(RankFidelity.__dataclass_fields__)
    assert RankFidelity.from_dict(data) == found
    undefined = rank_fidelity({"a": [0.6], "b": [0.5]}, {"a": [0.7], "b": [0.7]}).to_dict()
    assert undefined["spearman"] is None and undefined["kendall_ci95"] is None and undefined["permutation_p"] is None


def test_a_record_from_before_the_permutation_p_reads_without_a_verdict():
    proxy, long = noisy_study(np.random.default_rng(0), np.linspace(0.5, 0.6, 6), np.linspace(0.7, 0.8, 6), 0.02)
    data = rank_fidelity(proxy, long).to_dict()
    older = {key: value for key, value in data.items()
             if key not in ("permutation_p", "permutation_p_opposite", "spearman_steady", "kendall_steady")}
    found = RankFidelity.from_dict(older)
    assert found.permutation_p is None and not found.spearman_steady
    assert found.sentence().startswith("Too uncertain to say") and "no permutation p was recorded" in found.sentence()


def test_ten_candidates_three_seeds_two_thousand_resamples():
    proxy, long = noisy_study(np.random.default_rng(6), np.linspace(0.5, 0.6, 10), np.linspace(0.7, 0.8, 10), 0.01)
    rank_fidelity(proxy, long, resamples=20)  # warm up
    rank_fidelity(proxy, long, resamples=2000)

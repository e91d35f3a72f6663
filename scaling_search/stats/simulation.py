"""Simulated studies with a known truth, to measure how often a verdict is wrong.

A verdict's promise ("resolved" is wrong at most 5 % of the time when there is no difference) can
only be checked on studies whose truth is known. :func:`simulate_study` draws one: a population of
images of varying difficulty, candidates that may see each image differently, a seed effect per
run (drawn independently for each candidate and seed), and per-image correctness for every run on
one or more splits (validation, test); :func:`simulate_pair` is its two-candidate, one-split case.
:data:`REGIMES` names the three settings the tests and docs/verdicts.md use, where the seeds, the
images, or both carry the noise. :func:`shift_for` finds the logit shift that gives the first
candidate a stated true advantage in accuracy, for power.

>>> import numpy as np
>>> first, second = simulate_pair(np.random.default_rng(0), REGIMES["seed-dominated"], seeds=3)
>>> sorted(first), first[0].shape, first[0].dtype
([0, 1, 2], (5000,), dtype('bool'))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from scaling_search.stats.distributions import bisect_increasing


@dataclass(frozen=True)
class Regime:
    """Where the noise of a simulated study comes from.

    ``accuracy`` is the population accuracy of both candidates (before any shift); ``difficulty``
    the s.d. of the images' logits (images range from nearly always right to nearly always wrong);
    ``seed_sd`` the s.d. of a run's accuracy caused by its seed, in accuracy (0.015 is 1.5 points);
    ``candidate_sd`` the s.d. of each candidate's own per-image logit deviation (0: both candidates
    find the same images hard, so the image noise largely cancels in their difference); ``images``
    how many images score each run.
    """

    accuracy: float
    difficulty: float
    seed_sd: float
    candidate_sd: float
    images: int


REGIMES = {
    "seed-dominated": Regime(accuracy=0.30, difficulty=2.0, seed_sd=0.015, candidate_sd=0.0, images=5000),
    "image-dominated": Regime(accuracy=0.30, difficulty=2.0, seed_sd=0.001, candidate_sd=1.5, images=2000),
    "mixed": Regime(accuracy=0.30, difficulty=2.0, seed_sd=0.007, candidate_sd=0.8, images=3000),
}
"""The three settings the interval is checked in. Seed-dominated is the issue's reference case
(accuracy 0.30, 5,000 images, a seed-to-seed s.d. of 1.5 points); image-dominated has nearly no seed
noise and candidates that disagree on many images; mixed has both at similar size."""


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))


def simulate_pair(rng: np.random.Generator, regime: Regime, seeds: int,
                  shift: float = 0.0) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Per-image correctness of two candidates' runs on seeds 0…seeds−1, on one fresh draw of images.

    The first candidate's logits are raised by ``shift``; with ``shift`` 0 both candidates have the
    same population accuracy: a null study. See :func:`simulate_study` for the model.
    """
    (first, second), = simulate_study(rng, regime, seeds, (shift, 0.0))
    return first, second


def simulate_study(rng: np.random.Generator, regime: Regime, seeds: int, shifts: Sequence[float],
                   splits: int = 1) -> list[list[dict[int, np.ndarray]]]:
    """Per split, per candidate, seed -> per-image correctness: one simulated study with a known truth.

    Image n of a split has logit η_n = m + difficulty · z_n, with m set so that the population
    accuracy is ``accuracy`` (:func:`intercept`); candidate c sees η_n + candidate_sd · ε_cn +
    ``shifts[c]``. Run (c, s) is one trained network: its seed effect u_cs (independent for each
    candidate and seed) is the same on every split, scaled so that it moves the run's accuracy by
    about ``seed_sd`` per unit. A run gets image n right with probability sigmoid(its logit). Each
    split draws its own images, so a later split judges runs on images an earlier one did not see.

    >>> import numpy as np
    >>> (val, test), = [simulate_study(np.random.default_rng(0), REGIMES["mixed"], 3, (0.0, 0.0, 0.0), splits=2)]
    >>> len(val), len(test), sorted(val[0])
    (3, 3, [0, 1, 2])
    """
    location = intercept(regime)
    effects = [rng.standard_normal(seeds) for _ in shifts]
    out = []
    for _ in range(splits):
        base = location + regime.difficulty * rng.standard_normal(regime.images)
        sides = []
        for shift, effect in zip(shifts, effects, strict=True):
            logits = base + regime.candidate_sd * rng.standard_normal(regime.images) + shift
            chance = _sigmoid(logits)
            slope = float((chance * (1.0 - chance)).mean())  # d accuracy / d logit shift
            moved = effect * regime.seed_sd / slope
            sides.append({seed: rng.random(regime.images) < _sigmoid(logits + moved[seed]) for seed in range(seeds)})
        out.append(sides)
    return out


def shift_for(regime: Regime, advantage: float, draws: int = 1_000_000, random_seed: int = 0) -> float:
    """The logit shift that makes the first candidate's population accuracy ``advantage`` higher (e.g. 0.03).

    >>> round(shift_for(REGIMES["seed-dominated"], 0.03), 2)
    0.22
    """
    logits = intercept(regime) + _spread(regime, draws, random_seed)
    return bisect_increasing(lambda shift: float(_sigmoid(logits + shift).mean()) - regime.accuracy - advantage,
                             -10.0, 10.0)


@lru_cache(maxsize=64)
def intercept(regime: Regime, draws: int = 1_000_000, random_seed: int = 0) -> float:
    """The logit location m at which the regime's images average ``accuracy`` (the sigmoid bends the mean).

    >>> round(float(_sigmoid(intercept(REGIMES["mixed"]) + _spread(REGIMES["mixed"], 10**6, 1)).mean()), 3)
    0.3
    """
    spread = _spread(regime, draws, random_seed)
    return bisect_increasing(lambda location: float(_sigmoid(location + spread).mean()) - regime.accuracy, -10.0, 10.0)


def _spread(regime: Regime, draws: int, random_seed: int) -> np.ndarray:
    """Draws of an image's logit about its location: difficulty plus one candidate's own deviation."""
    rng = np.random.default_rng(random_seed)
    return regime.difficulty * rng.standard_normal(draws) + regime.candidate_sd * rng.standard_normal(draws)

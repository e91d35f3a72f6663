"""TPE over the split of the cost budget between depth, width and resolution.

Dollár et al. 2021 ("Fast and Accurate Model Scaling") write compound scaling of the cost by s as
a split of its exponent: e_d + e_w + e_r = 1 with every e ≥ 0, and

    α = s^{e_d},  β = s^{e_w/2},  γ = s^{e_r/2},  so α·β²·γ² = s whatever the split,

and all three are ≥ 1 for s ≥ 1 (at φ < 0 the network shrinks by them). Under the nominal
constraint s is the study's ``target``, so every sample lies on the constraint by construction.
Under the measured constraint the split is kept and s is the budget at which the split's
network, counted at the cost scale, costs target^φ: rounding of repeats, channels and resolution
makes the realised cost differ from α·β²·γ² (B0 at the paper's point: 1.92 nominal, 2.23×
measured), so splits of s = target itself mostly miss a 5 % tolerance (at φ = 1, 32 px proxy,
224 px cost scale: 4 of a 60-trial TPE study's 59 samples met it; at φ = −1 none did).

A split is feasible when its candidate contends (:class:`~scaling_search.coefficients.grid.Candidate`):
its family grows as promised and it trains with the target compute at the proxy, the conditions
the grid's candidates meet. The budget s is set by the cost at φ, not by the growth at φ = 7, so
few splits contend (measured, φ = 1, 224 px proxy: 15 of a 21 × 21 grid of splits; nominal: 48);
setting s by growth instead is a known next step (docs/proxy.md).

The simplex is searched through two Optuna floats on [0, 1]: ``e_depth`` = e_d, and
``width_share``, the part of the rest that goes to width, e_w = (1 − e_d)·width_share (the
remainder, e_r, goes to resolution). Every split is reached: e_d = 1 is the depth vertex (any
share), and for e_d < 1 the share is e_w / (1 − e_d). A uniform draw on the square is not
uniform on the simplex (its density there is 1/(1 − e_d), so depth-heavy splits are drawn more
often); the two parameters are kept because each reads directly as a budget share.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.trial import TrialState

from scaling_search.coefficients.grid import Candidate, GridSpec, cost_layout, measure
from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.cost_kind import COST_WORDS, counted_cost
from scaling_search.counting.counter import Counter
from scaling_search.search.enqueue import NATIVE_RESOLUTION, candidate_attrs
from scaling_search.search.results import stage_trials
from scaling_search.search.search_plan import PlannedTrial
from scaling_search.study.schema import Stage

STARTUP_TRIALS = 5
"""Finished trials drawn at random before TPE models the results: a quarter of the default 20-trial budget
(``sizing.DEFAULT_TPE_TRIALS``), so most of a default study is guided."""


def tpe_sampler(seed: int) -> optuna.samplers.TPESampler:
    """The study's sampler: multivariate TPE, with a constant liar for trials that run concurrently.

    ``group`` decomposes the search space by the parameters trials share: the enqueued reference
    trials have only α, β, γ, seed, the sampled ones also ``e_depth`` and ``width_share``, and
    without it Optuna would model each of the two alone as soon as a reference trial finished.
    Optuna calls ``group`` (before 5.0 all three) experimental; those warnings, and only they, are silenced here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=STARTUP_TRIALS, multivariate=True,
                                          group=True, constant_liar=True)


def split_powers(e_depth: float, width_share: float) -> tuple[float, float, float]:
    """The powers of the budget that α, β and γ are: (e_d, e_w/2, e_r/2), for ``e_depth`` to depth and
    ``width_share`` of the rest to width."""
    e_width = (1.0 - e_depth) * width_share
    return e_depth, e_width / 2, (1.0 - e_depth - e_width) / 2


def split_coefficients(budget: float, e_depth: float, width_share: float) -> tuple[float, float, float]:
    """(α, β, γ) of a budget split: ``e_depth`` to depth, ``width_share`` of the rest to width, the remainder to
    resolution; α·β²·γ² = ``budget``.

    Example:
        >>> from scaling_search.search.tpe import split_coefficients
        >>> split_coefficients(2.0, 1.0, 0.5), split_coefficients(4.0, 0.0, 1.0), split_coefficients(4.0, 0.5, 0.0)
        ((2.0, 1.0, 1.0), (1.0, 2.0, 1.0), (2.0, 1.0, 1.4142135623730951))
    """
    alpha, beta, gamma = (budget**power for power in split_powers(e_depth, width_share))
    return alpha, beta, gamma


def measured_split(spec: GridSpec, e_depth: float, width_share: float) -> tuple[float, float, float] | None:
    """(α, β, γ) of the split whose cost-scale MACs ratio (closed form) is nearest ``spec.target_ratio`` among the
    budgets that keep all three within ``spec``'s ranges; None when no budget does.

    The cost only grows with the budget at φ > 0 (and only shrinks at φ < 0): repeats, channels and
    resolution each round monotonically. So the budget where the cost crosses the target is found by
    bisection, in logs, between the smallest and the largest budget the ranges allow; of the networks
    on either side of the crossing the one nearer the target is kept (when the ranges end before the
    crossing, the one at that end; the counter then decides whether it is within the tolerance).
    The crossing lies on a rounding step, where the last digits of α, β or γ decide the network, so
    the budget returned is the middle of the interval that realises the kept network at the cost scale.
    """
    powers = split_powers(e_depth, width_share)
    ranges = (spec.alpha_range, spec.beta_range, spec.gamma_range)
    if any(power == 0 and low > 1 for power, (low, _) in zip(powers, ranges, strict=True)):
        return None  # that coefficient stays 1 at every budget, below its range
    bottom = max(math.log(least) / power for power, (least, _) in zip(powers, ranges, strict=True) if power > 0)
    top = min(math.log(most) / power for power, (_, most) in zip(powers, ranges, strict=True) if power > 0)
    if bottom > top:
        return None

    def coefficients(log_budget: float) -> tuple[float, float, float]:
        # within the ranges by the bracket; clamped only against float rounding at its ends
        alpha, beta, gamma = (min(max(math.exp(power * log_budget), least), most)
                              for power, (least, most) in zip(powers, ranges, strict=True))
        return alpha, beta, gamma

    def cost(log_budget: float) -> int:
        return counted_cost(analytic_counts(cost_layout(spec, *coefficients(log_budget))), spec.cost)

    base_cost = counted_cost(analytic_counts(spec.base_cost_layout()), spec.cost)

    def miss(log_budget: float) -> float:
        """The cost ratio minus the target, signed so that it grows with the budget."""
        return (cost(log_budget) / base_cost - spec.target_ratio) * math.copysign(1.0, spec.phi)

    below, above = turning_point(bottom, top, lambda log_budget: miss(log_budget) >= 0)
    if abs(miss(below)) <= abs(miss(above)):
        kept = cost(below)
        start = turning_point(bottom, below, lambda log_budget: cost(log_budget) == kept)[1]
        return coefficients((start + below) / 2)
    kept = cost(above)
    end = turning_point(above, top, lambda log_budget: cost(log_budget) != kept)[0]
    return coefficients((above + end) / 2)


def turning_point(low: float, high: float, turned: Callable[[float], bool]) -> tuple[float, float]:
    """Adjacent floats in [``low``, ``high``] either side of where ``turned`` (false, then true as its argument
    grows) turns true; (``low``, its next float) when it is true throughout, the last two when false throughout.

    The ends themselves are never asked about: bisection down to adjacent floats.
    """
    while (middle := (low + high) / 2) not in (low, high):
        if turned(middle):
            high = middle
        else:
            low = middle
    return low, high


def outside_ranges(spec: GridSpec, coefficients: tuple[float, float, float]) -> str | None:
    """Which of (α, β, γ) lie outside ``spec``'s ranges, as a reason; None when all lie within them."""
    reasons = [f"{name}={value:.4f} is outside {low:g}..{high:g}"
               for name, value, (low, high) in zip(("alpha", "beta", "gamma"), coefficients,
                                                   (spec.alpha_range, spec.beta_range, spec.gamma_range), strict=True)
               if not low <= value <= high]
    return "; ".join(reasons) or None


def tpe_suggester(spec: GridSpec, counter: Counter, n_trials: int) -> Callable[[optuna.Study], optuna.Trial | None]:
    """A function that asks the study's sampler for the next feasible budget split and measures its network.

    The returned trial has params ``e_depth``, ``width_share``, and α, β, γ and seed 0 (each fixed to its
    value, for whatever reads ``trial.params``), and the candidate's attributes; it returns None once the study
    has ``n_trials`` trials. A split whose α, β or γ lies outside ``spec``'s ranges, or whose candidate (counted
    by ``counter``) does not contend — its family misses the growth target, or it trains with other than the
    target compute at the proxy — is told FAIL with user attrs status "infeasible" and a reason, and counts
    towards ``n_trials``.
    """

    def suggest(study: optuna.Study) -> optuna.Trial | None:
        while len(stage_trials(study.get_trials(deepcopy=False), Stage.SEARCH)) < n_trials:
            trial = study.ask()
            e_depth = trial.suggest_float("e_depth", 0.0, 1.0)
            width_share = trial.suggest_float("width_share", 0.0, 1.0)
            reason = realise_split(spec, counter, trial, e_depth, width_share)
            if reason is None:
                return trial
            trial.set_user_attr("status", "infeasible")
            trial.set_user_attr("reason", reason)
            study.tell(trial, state=TrialState.FAIL)
        return None

    return suggest


def realise_split(spec: GridSpec, counter: Counter, trial: optuna.Trial, e_depth: float, width_share: float
                   ) -> str | None:
    """Give ``trial`` the split's α, β, γ (and, when feasible, seed 0 and the candidate's attributes).

    Returns why the split is infeasible, or None when it is feasible.
    """
    split = (split_coefficients(spec.target, e_depth, width_share) if spec.constraint == "nominal"
             else measured_split(spec, e_depth, width_share))
    if split is None:
        return "no budget on this split keeps alpha, beta and gamma within their ranges"
    alpha, beta, gamma = (trial.suggest_float(name, value, value)
                          for name, value in zip(("alpha", "beta", "gamma"), split, strict=True))
    reason = outside_ranges(spec, (alpha, beta, gamma))
    if reason is not None:
        return reason
    candidate = measure(spec, (alpha, beta, gamma), "compound", counter)
    if not candidate.contender:
        return not_contending(spec, candidate)
    trial.suggest_int("seed", 0, 0)
    for key, value in candidate_attrs(PlannedTrial(candidate, 0), trial.study.user_attrs[NATIVE_RESOLUTION]).items():
        trial.set_user_attr(key, value)
    return None


def not_contending(spec: GridSpec, candidate: Candidate) -> str:
    """Why a measured split is no contender: its family's growth per φ, or the compute it trains with."""
    if not candidate.on_growth:
        return (f"its family grows {candidate.growth_per_phi:.3f}x per phi (at phi = {candidate.growth_phi}), not "
                f"within {spec.growth_tolerance_used:.0%} of {spec.target:g}")
    return (f"it trains with {candidate.proxy_ratio:.3f}x the base's {COST_WORDS[candidate.cost_kind]} at "
            f"{candidate.resolution} px, not "
            f"within {spec.tolerance:.0%} of {spec.target_ratio:.3g}")

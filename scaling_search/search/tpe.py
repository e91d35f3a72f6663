"""TPE over (α, β) with γ solved from the constraint, so every sampled trial lies on it."""

from __future__ import annotations

import math
from collections.abc import Callable

import optuna
from optuna.trial import TrialState

from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.counter import Counter
from scaling_search.grid import Candidate, GridSpec, measure
from scaling_search.models.scaling import compound_layout
from scaling_search.search.plan import PlannedTrial, solve_gamma
from scaling_search.search.storage import candidate_attrs

MAX_GAMMA = 4.0


def measured_gamma(spec: GridSpec, alpha: float, beta: float) -> float | None:
    """γ whose realised resolution puts the measured cost ratio nearest target^φ; None when no γ ≥ 1 brings it
    within the tolerance (γ = 1 already overshoots, or the cost jumps past the target between two resolutions).

    Resolution is an integer, so γ is searched over integer resolutions and returned exactly
    as the one that realises the best of them.
    """
    base = compound_layout(1, 1, 1, 0, spec.base_resolution, spec.num_classes)
    base_macs = analytic_counts(base).macs
    target = spec.target_ratio

    def ratio(resolution: int) -> float:
        layout = compound_layout(alpha, beta, 1.0, spec.phi, spec.base_resolution, spec.num_classes)
        return analytic_counts(layout.with_resolution(resolution)).macs / base_macs

    low = compound_layout(alpha, beta, 1.0, spec.phi, spec.base_resolution, spec.num_classes).resolution
    if ratio(low) > target * (1 + spec.tolerance):
        return None
    high = max(low, int(spec.base_resolution * MAX_GAMMA ** abs(spec.phi)))
    while low < high:  # smallest resolution whose cost reaches the target
        middle = (low + high) // 2
        if ratio(middle) < target:
            low = middle + 1
        else:
            high = middle
    best = min((r for r in (low - 1, low) if r >= 8), key=lambda r: abs(ratio(r) - target))
    if abs(ratio(best) - target) > spec.tolerance * target:
        return None
    return (best / spec.base_resolution) ** (1 / spec.phi)


def tpe_suggester(spec: GridSpec, counter: Counter, n_trials: int) -> Callable[[optuna.Study], optuna.Trial | None]:
    """A function that asks the study's TPE sampler for the next feasible (α, β) and measures it.

    Points with no feasible γ ≥ 1 are told FAIL ("infeasible") and count towards ``n_trials``.
    """
    base_macs = counter(compound_layout(1, 1, 1, 0, spec.base_resolution, spec.num_classes)).macs
    alpha_low, alpha_high = spec.alpha_range
    beta_low, beta_high = spec.beta_range

    def suggest(study: optuna.Study) -> optuna.Trial | None:
        while len(study.get_trials(deepcopy=False)) < n_trials:
            trial = study.ask()
            alpha = trial.suggest_float("alpha", alpha_low, max(alpha_low, min(alpha_high, spec.target)))
            beta_cap = math.sqrt(spec.target / alpha)
            beta = trial.suggest_float("beta", beta_low, max(beta_low, min(beta_high, beta_cap)))
            if spec.constraint == "nominal":
                gamma = solve_gamma(alpha, beta, spec.target)
            else:
                gamma = measured_gamma(spec, alpha, beta)
            if gamma is None or gamma < 1.0:
                trial.set_user_attr("status", "infeasible")
                trial.set_user_attr("reason", f"no gamma >= 1 puts alpha={alpha:.4f}, beta={beta:.4f} on the "
                                              "cost constraint")
                study.tell(trial, state=TrialState.FAIL)
                continue
            gamma = trial.suggest_float("gamma", gamma, gamma)
            trial.suggest_int("seed", 0, 0)
            candidate: Candidate = measure(spec, (alpha, beta, gamma), "compound", counter)
            for key, value in candidate_attrs(PlannedTrial(candidate, 0)).items():
                trial.set_user_attr(key, value)
            return trial
        return None

    return suggest


"""The TPE strategy without Ray: budget splits on the simplex, their coefficients, the trials the suggester hands out.

In-memory Optuna studies, candidates measured with the closed-form counter: seconds in all.
"""

from __future__ import annotations

import math
import warnings

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState

from scaling_search.coefficients.grid import GridSpec, cost_layout
from scaling_search.counting.analytic import analytic_counts
from scaling_search.search.tpe import (
    measured_split,
    outside_ranges,
    split_coefficients,
    tpe_sampler,
    tpe_suggester,
)
from scaling_search.study.storage import quiet_optuna


def tpe_points(spec: GridSpec, trials: int, seed: int = 0) -> tuple[list[optuna.trial.FrozenTrial], optuna.Study]:
    """Every trial the suggester hands out in a new study, and the study."""
    study = optuna.create_study(direction="maximize", sampler=tpe_sampler(seed))
    return suggest_all(study, spec, trials), study


def suggest_all(study: optuna.Study, spec: GridSpec, trials: int) -> list[optuna.trial.FrozenTrial]:
    """Every trial the suggester hands out until ``study`` has ``trials``, each told a made-up accuracy."""
    suggest = tpe_suggester(spec, analytic_counts, trials)
    suggested = []
    with quiet_optuna():
        while (trial := suggest(study)) is not None:
            study.tell(trial, 1.0 / trial.params["alpha"])
            suggested.append(study.get_trials(deepcopy=False)[trial.number])
    return suggested


def cost_ratio(spec: GridSpec, trial: optuna.trial.FrozenTrial) -> float:
    """The trial's MACs ratio counted again here, at the cost scale."""
    coefficients = (trial.params[name] for name in ("alpha", "beta", "gamma"))
    return analytic_counts(cost_layout(spec, *coefficients)).macs / analytic_counts(spec.base_cost_layout()).macs


def test_a_split_maps_to_coefficients_on_its_budget():
    assert split_coefficients(2.0, 1.0, 0.5) == (2.0, 1.0, 1.0)  # all to depth, whatever the share
    assert split_coefficients(2.0, 0.0, 1.0) == (1.0, 1.4142135623730951, 1.0)  # all to width: beta = sqrt(2)
    assert split_coefficients(2.0, 0.0, 0.0) == (1.0, 1.0, 1.4142135623730951)  # all to resolution
    assert split_coefficients(2.0, 0.5, 0.5) == (1.4142135623730951, 1.0905077326652577, 1.0905077326652577)
    alpha, beta, gamma = split_coefficients(3.0, 0.3, 0.7)
    assert alpha * beta**2 * gamma**2 == pytest.approx(3.0, rel=1e-12)


def test_out_of_range_coefficients_are_named():
    spec = GridSpec(alpha_range=(1.0, 1.2), gamma_range=(1.1, 1.5))
    assert outside_ranges(spec, (1.5, 1.0, 1.0)) == "alpha=1.5000 is outside 1..1.2; gamma=1.0000 is outside 1.1..1.5"
    assert outside_ranges(spec, (1.2, 1.5, 1.1)) is None


def test_the_measured_split_keeps_the_split_and_crosses_the_target_at_the_cost_scale():
    spec = GridSpec(base_resolution=32, num_classes=10)
    # depth only: every alpha in (1.75, 2] (2 is the range's end) doubles B0's blocks, 2.03x; the middle, in logs
    assert measured_split(spec, 1.0, 0.5) == (1.8708286933869707, 1.0, 1.0)
    # resolution only: 312 px at the cost scale (a multiple of 4), 2.004x
    resolution_only = measured_split(spec, 0.0, 0.0)
    assert resolution_only == (1.0, 1.0, 1.3928285253470394)
    assert cost_layout(spec, *resolution_only).resolution == 312
    # the last digits of a coefficient do not decide its network: four decimals, as reports print them, realise it
    for e_depth, width_share in ((1.0, 0.5), (0.0, 1.0), (0.0, 0.0), (0.5, 0.5), (0.2, 0.6)):
        split = measured_split(spec, e_depth, width_share)
        assert split is not None
        rounded = tuple(round(value, 4) for value in split)
        assert cost_layout(spec, *rounded).structure_key() == cost_layout(spec, *split).structure_key()
    # depth only at phi = -1: the alpha range ends at 2 with the network still at 0.64x, far from 0.5x
    assert measured_split(GridSpec(phi=-1, base_resolution=32, num_classes=10), 1.0, 0.5) == (2.0, 1.0, 1.0)
    # a split that leaves depth at 1 cannot meet an alpha range that starts above it
    assert measured_split(GridSpec(alpha_range=(1.1, 2.0)), 0.0, 0.5) is None


def test_the_sampler_models_the_split_jointly_next_to_reference_trials():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Optuna's experimental-argument warnings are silenced for this call only
        sampler = tpe_sampler(0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.enqueue_trial({"alpha": 1.2, "beta": 1.1, "gamma": 1.15, "seed": 0})  # the paper's point, as a plan
    space = {"alpha": FloatDistribution(1.0, 2.0), "beta": FloatDistribution(1.0, 1.5),
             "gamma": FloatDistribution(1.0, 1.5), "seed": IntDistribution(0, 0)}
    study.tell(study.ask(fixed_distributions=space), 0.5)
    suggest_all(study, GridSpec(base_resolution=32, num_classes=10, constraint="nominal"), trials=8)
    modelled = study.sampler.infer_relative_search_space(study, study.trials[-1])
    assert {"e_depth", "width_share"} <= modelled.keys()


@pytest.mark.parametrize("phi", [1.0, -1.0])
def test_nominal_suggestions_lie_on_the_constraint_within_the_ranges(phi):
    spec = GridSpec(phi=phi, base_resolution=32, num_classes=10, constraint="nominal")
    suggested, study = tpe_points(spec, trials=8)
    assert len(study.get_trials()) == len(suggested) == 8  # the default ranges hold every split of 2
    for trial in suggested:
        alpha, beta, gamma = (trial.params[name] for name in ("alpha", "beta", "gamma"))
        assert abs(alpha * beta**2 * gamma**2 - spec.target) <= 1e-9
        for value, (low, high) in zip((alpha, beta, gamma), (spec.alpha_range, spec.beta_range, spec.gamma_range),
                                      strict=True):
            assert 1.0 <= low <= value <= high
        assert (alpha, beta, gamma) == split_coefficients(2.0, trial.params["e_depth"], trial.params["width_share"])
        assert trial.params["seed"] == 0 and trial.user_attrs["nominal_ratio"] == pytest.approx(2.0)
        assert trial.user_attrs["key"].endswith("/seed0") and trial.user_attrs["kind"] == "compound"
        # phi < 0 shrinks the network (the coefficients stay >= 1): the proxy never exceeds the base's 32 px
        assert trial.user_attrs["resolution"] <= 32 if phi < 0 else trial.user_attrs["resolution"] >= 32


@pytest.mark.parametrize(("phi", "ranges", "target_ratio"), [
    (1.0, {}, 2.0),
    (-1.0, {"alpha_range": (1.0, 4.0), "beta_range": (1.0, 2.0), "gamma_range": (1.0, 2.0)}, 0.5),
])
def test_measured_suggestions_meet_the_target_at_the_cost_scale_with_a_32px_proxy(phi, ranges, target_ratio):
    spec = GridSpec(phi=phi, base_resolution=32, num_classes=10, **ranges)
    suggested, study = tpe_points(spec, trials=10)
    assert spec.target_ratio == target_ratio and suggested
    for trial in suggested:
        assert abs(cost_ratio(spec, trial) - target_ratio) <= 0.05 * target_ratio
        assert trial.user_attrs["measured_ratio"] == cost_ratio(spec, trial)
        alpha, beta, gamma = (trial.params[name] for name in ("alpha", "beta", "gamma"))
        budget = alpha * beta**2 * gamma**2
        assert min(alpha, beta, gamma) >= 1.0 and budget > 1.0
        assert math.log(alpha) / math.log(budget) == pytest.approx(trial.params["e_depth"], abs=1e-9)
    failed = study.get_trials(states=(TrialState.FAIL,))
    assert len(failed) + len(suggested) == 10
    assert all(t.user_attrs["status"] == "infeasible" and t.user_attrs["reason"] for t in failed)


def test_infeasible_splits_fail_with_a_reason_and_count_towards_the_trials():
    spec = GridSpec(base_resolution=32, num_classes=10, constraint="nominal", alpha_range=(1.0, 1.2))
    suggested, study = tpe_points(spec, trials=12)
    failed = study.get_trials(states=(TrialState.FAIL,))
    assert failed and suggested and len(failed) + len(suggested) == len(study.get_trials()) == 12
    for trial in failed:
        assert trial.user_attrs["status"] == "infeasible"
        assert trial.params["alpha"] > 1.2 and trial.user_attrs["reason"].startswith("alpha=")
        assert trial.user_attrs["reason"].endswith(" is outside 1..1.2") and "seed" not in trial.params
    assert all(t.params["alpha"] <= 1.2 for t in suggested)


def test_suggestions_are_reproducible_for_a_seed():
    spec = GridSpec(base_resolution=32, num_classes=10, constraint="nominal")
    first = [t.params for t in tpe_points(spec, trials=8, seed=3)[0]]
    assert first == [t.params for t in tpe_points(spec, trials=8, seed=3)[0]]
    assert first != [t.params for t in tpe_points(spec, trials=8, seed=4)[0]]

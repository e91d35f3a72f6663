"""The TPE strategy without Ray: budget splits on the simplex, their coefficients, the trials the suggester hands out.

In-memory Optuna studies, candidates measured with the closed-form counter: seconds in all. Since issue #21 a
split is feasible only when its network contends (its family grows as promised and the proxy trains with the
target compute); at a 32 px proxy that leaves only networks that train at 32 px.
"""

from __future__ import annotations

import math
import warnings

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState

from scaling_search.coefficients.grid import GridSpec, cost_layout, within
from scaling_search.counting.analytic import analytic_counts
from scaling_search.search.enqueue import NATIVE_RESOLUTION
from scaling_search.search.tpe import (
    measured_split,
    outside_ranges,
    split_coefficients,
    tpe_sampler,
    tpe_suggester,
)
from scaling_search.study.storage import quiet_optuna

NATIVE = 32
"""The native resolution of the data the studies here stand for (CIFAR's 32 px): what ``upsample`` divides by."""


def new_study(seed: int = 0) -> optuna.Study:
    """An in-memory study with the TPE sampler and the native resolution the driver stores when it starts."""
    study = optuna.create_study(direction="maximize", sampler=tpe_sampler(seed))
    study.set_user_attr(NATIVE_RESOLUTION, NATIVE)
    return study


def tpe_points(spec: GridSpec, trials: int, seed: int = 0) -> tuple[list[optuna.trial.FrozenTrial], optuna.Study]:
    """Every trial the suggester hands out in a new study, and the study."""
    study = new_study(seed)
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


def assert_contends(spec: GridSpec, trial: optuna.trial.FrozenTrial) -> None:
    """A suggested trial is a contender: its family grows as promised and its proxy trains with target^φ."""
    attrs = trial.user_attrs
    assert attrs["contender"] and attrs["on_growth"] and attrs["proxy_on_target"]
    # measured at φ = 7, or the largest φ below it whose member can be built (α near 2 stops at 6)
    assert within(attrs["growth_per_phi"], spec.target, spec.growth_tolerance_used) and 1 <= attrs["growth_phi"] <= 7
    assert within(attrs["proxy_ratio"], spec.target_ratio, spec.tolerance)
    assert attrs["upsample"] == attrs["resolution"] / NATIVE


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
    study.set_user_attr(NATIVE_RESOLUTION, NATIVE)
    study.enqueue_trial({"alpha": 1.2, "beta": 1.1, "gamma": 1.15, "seed": 0})  # the paper's point, as a plan
    space = {"alpha": FloatDistribution(1.0, 2.0), "beta": FloatDistribution(1.0, 1.5),
             "gamma": FloatDistribution(1.0, 1.5), "seed": IntDistribution(0, 0)}
    study.tell(study.ask(fixed_distributions=space), 0.5)
    assert suggest_all(study, GridSpec(base_resolution=32, num_classes=10, constraint="nominal"), trials=8)
    modelled = study.sampler.infer_relative_search_space(study, study.trials[-1])
    assert {"e_depth", "width_share"} <= modelled.keys()


@pytest.mark.parametrize("phi", [1.0, -1.0])
def test_nominal_suggestions_lie_on_the_constraint_within_the_ranges(phi):
    """Every split of 2 lies on the nominal constraint within the default ranges; those that contend are handed out.

    Since issue #21 a split must also contend. At a 32 px proxy the contenders train at 32 px (36 px costs 2.4× or
    more); at φ = −1 none does (on a 21 × 21 grid of splits the networks cost 0.56–0.95× B0@32 px, never 0.5 ± 5 %),
    so there every trial fails, each saying the compute it trains with, at 32 px or below. The trials went from
    8 to 20 so that φ = 1 shows a few.
    """
    spec = GridSpec(phi=phi, base_resolution=32, num_classes=10, constraint="nominal")
    suggested, study = tpe_points(spec, trials=20)
    failed = study.get_trials(states=(TrialState.FAIL,))
    assert len(study.get_trials()) == len(suggested) + len(failed) == 20
    assert bool(suggested) == (phi > 0)
    for trial in study.get_trials():
        alpha, beta, gamma = (trial.params[name] for name in ("alpha", "beta", "gamma"))
        assert abs(alpha * beta**2 * gamma**2 - spec.target) <= 1e-9
        for value, (low, high) in zip((alpha, beta, gamma), (spec.alpha_range, spec.beta_range, spec.gamma_range),
                                      strict=True):
            assert 1.0 <= low <= value <= high
        assert (alpha, beta, gamma) == split_coefficients(2.0, trial.params["e_depth"], trial.params["width_share"])
    for trial in failed:  # the default ranges hold every split of 2, and its family grows 1.97-2.08x per phi
        reason = trial.user_attrs["reason"]
        assert trial.user_attrs["status"] == "infeasible" and reason.startswith("it trains with ")
        resolution = int(reason.split(" compute at ")[1].split(" px")[0])
        # phi < 0 shrinks the network (the coefficients stay >= 1): the proxy never exceeds the base's 32 px
        assert resolution <= 32 if phi < 0 else resolution >= 32
    for trial in suggested:
        assert trial.params["seed"] == 0 and trial.user_attrs["nominal_ratio"] == pytest.approx(2.0)
        assert trial.user_attrs["key"].endswith("/seed0") and trial.user_attrs["kind"] == "compound"
        assert_contends(spec, trial)
        assert trial.user_attrs["resolution"] == 32 and trial.user_attrs["upsample"] == 1.0


@pytest.mark.parametrize(("phi", "ranges", "target_ratio"), [
    (1.0, {}, 2.0),
    (-1.0, {"alpha_range": (1.0, 4.0), "beta_range": (1.0, 2.0), "gamma_range": (1.0, 2.0)}, 0.5),
])
def test_measured_splits_meet_the_target_at_the_cost_scale_and_suggestions_contend_with_a_32px_proxy(
        phi, ranges, target_ratio):
    """Every trial is its split's measured budget; a suggestion meets the target at the cost scale and contends.

    Since issue #21 feasibility is contention, not the cost-scale constraint; the budget is still set where the
    cost scale crosses the target (:func:`measured_split`), which every trial's α, β, γ are checked against
    (failed ones keep theirs). At φ = 1 the contenders train at 32 px; at φ = −1 the splits set to cost 0.5×
    grow 2.06–4.47× per φ at φ = 7 (1 of a 21 × 21 grid of splits contends), so none of the 10 trials contends
    and each fails on its family's growth.
    """
    spec = GridSpec(phi=phi, base_resolution=32, num_classes=10, **ranges)
    suggested, study = tpe_points(spec, trials=10)
    assert spec.target_ratio == target_ratio and bool(suggested) == (phi > 0)
    for trial in study.get_trials():
        alpha, beta, gamma = (trial.params[name] for name in ("alpha", "beta", "gamma"))
        assert (alpha, beta, gamma) == measured_split(spec, trial.params["e_depth"], trial.params["width_share"])
        budget = alpha * beta**2 * gamma**2
        assert min(alpha, beta, gamma) >= 1.0 and budget > 1.0
        assert math.log(alpha) / math.log(budget) == pytest.approx(trial.params["e_depth"], abs=1e-9)
    for trial in suggested:
        assert abs(cost_ratio(spec, trial) - target_ratio) <= 0.05 * target_ratio
        assert trial.user_attrs["measured_ratio"] == cost_ratio(spec, trial)
        assert_contends(spec, trial)
        assert trial.user_attrs["resolution"] == 32
    failed = study.get_trials(states=(TrialState.FAIL,))
    assert len(failed) + len(suggested) == 10
    assert all(t.user_attrs["status"] == "infeasible" and t.user_attrs["reason"] for t in failed)
    if phi < 0:
        assert all(t.user_attrs["reason"].startswith("its family grows ") for t in failed)


def test_infeasible_splits_fail_with_a_reason_and_count_towards_the_trials():
    """A split outside the ranges, or one that does not contend, fails with its reason and counts as a trial.

    The range that limits the splits is now γ's (1 to 1.05), not α's (1 to 1.2): since issue #21 hardly a split with
    α ≤ 1.2 contends at a 32 px proxy under the nominal constraint (5 of a 101 × 101 grid of splits), so the
    suggester would hand out none, while with γ ≤ 1.05 both kinds of failure and suggestions are seen.
    """
    spec = GridSpec(base_resolution=32, num_classes=10, constraint="nominal", gamma_range=(1.0, 1.05))
    suggested, study = tpe_points(spec, trials=12)
    failed = study.get_trials(states=(TrialState.FAIL,))
    assert failed and suggested and len(failed) + len(suggested) == len(study.get_trials()) == 12
    outside = [t for t in failed if t.user_attrs["reason"].startswith("gamma=")]
    assert outside and len(outside) < len(failed)
    for trial in failed:
        assert trial.user_attrs["status"] == "infeasible" and "seed" not in trial.params
        if trial in outside:
            assert trial.params["gamma"] > 1.05 and trial.user_attrs["reason"].endswith(" is outside 1..1.05")
        else:
            assert trial.params["gamma"] <= 1.05
            assert trial.user_attrs["reason"].startswith("it trains with ")
            assert trial.user_attrs["reason"].endswith(" px, not within 5% of 2")
    assert all(t.params["gamma"] <= 1.05 for t in suggested)
    for trial in suggested:
        assert_contends(spec, trial)


def test_suggestions_are_reproducible_for_a_seed():
    """The same seed hands out the same trials, another seed others (20 trials: a few contend at a 32 px proxy)."""
    spec = GridSpec(base_resolution=32, num_classes=10, constraint="nominal")
    first = [t.params for t in tpe_points(spec, trials=20, seed=3)[0]]
    assert first and first == [t.params for t in tpe_points(spec, trials=20, seed=3)[0]]
    assert first != [t.params for t in tpe_points(spec, trials=20, seed=4)[0]]

"""A study's validation runs, planned from its finished trials: pure functions, each run with a stable key.

Two checks (see :mod:`scaling_search.validation`):

* **fidelity**: at least K of the study's candidates where it has them (distinct networks, ranked by
  the search): its top K contenders, the paper's point, then its best other candidates while fewer
  than K (:func:`fidelity_rows`), each trained again for the longer budget on fresh seeds;
* **scale-up**: at each larger φ, the study member, the paper member and the depth-, width- and
  resolution-only members matched to the study member's cost at the cost scale and, where the
  grid allows, in the compute they train with
  (:func:`scaling_search.coefficients.scaleup.scale_up_members`),
  all on the same fresh seeds; a member not matched at both is trained too, to be shown, not judged.

A plan depends only on the study's finished trials and the options, so a driver killed at any point
plans the same runs again and adds only the keys the validation study does not hold yet.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
from optuna.trial import FrozenTrial

from scaling_search.coefficients.grid import GridSpec, proxy_layout
from scaling_search.coefficients.plateaus import realised
from scaling_search.coefficients.scaleup import ScaleUpMember, scale_up_members
from scaling_search.counting.counter import Counter
from scaling_search.execution.trainable import PLANNED_BASE_RESOLUTION, PLANNED_EPOCHS
from scaling_search.search.results import candidate_table, contenders
from scaling_search.search.search_plan import candidate_id
from scaling_search.validation.options import VALIDATION_SEED_BASE

FIDELITY = "fidelity"
SCALE_UP = "scaleup"
VALIDATION_STAGES = (FIDELITY, SCALE_UP)


@dataclass(frozen=True)
class ValidationRun:
    """One training run of a check: a network (coefficients at ``phi`` from ``base_resolution``) on one seed.

    ``macs`` and ``cost_resolution`` are at the study's cost scale. For a fidelity run,
    ``cost_ratio`` is the study's measured ratio over the base network and ``matched`` whether it
    met the constraint; for a scale-up run, ``cost_ratio`` is over the study member's MACs and
    ``matched`` whether it lies within the study's tolerance of it; ``proxy_ratio`` and
    ``proxy_matched`` are the same for the network trained (the proxy), None for a fidelity run.
    """

    stage: str
    kind: str
    coefficients: tuple[float, float, float]
    phi: float
    seed: int
    planned_epochs: int
    base_resolution: int
    resolution: int
    macs: int
    cost_ratio: float
    matched: bool
    cost_resolution: int
    proxy_ratio: float | None = None
    proxy_matched: bool | None = None

    @property
    def candidate(self) -> str:
        return candidate_id(self.coefficients)

    @property
    def key(self) -> str:
        if self.stage == FIDELITY:
            return f"{FIDELITY}/{self.candidate}/seed{self.seed}"
        return f"{SCALE_UP}/phi{self.phi:g}/{self.candidate}/seed{self.seed}"

    def attrs(self) -> dict[str, object]:
        """The trial's user attributes: what it is, what it costs (where trained too, for scale-up), how it trains."""
        proxy = {} if self.proxy_ratio is None else {"proxy_ratio": self.proxy_ratio,
                                                      "proxy_matched": self.proxy_matched}
        return {"key": self.key, "stage": self.stage, "phi": self.phi, "candidate": self.candidate,
                "kind": self.kind, "macs": self.macs, "cost_ratio": self.cost_ratio, "matched": self.matched, **proxy,
                "cost_resolution": self.cost_resolution, "resolution": self.resolution,
                PLANNED_EPOCHS: self.planned_epochs, PLANNED_BASE_RESOLUTION: self.base_resolution}


def validation_seeds(count: int) -> list[int]:
    return [VALIDATION_SEED_BASE + index for index in range(count)]


def fidelity_rows(parent_trials: list[FrozenTrial], spec: GridSpec, top: int) -> pd.DataFrame:
    """At least ``top`` of the study's candidates with distinct networks, where it has them: contenders first.

    First the study's top ``top`` contenders, in the search's order: compound candidates on the
    constraint whose every search seed completed (:func:`~scaling_search.search.results.contenders`).
    Then the paper's point whenever the search trained it. Then, while fewer than ``top`` are
    chosen, the other candidates the search trained with every seed completed (the single-dimension
    baselines, a compound point that does not contend), in the search's order. Two that realise the
    same networks (a TPE study can sample both) count once. The rows keep the candidate table's
    columns, ``contender`` saying which rows are contenders (the first ones).

    The others fill up because a rank-fidelity verdict needs at least
    :data:`~scaling_search.stats.fidelity.VERDICT_CANDIDATES` candidates (with K of them even a
    perfect order comes by chance 1 time in K!), and a study often has fewer contenders; they are
    networks the proxy ranked like any other, so whether the long runs keep their order is as much
    a test of the proxy.
    """
    table = candidate_table(parent_trials, "search")
    eligible = contenders(table)
    seen: set[tuple[tuple, tuple]] = set()
    chosen: list[pd.Series] = []

    def choose(row: pd.Series) -> None:
        """Add ``row`` unless an earlier choice realises the same networks."""
        networks = realised(spec, (float(row["alpha"]), float(row["beta"]), float(row["gamma"])))
        if networks not in seen:
            seen.add(networks)
            chosen.append(row)

    for _, row in eligible.iterrows():
        if len(chosen) == top:
            break
        choose(row)
    for _, row in table[table["kind"].eq("reference") & table["n_seeds"].gt(0)].iterrows():
        chosen.append(row)  # always: the paper's point is what a study's answer is set against
        seen.add(realised(spec, (float(row["alpha"]), float(row["beta"]), float(row["gamma"]))))
    others = table[~table.index.isin(eligible.index) & table["kind"].ne("reference") & table["n_seeds"].gt(0)
                   & table["n_failed"].eq(0)]
    for _, row in others.iterrows():
        if len(chosen) >= top:
            break
        choose(row)
    if not chosen:
        return table.iloc[0:0]
    rows = pd.DataFrame(chosen).reset_index(drop=True)
    rows["contender"] = rows["candidate"].isin(eligible["candidate"])
    return rows


def fidelity_plan(rows: pd.DataFrame, spec: GridSpec, seeds: int, planned_epochs: int, long_resolution: int
                  ) -> list[ValidationRun]:
    """Each of :func:`fidelity_rows` trained for ``planned_epochs`` from ``long_resolution`` on each fresh seed."""
    long_spec = replace(spec, base_resolution=long_resolution)
    plan = []
    for _, row in rows.iterrows():
        coefficients = (float(row["alpha"]), float(row["beta"]), float(row["gamma"]))
        resolution = proxy_layout(long_spec, *coefficients).resolution
        for seed in validation_seeds(seeds):
            plan.append(ValidationRun(FIDELITY, str(row["kind"]), coefficients, spec.phi, seed, planned_epochs,
                                      long_resolution, resolution, int(row["macs"]), float(row["measured_ratio"]),
                                      bool(row["on_constraint"] == True), int(row["cost_resolution"])))  # noqa: E712
    return plan


def scale_up_plan(members: list[ScaleUpMember], spec: GridSpec, seeds: int, planned_epochs: int
                  ) -> list[ValidationRun]:
    """Each member trained for ``planned_epochs`` on each fresh seed; a member identical to an earlier one trains
    once."""
    plan: dict[str, ValidationRun] = {}
    for member in members:
        for seed in validation_seeds(seeds):
            run = ValidationRun(SCALE_UP, member.kind, member.coefficients, member.phi, seed, planned_epochs,
                                spec.base_resolution, member.proxy_resolution, member.macs, member.cost_ratio,
                                member.matched, member.cost_resolution, member.proxy_ratio, member.proxy_matched)
            plan.setdefault(run.key, run)
    return list(plan.values())


def members_at(spec: GridSpec, best: tuple[float, float, float], phis: tuple[float, ...], counter: Counter
               ) -> dict[float, list[ScaleUpMember]]:
    """The scale-up members at each φ of ``phis``, costed with ``counter`` at the study's cost scale."""
    return {phi: scale_up_members(spec, best, phi, counter) for phi in phis}


def member_records(members: list[ScaleUpMember]) -> list[dict[str, object]]:
    """The members of one φ as JSON, with the candidate each trains as: saved with the validation study.

    Each record holds the member's cost at the cost scale and at the proxy and whether it is
    ``comparable`` (:meth:`~scaling_search.coefficients.scaleup.ScaleUpMember.to_dict`).
    """
    return [member.to_dict() | {"candidate": candidate_id(member.coefficients)} for member in members]

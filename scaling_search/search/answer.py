"""The study's answer and what its data can say about it: best.json's content from the finished trials.

The answer is the top contender of the deciding stage (the finalists' fresh seeds when the study
has finalists, else the search's own runs). It stands for its *plateau*, every (α, β, γ) that
realises the same networks; the exported coefficients are the plateau's representative (the
midpoint of each interval), or, when the refinement stage ran, the best of the networks the
plateau splits into at 2φ, once the confirmation stage has resolved it better, on fresh seeds,
than the network the representative trains there. The validation split picks the winner; the
winner is then compared with the runner-up and with the paper's point on the *test* split, whose
images played no part in the pick, by an interval over seeds and images
(:mod:`scaling_search.stats.comparison`), and the verdict says "resolved" only when the 95 %
interval excludes zero with at least three seeds a side.

best.json is a :class:`StudyAnswer`, written and read only here (:func:`write_answer`, :func:`read_answer`),
and versioned with the stored study (:mod:`scaling_search.study.schema`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd
from optuna.trial import FrozenTrial

from scaling_search.coefficients.grid import GridSpec, growth_of, nominal_ratio
from scaling_search.coefficients.growth import Growth
from scaling_search.coefficients.plateaus import Plateau, growing_representative, plateau
from scaling_search.errors import InputError
from scaling_search.search.results import candidate_table, compare, contenders, none_if_nan, on_constraint, stage_runs
from scaling_search.search.search_plan import candidate_id, grid_spec, study_name
from scaling_search.search.stages import (
    decided_stage,
    finalist_seeds,
    fresh_seeds,
    refinement_spec,
    wants_refinement,
)
from scaling_search.stats.comparison import DEFAULT_MIN_EFFECT, Comparison
from scaling_search.study.definition import ResolvedDefinition
from scaling_search.study.schema import SCHEMA_VERSION, Stage
from scaling_search.study.study_base import study_base

LATENCY_REPRESENTATIVE_RULE = ("the trained contender's coefficients: latency, and the growth of a family in it, is "
                               "timed for the networks a study trains only, so no other point of the plateau is known "
                               "to grow as promised")
REPRESENTATIVE_RULE = ("the midpoint of each interval of the plateau, rounded to 4 decimals (kept inside it); every "
                       "point of the plateau trains and costs the same networks, so the data cannot prefer its corner. "
                       "When the midpoint's family would not grow as promised, the point nearest it on the way from "
                       "the trained contender whose family does")
METRIC = "validation accuracy (final epoch), mean over the deciding stage's seeds"
COST = ("macs, params, cost_resolution and measured_ratio at the cost scale (the same for every point of the plateau), "
        "measured_ratio and proxy_ratio in cost_kind (measured_ratio timed on cost_device for latency, where "
        "proxy_ratio is counted in MACs: a proxy trains); resolution and proxy_ratio "
        "are the trained proxy's, upsample its resolution over the data's native one; growth_per_phi is the exported "
        "coefficients' family's cost per phi at the cost scale (at phi = growth_phi)")

VERDICT_SPLIT = "test"
"""The split the winner is judged on: not the validation split, which picked it (selection and judgement on the
same images lifts the false rate of "resolved"; docs/verdicts.md)."""

Interval = tuple[float, float]

JsonRecord = dict[str, object]
"""A JSON object as best.json holds it (or one of its parts), ready for ``json.dumps``."""


@dataclass(frozen=True)
class Box:
    """A plateau's intervals, as best.json holds them: ``{"alpha": [lo, hi], "beta": […], "gamma": […]}``."""

    alpha: Interval
    beta: Interval
    gamma: Interval

    @classmethod
    def from_json(cls, data: Mapping[str, Sequence[float]]) -> Box:
        return cls(**{name: (float(data[name][0]), float(data[name][1])) for name in ("alpha", "beta", "gamma")})

    def to_json(self) -> dict[str, list[float]]:
        return {name: list(bounds) for name, bounds in self.intervals()}

    def intervals(self) -> tuple[tuple[str, Interval], ...]:
        """(name, (lo, hi)) for α, β and γ, in that order."""
        return ("alpha", self.alpha), ("beta", self.beta), ("gamma", self.gamma)


@dataclass(frozen=True)
class TrainedPoint:
    """The network that won, as it was trained: its candidate name and the coefficients it was trained at."""

    candidate: str
    alpha: float
    beta: float
    gamma: float

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrainedPoint:
        return cls(data["candidate"], data["alpha"], data["beta"], data["gamma"])

    def to_json(self) -> TrainedPointJson:
        return {"candidate": self.candidate, "alpha": self.alpha, "beta": self.beta, "gamma": self.gamma}


class TrainedPointJson(TypedDict):
    """:class:`TrainedPoint` as best.json holds it."""

    candidate: str
    alpha: float
    beta: float
    gamma: float


@dataclass(frozen=True)
class OpenCandidate:
    """A contender of the deciding stage that the winner was not resolved from: what the answer could also have been.

    ``plateau`` is its class at the study's φ (every point of it trains the same networks), so its
    family at φ = 1…7 spans that box's powers (:func:`~scaling_search.coefficients.plateaus.open_spread`).
    """

    candidate: str
    alpha: float
    beta: float
    gamma: float
    plateau: Box

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OpenCandidate:
        return cls(data["candidate"], data["alpha"], data["beta"], data["gamma"], Box.from_json(data["plateau"]))

    def to_json(self) -> JsonRecord:
        return {"candidate": self.candidate, "alpha": self.alpha, "beta": self.beta, "gamma": self.gamma,
                "plateau": self.plateau.to_json()}


@dataclass(frozen=True)
class ComparisonRecord:
    """One of best.json's comparisons: against whom, the comparison, its sentence, and the other side's cost
    (the paper's may be off the constraint, which a reader must know before reading the difference)."""

    against: str
    """"runner-up" or "paper"."""
    comparison: Comparison
    sentence: str
    other_measured_ratio: float | None
    other_on_constraint: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ComparisonRecord:
        return cls(data["against"], Comparison.from_dict(data), data["sentence"], data["other_measured_ratio"],
                   data["other_on_constraint"])

    def to_json(self) -> JsonRecord:
        return {"against": self.against, **self.comparison.to_dict(), "sentence": self.sentence,
                "other_measured_ratio": self.other_measured_ratio, "other_on_constraint": self.other_on_constraint}


@dataclass(frozen=True)
class RefinedWinner:
    """The best network of the refinement at 2φ, which gives the final coefficients once confirmed on fresh seeds."""

    candidate: str
    alpha: float
    beta: float
    gamma: float
    score: float
    measured_ratio: float | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RefinedWinner:
        return cls(data["candidate"], data["alpha"], data["beta"], data["gamma"], data["score"],
                   data["measured_ratio"])

    def to_json(self) -> RefinedWinnerJson:
        return {"candidate": self.candidate, "alpha": self.alpha, "beta": self.beta, "gamma": self.gamma,
                "score": self.score, "measured_ratio": self.measured_ratio}


class RefinedWinnerJson(TypedDict):
    """:class:`RefinedWinner` as best.json holds it."""

    candidate: str
    alpha: float
    beta: float
    gamma: float
    score: float
    measured_ratio: float | None


@dataclass(frozen=True)
class Confirmation:
    """Whether the refinement's best was confirmed on fresh seeds against the class's representative at 2φ.

    The refinement picks its best on the study's seeds, the runs that rank it: its lead carries the
    winner's curse, and the network the study would export without it (the class's representative)
    never trained at 2φ. So the best gives the exported coefficients only when ``confirmed``: it
    trains the representative's own network at 2φ (nothing to confirm), or it beats that network on
    the confirmation stage's fresh seeds by a resolved difference on the test split, by the verdicts'
    rules (every fresh seed complete on both sides, at least three of them).
    """

    representative: str
    """The candidate the class's representative trains as at 2φ."""
    seeds: tuple[int, ...]
    """The fresh seeds both trained on; none when there was nothing to confirm."""
    confirmed: bool
    """Whether the refinement's best gives the exported coefficients."""
    outcome: str
    """Which of the cases above, in words, and what is exported."""
    comparison: Comparison | None = None
    """The refinement's best − the representative on the confirmation's runs (test split), when both completed."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Confirmation:
        return cls(data["representative"], tuple(data["seeds"]), data["confirmed"], data["outcome"],
                   None if data["comparison"] is None else Comparison.from_dict(data["comparison"]))

    def to_json(self) -> JsonRecord:
        comparison = None if self.comparison is None else {**self.comparison.to_dict(),
                                                          "sentence": self.comparison.sentence()}
        return {"representative": self.representative, "seeds": list(self.seeds), "confirmed": self.confirmed,
                "outcome": self.outcome, "comparison": comparison}


@dataclass(frozen=True)
class Refinement:
    """What the refinement stage came to: its winner and plateau at 2φ, or why it did not run or decide.

    ``reason`` is set when there is no ``winner``; ``comparison`` (winner − runner-up, on the study's
    seeds) when more than one refinement network completed on every seed; ``confirmation`` with a
    winner: whether it gives the exported coefficients (:attr:`exported`).
    """

    phi: float
    parent_plateau: Box
    trained: int
    ran: bool
    reason: str | None = None
    winner: RefinedWinner | None = None
    plateau: Box | None = None
    comparison: Comparison | None = None
    confirmation: Confirmation | None = None

    @property
    def exported(self) -> bool:
        """Whether the winner gives the exported coefficients: it was confirmed (:class:`Confirmation`)."""
        return self.winner is not None and self.confirmation is not None and self.confirmation.confirmed

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Refinement:
        return cls(data["phi"], Box.from_json(data["parent_plateau"]), data["trained"], data["ran"],
                   data.get("reason"), None if "winner" not in data else RefinedWinner.from_json(data["winner"]),
                   None if "plateau" not in data else Box.from_json(data["plateau"]),
                   None if "comparison" not in data else Comparison.from_dict(data["comparison"]),
                   None if "confirmation" not in data else Confirmation.from_json(data["confirmation"]))

    def to_json(self) -> JsonRecord:
        record: JsonRecord = {"phi": self.phi, "parent_plateau": self.parent_plateau.to_json(),
                              "trained": self.trained, "ran": self.ran}
        if self.reason is not None:
            record["reason"] = self.reason
        if self.winner is not None:
            record["winner"] = self.winner.to_json()
        if self.plateau is not None:
            record["plateau"] = self.plateau.to_json()
        if self.comparison is not None:
            record["comparison"] = self.comparison.to_dict()
        if self.confirmation is not None:
            record["confirmation"] = self.confirmation.to_json()
        return record


@dataclass(frozen=True)
class StudyAnswer:
    """The study's answer: what best.json holds, read and written only by :meth:`from_json` and :meth:`to_json`.

    best.json's keys are these fields' names, in this order, and ``schema_version`` is
    :data:`~scaling_search.study.schema.SCHEMA_VERSION`: a change to what best.json holds bumps it
    (and :mod:`scaling_search.study.schema` says what the new version adds).
    """

    alpha: float
    beta: float
    gamma: float
    phi: float
    plateau: Box
    """The plateau the coefficients stand for: the winning class at φ, or the refinement's at 2φ."""
    representative: str
    """How the coefficients were picked within the plateau."""
    trained: TrainedPoint
    decided_by: str
    """"finalists" or "search": whose runs the verdict uses."""
    finalist_seeds: tuple[int, ...]
    score: float
    score_std: float | None
    n_seeds: int
    n_failed: int
    test_acc: float | None
    ci95: Interval | None
    """Winner − runner-up's 95 % interval on :attr:`verdict_split`, None without a runner-up or without seed noise."""
    verdict_split: str
    """The images the verdicts are judged on: "test", which did not pick the winner (the validation split did)."""
    verdict: str
    comparisons: tuple[ComparisonRecord, ...]
    open_candidates: tuple[OpenCandidate, ...]
    """The deciding stage's other contenders that the winner was not resolved from (on :attr:`verdict_split`)."""
    refinement: Refinement
    measured_ratio: float | None
    nominal_ratio: float
    proxy_ratio: float | None
    growth_per_phi: float
    growth_phi: int
    on_growth: bool
    contender: bool
    """Whether the exported coefficients contend: their family grows as promised, and the trained network's compute
    at the proxy lies within tolerance of the target (``proxy_ratio``)."""
    upsample: float | None
    macs: int
    params: int
    cost_resolution: int
    resolution: int
    candidate: str
    kind: str
    metric: str
    cost: str
    cost_kind: str
    """The cost the study was held to: "macs", "activations" or "latency" (``measured_ratio`` and growth are in it)."""
    cost_device: str | None
    """The device latency was timed on (its name), None for a counted cost."""
    study: str
    base: str
    schema_version: int = SCHEMA_VERSION

    @property
    def coefficients(self) -> tuple[float, float, float]:
        return self.alpha, self.beta, self.gamma

    def open_boxes(self) -> list[tuple[Interval, Interval, Interval]]:
        """The winner's plateau and each open candidate's, as (α, β, γ) intervals: what the answer could also be."""
        boxes = (self.plateau, *(found.plateau for found in self.open_candidates))
        return [(box.alpha, box.beta, box.gamma) for box in boxes]

    def as_plateau(self) -> Plateau:
        """The answer's plateau as a :class:`~scaling_search.coefficients.plateaus.Plateau`."""
        return Plateau(point=self.coefficients, phi=self.phi, alpha=self.plateau.alpha, beta=self.plateau.beta,
                       gamma=self.plateau.gamma)

    def to_json(self) -> JsonRecord:
        """best.json's content."""
        nested = {"plateau": self.plateau.to_json(), "trained": self.trained.to_json(),
                  "finalist_seeds": list(self.finalist_seeds), "ci95": None if self.ci95 is None else list(self.ci95),
                  "comparisons": [record.to_json() for record in self.comparisons],
                  "open_candidates": [found.to_json() for found in self.open_candidates],
                  "refinement": self.refinement.to_json()}
        return {f.name: nested.get(f.name, getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StudyAnswer:
        """The answer a best.json of this schema version holds."""
        return cls(
            alpha=data["alpha"], beta=data["beta"], gamma=data["gamma"], phi=data["phi"],
            plateau=Box.from_json(data["plateau"]), representative=data["representative"],
            trained=TrainedPoint.from_json(data["trained"]), decided_by=data["decided_by"],
            finalist_seeds=tuple(data["finalist_seeds"]), score=data["score"], score_std=data["score_std"],
            n_seeds=data["n_seeds"], n_failed=data["n_failed"], test_acc=data["test_acc"],
            ci95=None if data["ci95"] is None else (data["ci95"][0], data["ci95"][1]),
            verdict_split=data["verdict_split"], verdict=data["verdict"],
            comparisons=tuple(ComparisonRecord.from_json(record) for record in data["comparisons"]),
            open_candidates=tuple(OpenCandidate.from_json(found) for found in data["open_candidates"]),
            refinement=Refinement.from_json(data["refinement"]), measured_ratio=data["measured_ratio"],
            nominal_ratio=data["nominal_ratio"], proxy_ratio=data["proxy_ratio"],
            growth_per_phi=data["growth_per_phi"], growth_phi=data["growth_phi"], on_growth=data["on_growth"],
            contender=data["contender"], upsample=data["upsample"], macs=data["macs"],
            params=data["params"], cost_resolution=data["cost_resolution"], resolution=data["resolution"],
            candidate=data["candidate"], kind=data["kind"], metric=data["metric"], cost=data["cost"],
            cost_kind=data["cost_kind"], cost_device=data["cost_device"], study=data["study"], base=data["base"],
            schema_version=data["schema_version"],
        )


def write_answer(path: Path, answer: StudyAnswer) -> None:
    """Write best.json."""
    path.write_text(json.dumps(answer.to_json(), indent=2) + "\n")


def read_answer(path: Path) -> StudyAnswer:
    """Read a best.json; InputError for one written by another schema version (run the study's export again)."""
    data = json.loads(path.read_text())
    version = data.get("schema_version", 0)
    if version != SCHEMA_VERSION:
        raise InputError(f"{path} has schema version {version}, this scaling-search reads {SCHEMA_VERSION}; "
                         "write it again with scaling-search run --resume on its study")
    return StudyAnswer.from_json(data)


def compare_in(trials: list[FrozenTrial], stage: Stage, first: str, second: str, *, split: str = VERDICT_SPLIT,
               min_effect: float = DEFAULT_MIN_EFFECT) -> Comparison:
    """``first`` − ``second`` on their runs of ``stage``, on ``split``'s images.

    :func:`~scaling_search.search.results.compare` does the comparing.
    """
    runs = stage_runs(trials, stage)
    return compare(runs[first], runs[second], first, second, split=split, min_effect=min_effect)


def comparisons(trials: list[FrozenTrial], stage: Stage, table: pd.DataFrame,
                min_effect: float = DEFAULT_MIN_EFFECT) -> list[tuple[str, Comparison]]:
    """The winner against the runner-up among the contenders and against the paper's point (unless it won).

    ``table`` ranks on the validation split, which picks the winner; the comparisons are judged on
    the test split (:data:`VERDICT_SPLIT`), whose images played no part in the pick. The paper's point
    is compared even when its cost misses the constraint (:func:`comparison_records` says so).
    """
    eligible = contenders(table)
    if eligible.empty:
        return []
    winner = eligible.iloc[0]["candidate"]
    found = []
    if len(eligible) > 1:
        found.append(("runner-up", compare_in(trials, stage, winner, eligible.iloc[1]["candidate"],
                                              min_effect=min_effect)))
    paper = table[table["kind"].eq("reference") & table["n_seeds"].gt(0)]
    if not paper.empty and paper.iloc[0]["candidate"] != winner:
        found.append(("paper", compare_in(trials, stage, winner, paper.iloc[0]["candidate"], min_effect=min_effect)))
    return found


def open_candidates(trials: list[FrozenTrial], stage: Stage, eligible: pd.DataFrame, spec: GridSpec,
                    found: Mapping[str, Comparison], min_effect: float) -> tuple[OpenCandidate, ...]:
    """The contenders after the winner (``eligible``'s first row) that it was not resolved from on the test split.

    Only the deciding stage's contenders are judged: with finalists, candidates the search ranked
    below them were not trained again, and are not counted as open (docs/verdicts.md says so).
    """
    if eligible.empty:
        return ()
    winner = eligible.iloc[0]["candidate"]
    runner_up = found.get("runner-up")
    out = []
    for _, row in eligible.iloc[1:].iterrows():
        other = row["candidate"]
        comparison = (runner_up if runner_up is not None and runner_up.second == other
                      else compare_in(trials, stage, winner, other, min_effect=min_effect))
        if comparison.resolved and comparison.difference > 0:
            continue
        point = (float(row["alpha"]), float(row["beta"]), float(row["gamma"]))
        out.append(OpenCandidate(other, *point, Box.from_json(plateau(covering(spec, point), point).bounds())))
    return tuple(out)


def refinement(trials: list[FrozenTrial], definition: ResolvedDefinition, spec: GridSpec, parent: Plateau,
               representative: tuple[float, float, float]) -> Refinement:
    """What the refinement stage came to: its winner and plateau at 2φ, or why it did not run or decide.

    ``representative`` is the point the study exports without the refinement; a winner is confirmed
    against it (:func:`confirmation`).
    """
    refine_phi = 2 * parent.phi
    table = candidate_table(trials, Stage.REFINE)
    record = Refinement(phi=refine_phi, parent_plateau=Box.from_json(parent.bounds()), trained=len(table), ran=False)
    if table.empty:
        if definition.refine is False:
            reason = "turned off (--no-refine)"
        elif not wants_refinement(definition, parent):
            reason = f"the winning class is no wider than a grid step ({definition.step:g}) on any axis"
        else:
            reason = f"no network inside the winning class meets the constraint at phi = {refine_phi:g}"
        return replace(record, reason=reason)
    eligible = contenders(table)
    if eligible.empty:
        return replace(record, ran=True, reason="no refinement trial completed on every seed; the class's "
                                                "representative is kept")
    top = eligible.iloc[0]
    point = (float(top["alpha"]), float(top["beta"]), float(top["gamma"]))
    box = plateau(refinement_spec(spec, parent), point)
    winner = RefinedWinner(top["candidate"], *point, score=float(top["score"]),
                           measured_ratio=none_if_nan(top["measured_ratio"]))
    comparison = (compare_in(trials, Stage.REFINE, top["candidate"], eligible.iloc[1]["candidate"])
                  if len(eligible) > 1 else None)
    return replace(record, ran=True, winner=winner, plateau=Box.from_json(box.bounds()), comparison=comparison,
                   confirmation=confirmation(trials, definition, top["candidate"], box, representative))


def confirmation(trials: list[FrozenTrial], definition: ResolvedDefinition, best: str, box: Plateau,
                 representative: tuple[float, float, float]) -> Confirmation:
    """Whether the refinement's ``best`` (its plateau at 2φ: ``box``) replaces ``representative`` in the export.

    The confirmation stage (:func:`~scaling_search.search.stages.confirm_plan`) trained both on the
    fresh seeds, unless ``representative`` lies in ``box``. The best is confirmed only by a resolved
    positive difference on the test split, with every fresh seed complete on both sides; otherwise
    (not resolved, resolved the other way, a failed or missing run) the representative is kept.
    """
    other = candidate_id(representative)
    if box.contains(representative):
        return Confirmation(other, (), True, f"the class's representative trains the same network at phi = "
                                             f"{box.phi:g}, so there is nothing to confirm")
    seeds = tuple(fresh_seeds(definition))
    runs = stage_runs(trials, Stage.CONFIRM)
    if any(name not in runs or set(runs[name].scores) != set(seeds) for name in (best, other)):
        return Confirmation(other, seeds, False, "not confirmed: the runs on fresh seeds did not all complete, so "
                                                 "the class's representative is kept")
    found = compare_in(trials, Stage.CONFIRM, best, other, min_effect=definition.min_effect / 100)
    if found.resolved and found.difference > 0:
        outcome = f"confirmed on fresh seeds: it beats the class's representative ({other}) at phi = {box.phi:g}"
    elif found.resolved:
        outcome = f"resolved the other way on fresh seeds: the class's representative ({other}) is better, and kept"
    else:
        outcome = (f"not resolved on fresh seeds against the class's representative ({other}): the class's "
                   "representative is kept")
    return Confirmation(other, seeds, found.resolved and found.difference > 0, outcome, found)


def study_answer(trials: list[FrozenTrial], definition: ResolvedDefinition, num_classes: int) -> StudyAnswer | None:
    """The study's answer (best.json): its plateau, its intervals and how it was decided; None without a contender."""
    spec = grid_spec(definition, num_classes)
    stage = decided_stage(trials, definition)
    table = candidate_table(trials, stage)
    eligible = contenders(table)
    if eligible.empty:
        return None
    top = eligible.iloc[0]
    trained = (float(top["alpha"]), float(top["beta"]), float(top["gamma"]))
    parent = plateau(spec, trained)
    point = growing_representative(spec, parent, trained)
    refined = refinement(trials, definition, spec, parent, point)
    confirmed = refined.confirmation
    if refined.winner is not None and refined.plateau is not None and confirmed is not None and confirmed.confirmed:
        final = (refined.winner.alpha, refined.winner.beta, refined.winner.gamma)
        bounds = refined.plateau
        representative = (f"the best of the class's networks at phi = {refined.phi:g}, from the refinement; "
                          f"{confirmed.outcome}")
    else:
        final, bounds = point, Box.from_json(parent.bounds())
        representative = LATENCY_REPRESENTATIVE_RULE if spec.cost == "latency" else REPRESENTATIVE_RULE
    growth = timed_growth(trials, top["candidate"]) if spec.cost == "latency" else growth_of(spec, final)
    on_growth = growth.on_growth(spec.target, spec.growth_tolerance_used)
    found = comparisons(trials, stage, table, definition.min_effect / 100)
    runner_up = dict(found).get("runner-up")
    finalists = stage == Stage.FINALIST
    return StudyAnswer(
        alpha=final[0], beta=final[1], gamma=final[2], phi=definition.phi, plateau=bounds,
        representative=representative, trained=TrainedPoint(top["candidate"], *trained),
        decided_by="finalists" if finalists else "search",
        finalist_seeds=tuple(finalist_seeds(definition)) if finalists else (),
        score=float(top["score"]), score_std=none_if_nan(top["score_std"]), n_seeds=int(top["n_seeds"]),
        n_failed=int(top["n_failed"]), test_acc=none_if_nan(top["test_acc"]),
        ci95=runner_up.ci95 if runner_up is not None else None, verdict_split=VERDICT_SPLIT,
        verdict=verdict_word(runner_up),
        comparisons=comparison_records(found, table),
        open_candidates=open_candidates(trials, stage, eligible, spec, dict(found), definition.min_effect / 100),
        refinement=refined,
        measured_ratio=none_if_nan(top["measured_ratio"]), nominal_ratio=nominal_ratio(*final),
        proxy_ratio=none_if_nan(top["proxy_ratio"]), growth_per_phi=growth.per_phi, growth_phi=growth.phi,
        on_growth=on_growth, contender=on_growth and on_constraint(top["contender"]),
        upsample=none_if_nan(top["upsample"]), macs=int(top["macs"]), params=int(top["params"]),
        cost_resolution=int(top["cost_resolution"]), resolution=int(top["resolution"]), candidate=top["candidate"],
        kind=top["kind"], metric=METRIC, cost=COST, cost_kind=definition.cost,
        cost_device=top.get("cost_device") if isinstance(top.get("cost_device"), str) else None,
        study=study_name(definition),
        base=study_base(definition).name,
    )


def timed_growth(trials: list[FrozenTrial], candidate: str) -> Growth:
    """The growth per φ a latency study timed for ``candidate`` (stored with each of its trials)."""
    attrs = next(t.user_attrs for t in trials if t.user_attrs.get("candidate") == candidate)
    return Growth(float(attrs["growth_per_phi"]), int(attrs["growth_phi"]), "latency")


def comparison_records(found: list[tuple[str, Comparison]], table: pd.DataFrame) -> tuple[ComparisonRecord, ...]:
    """best.json's comparisons: each with its sentence, and the other side's cost."""
    rows = table.set_index("candidate")
    return tuple(ComparisonRecord(name, comparison, comparison.sentence(),
                                  none_if_nan(rows.loc[comparison.second]["measured_ratio"]),
                                  on_constraint(rows.loc[comparison.second]["on_constraint"]))
                 for name, comparison in found)


def with_plateaus(table: pd.DataFrame, spec: GridSpec) -> pd.DataFrame:
    """``table`` with each row's plateau at ``spec.phi``: ``plateau_alpha`` … as (lo, hi) pairs.

    A row stands for every (α, β, γ) in its plateau: a grid at that φ cannot tell them apart. A row
    outside ``spec``'s ranges (the paper's point or a baseline the grid does not cover) gets its
    plateau within the ranges stretched to hold it.
    """
    points = table[["alpha", "beta", "gamma"]].to_numpy(dtype=float).tolist()
    boxes = [plateau(covering(spec, (alpha, beta, gamma)), (alpha, beta, gamma)) for alpha, beta, gamma in points]

    def column(axis: str) -> pd.Series:
        """Each row's (lo, hi) on ``axis``, a pair per cell."""
        return pd.Series([getattr(box, axis) for box in boxes], index=table.index, dtype=object)

    return table.assign(plateau_alpha=column("alpha"), plateau_beta=column("beta"), plateau_gamma=column("gamma"))


def covering(spec: GridSpec, point: tuple[float, float, float]) -> GridSpec:
    """``spec`` with each range stretched to hold ``point``'s coefficient on that axis."""
    alpha, beta, gamma = point
    return replace(spec, alpha_range=stretched(spec.alpha_range, alpha), beta_range=stretched(spec.beta_range, beta),
                   gamma_range=stretched(spec.gamma_range, gamma))


def stretched(bounds: Interval, value: float) -> Interval:
    """``bounds`` widened to hold ``value``."""
    low, high = bounds
    return min(low, value), max(high, value)


def stage_spec(definition: ResolvedDefinition, num_classes: int, stage: str, best: StudyAnswer | None) -> GridSpec:
    """The grid a stage's rows are read on: the study's, or for the refinement and its confirmation 2φ inside the
    winning class."""
    spec = grid_spec(definition, num_classes)
    if stage not in (Stage.REFINE, Stage.CONFIRM) or best is None:
        return spec
    parent = best.refinement.parent_plateau
    return replace(spec, phi=2 * spec.phi, alpha_range=parent.alpha, beta_range=parent.beta, gamma_range=parent.gamma)


def verdict_word(runner_up: Comparison | None) -> str:
    """best.json's one-word verdict on winner − runner-up."""
    if runner_up is None:
        return "no runner-up"
    return "resolved" if runner_up.resolved else "not resolved at this budget"

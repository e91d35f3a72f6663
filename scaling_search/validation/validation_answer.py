"""What a study's validation runs say: rank fidelity and the scale-up check, as one typed answer.

:class:`ValidationAnswer` is what ``validation.json`` holds, what ``validate --json`` prints and what
the report shows; :meth:`ValidationAnswer.to_json` writes it and :meth:`ValidationAnswer.from_json`
reads it, here and nowhere else. :func:`validation_answer` builds it from the study's trials and its
validation study's trials (pure functions). Every number comes with what it rests on (seeds,
failures, cost), and no sentence claims more than its interval allows (and, for rank fidelity, its
permutation p and its number of candidates: :meth:`scaling_search.stats.fidelity.RankFidelity.sentence`,
:meth:`scaling_search.stats.comparison.Comparison.sentence`).

The proxy score of a candidate is the mean over all its runs at the study's budget and φ: its
search seeds and, when it was a finalist, its finalist seeds. A candidate with a failed long run
is shown with its failure and left out of the correlations, which would otherwise rank it on its
surviving seeds.

A scale-up member is judged against the study member (a paired comparison, "beats", "loses to",
"cannot be told apart") only when it is matched in compute both at the cost scale and where it
trains, the proxy (:attr:`MemberResult.comparable`); any other is shown with its accuracy and a
sentence that says why it is not judged (:attr:`MemberResult.not_judged`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from optuna.trial import FrozenTrial

from scaling_search.errors import InputError
from scaling_search.execution.trainable import PLANNED_BASE_RESOLUTION, PLANNED_EPOCHS
from scaling_search.search.answer import StudyAnswer, TrainedPoint
from scaling_search.search.results import (
    Accuracy,
    Runs,
    candidate_table,
    compare,
    contenders,
    seed_scores,
    stage_runs,
)
from scaling_search.stats.comparison import (
    Comparison,
)
from scaling_search.stats.fidelity import RankFidelity, rank_fidelity
from scaling_search.validation.options import ValidationOptions, scaled_epochs
from scaling_search.validation.validation_plan import FIDELITY, SCALE_UP

SCHEMA_VERSION = 3
"""The layout of ``validation.json``; any change to its keys or to what a value means bumps it.

2: scale-up members carry their compute where they train (``proxy_macs``, ``proxy_ratio``,
``proxy_matched``), ``comparable`` and ``not_judged``; only comparable members have a comparison.
3: each fidelity row says whether it is a ``contender``; ``rank_fidelity`` carries ``permutation_p``,
``permutation_p_opposite``, ``spearman_steady`` and ``kendall_steady``, a steady correlation's interval
is null, and its sentence gives a verdict only from 5 candidates on, with p below 0.05.
"""

JsonRecord = dict[str, object]
"""A JSON object as :meth:`ValidationAnswer.to_json` writes it."""


NO_RUNS = Accuracy(None, None, 0, 0)
"""The accuracy of a network none of whose runs exist yet."""


@dataclass(frozen=True)
class JudgedComparison:
    """A comparison with the sentence the report prints for it (which may say more than the comparison's own)."""

    comparison: Comparison
    sentence: str

    def to_json(self) -> JsonRecord:
        return self.comparison.to_dict() | {"sentence": self.sentence}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JudgedComparison:
        return cls(Comparison.from_dict(data), data["sentence"])


@dataclass(frozen=True)
class FidelityRow:
    """One retrained candidate: proxy score and rank, the long runs' accuracy and rank, its cost as the study had it.

    ``contender`` says whether the study could have picked it as its answer
    (:func:`~scaling_search.search.results.contenders`); the others are retrained so that the ranking has
    enough candidates for a verdict (:func:`~scaling_search.validation.validation_plan.fidelity_rows`).
    The ranks are None for a candidate left out of the correlations (a failed long run or no proxy score).
    """

    candidate: str
    kind: str
    contender: bool
    alpha: float
    beta: float
    gamma: float
    proxy_score: float | None
    proxy_seeds: int
    long: Accuracy
    proxy_rank: int | None
    long_rank: int | None
    macs: int
    measured_ratio: float
    on_constraint: bool
    resolution: int

    def to_json(self) -> JsonRecord:
        return {"candidate": self.candidate, "kind": self.kind, "contender": self.contender, "alpha": self.alpha,
                "beta": self.beta, "gamma": self.gamma, "proxy_score": self.proxy_score,
                "proxy_seeds": self.proxy_seeds, **self.long.to_json("long_"), "proxy_rank": self.proxy_rank,
                "long_rank": self.long_rank, "macs": self.macs, "measured_ratio": self.measured_ratio,
                "on_constraint": self.on_constraint, "resolution": self.resolution}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FidelityRow:
        return cls(data["candidate"], data["kind"], data["contender"], data["alpha"], data["beta"], data["gamma"],
                   data["proxy_score"], data["proxy_seeds"], Accuracy.from_json(data, "long_"), data["proxy_rank"],
                   data["long_rank"], data["macs"], data["measured_ratio"], data["on_constraint"], data["resolution"])


@dataclass(frozen=True)
class LongWinner:
    """The candidate the long runs put first, and, when it is not the proxy's winner, how it compares with that."""

    candidate: str
    accuracy: Accuracy
    against_proxy_winner: JudgedComparison | None = None

    def to_json(self) -> JsonRecord:
        data: JsonRecord = {"candidate": self.candidate, **self.accuracy.to_json()}
        if self.against_proxy_winner is not None:
            data["against_proxy_winner"] = self.against_proxy_winner.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LongWinner:
        flip = data.get("against_proxy_winner")
        return cls(data["candidate"], Accuracy.from_json(data),
                   None if flip is None else JudgedComparison.from_json(flip))


@dataclass(frozen=True)
class FidelityAnswer:
    """The rank-fidelity check: proxy against long runs, one row per retrained candidate (best proxy rank first).

    ``rank_fidelity`` and ``long_winner`` are None when fewer than 2 candidates could be ranked;
    ``answer_long_rank`` is the long rank of the network the study's answer trained, None when it was
    not among the ranked candidates (or the study has no answer).
    """

    epochs: int
    base_resolution: int
    candidates: tuple[FidelityRow, ...]
    left_out: tuple[str, ...]
    sentence: str
    rank_fidelity: RankFidelity | None = None
    long_winner: LongWinner | None = None
    answer_long_rank: int | None = None

    def to_json(self) -> JsonRecord:
        data: JsonRecord = {"epochs": self.epochs, "base_resolution": self.base_resolution,
                            "candidates": [row.to_json() for row in self.candidates], "left_out": list(self.left_out)}
        if self.rank_fidelity is not None:
            data["rank_fidelity"] = self.rank_fidelity.to_dict()
        data["sentence"] = self.sentence
        if self.long_winner is not None:
            data["long_winner"] = self.long_winner.to_json()
        if self.answer_long_rank is not None:
            data["answer_long_rank"] = self.answer_long_rank
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FidelityAnswer:
        found, winner = data.get("rank_fidelity"), data.get("long_winner")
        return cls(data["epochs"], data["base_resolution"],
                   tuple(FidelityRow.from_json(row) for row in data["candidates"]), tuple(data["left_out"]),
                   data["sentence"], None if found is None else RankFidelity.from_dict(found),
                   None if winner is None else LongWinner.from_json(winner), data.get("answer_long_rank"))


@dataclass(frozen=True)
class MemberResult:
    """One member of a scale-up check: what it is, its cost at the cost scale and where it trains, its accuracy.

    ``cost_ratio`` is over the study member's MACs at the cost scale and ``matched`` whether it
    lies within the study's tolerance; ``proxy_macs`` is the trained network's cost,
    ``proxy_ratio`` that over the study member's and ``proxy_matched`` whether it lies within the
    same tolerance. ``resolution`` is the trained network's, ``cost_resolution`` the cost scale's.
    ``comparable`` and ``not_judged`` are derived; the JSON carries them for its readers.
    """

    kind: str
    candidate: str
    alpha: float
    beta: float
    gamma: float
    macs: int
    cost_ratio: float
    matched: bool
    proxy_macs: int
    proxy_ratio: float
    proxy_matched: bool
    resolution: int
    cost_resolution: int
    accuracy: Accuracy

    @property
    def comparable(self) -> bool:
        """Matched in compute at the cost scale and where it trains: its accuracy may be judged against the study's."""
        return self.matched and self.proxy_matched

    @property
    def not_judged(self) -> str | None:
        """Why this member is shown and not judged, in plain words; None for a comparable member."""
        return None if self.comparable else not_judged_reason(self.kind, self.cost_ratio, self.matched,
                                                              self.proxy_ratio, self.proxy_matched)

    def to_json(self) -> JsonRecord:
        return {"kind": self.kind, "candidate": self.candidate, "alpha": self.alpha, "beta": self.beta,
                "gamma": self.gamma, "macs": self.macs, "cost_ratio": self.cost_ratio, "matched": self.matched,
                "proxy_macs": self.proxy_macs, "proxy_ratio": self.proxy_ratio, "proxy_matched": self.proxy_matched,
                "comparable": self.comparable, "not_judged": self.not_judged, "resolution": self.resolution,
                "cost_resolution": self.cost_resolution, **self.accuracy.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MemberResult:
        return cls(data["kind"], data["candidate"], data["alpha"], data["beta"], data["gamma"], data["macs"],
                   data["cost_ratio"], data["matched"], data["proxy_macs"], data["proxy_ratio"], data["proxy_matched"],
                   data["resolution"], data["cost_resolution"], Accuracy.from_json(data))


def not_judged_reason(kind: str, cost_ratio: float, matched: bool, proxy_ratio: float, proxy_matched: bool) -> str:
    """Why a member is not judged: its compute against the study member's wherever the two are not matched.

    >>> not_judged_reason("width-only", 0.99, True, 0.61, False)
    "width-only trains with 0.61× the study member's compute at the proxy: shown, not judged"
    >>> not_judged_reason("paper", 1.556, False, 1.02, True)
    "paper costs 1.56× the study member's MACs at the cost scale: shown, not judged"
    """
    said = [] if matched else [f"costs {cost_ratio:.2f}× the study member's MACs at the cost scale"]
    if not proxy_matched:
        whose = "its" if said else "the study member's"
        said.append(f"trains with {proxy_ratio:.2f}× {whose} compute at the proxy")
    return f"{kind} {' and '.join(said)}: shown, not judged"


@dataclass(frozen=True)
class MemberComparison:
    """The study member against one comparable member (``against``, its kind): matched in compute at both scales."""

    comparison: Comparison
    sentence: str
    against: str
    cost_ratio: float
    proxy_ratio: float
    other_failed: int

    def to_json(self) -> JsonRecord:
        return self.comparison.to_dict() | {"sentence": self.sentence, "against": self.against,
                                            "cost_ratio": self.cost_ratio, "proxy_ratio": self.proxy_ratio,
                                            "other_failed": self.other_failed}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MemberComparison:
        return cls(Comparison.from_dict(data), data["sentence"], data["against"], data["cost_ratio"],
                   data["proxy_ratio"], data["other_failed"])


@dataclass(frozen=True)
class ScaleUpCheck:
    """The scale-up check at one φ: each member (the study member first) and the study member against the others.

    ``comparisons`` holds one entry per comparable member that ran; a member not matched in
    compute at both scales is in ``members`` only.
    """

    phi: float
    members: tuple[MemberResult, ...]
    comparisons: tuple[MemberComparison, ...]

    def to_json(self) -> JsonRecord:
        return {"phi": self.phi, "members": [member.to_json() for member in self.members],
                "comparisons": [comparison.to_json() for comparison in self.comparisons]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScaleUpCheck:
        return cls(data["phi"], tuple(MemberResult.from_json(row) for row in data["members"]),
                   tuple(MemberComparison.from_json(row) for row in data["comparisons"]))


@dataclass(frozen=True)
class ValidationSettings:
    """The options the validation ran with, and the budgets and data they came to for this study."""

    options: ValidationOptions
    study_epochs: int
    long_epochs: int
    scale_up_epochs: int
    dataset: str
    max_train_images: int | None

    @classmethod
    def of(cls, options: ValidationOptions, study_epochs: int, dataset: str, max_train_images: int | None
           ) -> ValidationSettings:
        """``options`` for a study trained ``study_epochs`` epochs: the long and scale-up runs' epochs follow."""
        return cls(options, study_epochs, scaled_epochs(study_epochs, options.epochs_factor or 1),
                   scaled_epochs(study_epochs, options.scale_up_epochs_factor or 1), dataset, max_train_images)

    def to_json(self) -> JsonRecord:
        return {**self.options.to_dict(), "study_epochs": self.study_epochs, "long_epochs": self.long_epochs,
                "scale_up_epochs": self.scale_up_epochs, "dataset": self.dataset,
                "max_train_images": self.max_train_images}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ValidationSettings:
        return cls(ValidationOptions.from_dict(data), data["study_epochs"], data["long_epochs"],
                   data["scale_up_epochs"], data["dataset"], data["max_train_images"])


@dataclass(frozen=True)
class ValidatedAnswer:
    """The study's answer being validated: its coefficients at its φ and the candidate it trained."""

    alpha: float
    beta: float
    gamma: float
    phi: float
    trained: TrainedPoint

    def to_json(self) -> JsonRecord:
        return {"alpha": self.alpha, "beta": self.beta, "gamma": self.gamma, "phi": self.phi,
                "trained": dict(self.trained.to_json())}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ValidatedAnswer:
        """Read from validation.json's ``best``."""
        return cls(data["alpha"], data["beta"], data["gamma"], data["phi"], TrainedPoint.from_json(data["trained"]))

    @classmethod
    def of(cls, answer: StudyAnswer) -> ValidatedAnswer:
        """The part of the study's answer a validation checks."""
        return cls(answer.alpha, answer.beta, answer.gamma, answer.phi, answer.trained)


@dataclass(frozen=True)
class ValidationAnswer:
    """What a study's validation says (``validation.json``): its settings, both checks, its counts, a paragraph.

    ``best`` is None for a study without an answer, ``fidelity`` None when no fidelity run exists,
    ``scale_up`` one check per φ that has runs (smallest φ first); ``counts`` are the validation
    study's trials by state; ``paragraph`` says the findings in plain words (:func:`paragraph`).
    """

    study: str
    validation_study: str
    settings: ValidationSettings
    best: ValidatedAnswer | None
    fidelity: FidelityAnswer | None
    scale_up: tuple[ScaleUpCheck, ...]
    counts: dict[str, int]
    paragraph: str
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> JsonRecord:
        """validation.json's content: JSON-ready, with the keys and values readers of the file rely on."""
        return {"schema_version": self.schema_version, "study": self.study, "validation_study": self.validation_study,
                "settings": self.settings.to_json(), "best": None if self.best is None else self.best.to_json(),
                "fidelity": None if self.fidelity is None else self.fidelity.to_json(),
                "scale_up": [check.to_json() for check in self.scale_up], "counts": dict(self.counts),
                "paragraph": self.paragraph}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ValidationAnswer:
        """The answer :meth:`to_json` wrote; InputError for a file of another schema version."""
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise InputError(f"validation.json has schema version {version}, not {SCHEMA_VERSION}; run "
                             f"'scaling-search validate {data.get('study', '<study>')}' again to rewrite it")
        best, fidelity = data["best"], data["fidelity"]
        return cls(data["study"], data["validation_study"], ValidationSettings.from_json(data["settings"]),
                   None if best is None else ValidatedAnswer.from_json(best),
                   None if fidelity is None else FidelityAnswer.from_json(fidelity),
                   tuple(ScaleUpCheck.from_json(check) for check in data["scale_up"]), dict(data["counts"]),
                   data["paragraph"], version)


def proxy_scores(parent_trials: list[FrozenTrial]) -> dict[str, list[float]]:
    """Each candidate's scores at the study's budget and φ: its search and finalist seeds together."""
    scores: dict[str, list[float]] = {}
    for stage in ("search", "finalist"):
        for name, values in seed_scores(parent_trials, stage).items():
            scores.setdefault(name, []).extend(values)
    return scores


def validation_answer(study: str, validation_study: str, settings: ValidationSettings, best: ValidatedAnswer | None,
                      parent_trials: list[FrozenTrial], trials: list[FrozenTrial],
                      members: Mapping[str, Sequence[Mapping[str, Any]]], counts: dict[str, int]) -> ValidationAnswer:
    """The validation of ``study`` from its trials and its validation study's ``trials``.

    ``members`` are the scale-up members by φ as the validation study saved them
    (:func:`scaling_search.validation.validation_plan.member_records`), ``counts`` its trials by state.
    """
    fidelity = fidelity_answer(parent_trials, trials, None if best is None else best.trained.candidate)
    scale_up = scale_up_answer(trials, members, study)
    return ValidationAnswer(study, validation_study, settings, best, fidelity, scale_up, counts,
                            paragraph(settings, fidelity, scale_up))


def fidelity_answer(parent_trials: list[FrozenTrial], trials: list[FrozenTrial], answer_candidate: str | None
                    ) -> FidelityAnswer | None:
    """Proxy against long scores of the fidelity runs (None when there are none): ρ, τ, winners, one row each.

    ``answer_candidate`` is the candidate the study's answer trained, whose long rank is reported.
    """
    runs = stage_runs(trials, FIDELITY)
    if not runs:
        return None
    proxy = proxy_scores(parent_trials)
    contending = set(contenders(candidate_table(parent_trials, "search"))["candidate"])
    usable = {name: entry for name, entry in runs.items() if entry.scores and not entry.failed and proxy.get(name)}
    found = None
    if len(usable) >= 2:
        found = rank_fidelity({name: proxy[name] for name in usable},
                              {name: entry.scores for name, entry in usable.items()})
    rows = []
    for name, entry in runs.items():
        long_rank = proxy_rank = None
        if found is not None and name in found.candidates:
            proxy_rank = found.candidates.index(name) + 1
            long_rank = 1 + sum(score > found.long[proxy_rank - 1] for score in found.long)
        proxy_values = proxy.get(name, [])
        alpha, beta, gamma = entry.coefficients
        rows.append(FidelityRow(name, entry.kind, name in contending, alpha, beta, gamma,
                                float(np.mean(proxy_values)) if proxy_values else None, len(proxy_values),
                                entry.summary(), proxy_rank, long_rank, entry.attrs["macs"], entry.attrs["cost_ratio"],
                                entry.attrs["matched"], entry.attrs["resolution"]))
    rows.sort(key=lambda row: (row.proxy_rank is None, row.proxy_rank or 0))
    some = next(iter(runs.values())).attrs
    epochs, base_resolution = some[PLANNED_EPOCHS], some[PLANNED_BASE_RESOLUTION]
    left_out = tuple(row.candidate for row in rows if row.proxy_rank is None)
    if found is None:
        return FidelityAnswer(epochs, base_resolution, tuple(rows), left_out,
                              "Proxy and long ranks cannot be compared: fewer than 2 candidates have every long run "
                              "complete and a proxy score.")
    winner = runs[found.long_winner]
    flip = None
    if found.long_winner != found.proxy_winner:
        against = compare(winner, runs[found.proxy_winner], found.long_winner, found.proxy_winner)
        flip = JudgedComparison(against, against.sentence())
    answer_long_rank = None
    if answer_candidate is not None and answer_candidate in found.candidates:
        answer_long_rank = next(row.long_rank for row in rows if row.candidate == answer_candidate)
    return FidelityAnswer(epochs, base_resolution, tuple(rows), left_out, found.sentence(), found,
                          LongWinner(found.long_winner, winner.summary(), flip), answer_long_rank)


def scale_up_answer(trials: list[FrozenTrial], members: Mapping[str, Sequence[Mapping[str, Any]]],
                    study: str = "<study>") -> tuple[ScaleUpCheck, ...]:
    """Per φ: each member's accuracy with its interval and cost, and the study member against each comparable member.

    ``members`` maps each φ (as text) to its members as saved with the validation study; members
    saved without their compute at the proxy (by an older version) raise InputError naming ``study``.
    """
    found = []
    for phi_text, records in sorted(members.items(), key=lambda item: float(item[0])):
        phi = float(phi_text)
        runs = stage_runs(trials, SCALE_UP, phi)
        if not runs:
            continue
        if any("proxy_ratio" not in record for record in records):
            raise InputError(f"the scale-up members at phi {phi_text} were saved without the compute they train "
                             f"with; run 'scaling-search validate {study} --phis {phi_text}' to re-plan them")
        rows = []
        for record in records:
            entry = runs.get(record["candidate"])
            alpha, beta, gamma = record["coefficients"]
            rows.append(MemberResult(record["kind"], record["candidate"], alpha, beta, gamma, record["macs"],
                                     record["cost_ratio"], record["matched"], record["proxy_macs"],
                                     record["proxy_ratio"], record["proxy_matched"], record["proxy_resolution"],
                                     record["cost_resolution"], entry.summary() if entry else NO_RUNS))
        found.append(ScaleUpCheck(phi, tuple(rows), member_comparisons(rows, runs)))
    return tuple(found)


def member_comparisons(rows: list[MemberResult], runs: dict[str, Runs]) -> tuple[MemberComparison, ...]:
    """The study member against every other comparable member that ran; a member not comparable is not compared."""
    study = rows[0]
    mine = runs.get(study.candidate)
    if mine is None or not mine.scores or mine.failed:
        return ()
    found = []
    for row in rows[1:]:
        other = runs.get(row.candidate)
        if not row.comparable or other is None or not other.scores or row.candidate == study.candidate:
            continue
        comparison = compare(mine, other, "study", row.kind)
        found.append(MemberComparison(comparison, comparison.sentence(), row.kind, row.cost_ratio, row.proxy_ratio,
                                      other.failed))
    return tuple(found)


def paragraph(settings: ValidationSettings, fidelity: FidelityAnswer | None, scale_up: Sequence[ScaleUpCheck]) -> str:
    """The validation's findings in plain words: what holds, what does not, at what budget, and what is not judged."""
    parts = []
    if fidelity:
        count = len(fidelity.candidates)
        contending = sum(row.contender for row in fidelity.candidates)
        parts.append(f"Rank fidelity ({count} networks, {contending} of them contenders, retrained for "
                     f"{fidelity.epochs} epochs, {settings.options.epochs_factor:g}× the study's, on fresh seeds): "
                     f"{fidelity.sentence}")
        flip = None if fidelity.long_winner is None else fidelity.long_winner.against_proxy_winner
        if flip:
            parts.append(f"The long runs' winner against the proxy's: {flip.sentence}")
    for check in scale_up:
        beats, loses, unresolved = [], [], []
        for comparison in check.comparisons:
            if not comparison.comparison.resolved:
                unresolved.append(comparison.against)
            elif comparison.comparison.difference > 0:
                beats.append(comparison.against)
            else:
                loses.append(comparison.against)
        said = [f"beat {', '.join(beats)} (resolved)"] if beats else []
        said += [f"lose to {', '.join(loses)} (resolved)"] if loses else []
        said += [f"cannot be told apart from {', '.join(unresolved)} at this budget (not resolved, which is not "
                 "tied)"] if unresolved else []
        study = check.members[0].candidate if check.members else None
        others = [member for member in check.members[1:] if member.candidate != study]
        reasons = [member.not_judged for member in others if member.not_judged]
        epochs = settings.scale_up_epochs
        head = (f"Scaled up to φ = {check.phi:g} ({epochs} epoch{'s' if epochs != 1 else ''}; a member is judged "
                "only when matched in compute at the cost scale and where it trains)")
        if said:
            text = f"{head}, the study's coefficients {'; '.join(said)}"
            if reasons:
                text += f"; {'; '.join(reasons)}"
        elif others and not any(member.comparable for member in others):
            text = (f"{head}: no member is matched with the study member in compute at both scales, so none is "
                    f"judged ({'; '.join(reasons)})")
        else:
            text = f"{head}: no member could be compared (the study member or the others did not complete)"
            if reasons:
                text += f"; {'; '.join(reasons)}"
        parts.append(text + ".")
    return " ".join(parts)

"""What a study's validation runs say: rank fidelity and the scale-up check, from the finished trials.

Pure functions of the study's trials and its validation study's trials; the result is the
JSON that ``validate --json`` prints, ``validation.json`` holds and the report shows. Every
number comes with what it rests on (seeds, failures, cost), and no sentence claims more than its
interval allows (:meth:`scaling_search.stats.fidelity.RankFidelity.sentence`,
:meth:`scaling_search.stats.comparison.Comparison.sentence`).

The proxy score of a candidate is the mean over all its runs at the study's budget and φ: its
search seeds and, when it was a finalist, its finalist seeds. A candidate with a failed long run
is shown with its failure and left out of the correlations, which would otherwise rank it on its
surviving seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from optuna.trial import FrozenTrial, TrialState

from scaling_search.execution.trainable import PLANNED_BASE_RESOLUTION, PLANNED_EPOCHS
from scaling_search.search.results import VAL_CORRECT, seed_scores, trial_stage
from scaling_search.stats.comparison import (
    Comparison,
    accuracy_interval,
    compare_runs,
    compare_scores,
)
from scaling_search.stats.fidelity import rank_fidelity
from scaling_search.training.correctness import unpack_correctness
from scaling_search.validation.validation_plan import FIDELITY, SCALE_UP


@dataclass
class Runs:
    """One network's finished runs in a check: scores and per-image correctness by seed, failures counted."""

    kind: str
    coefficients: tuple[float, float, float]
    attrs: dict[str, Any]
    scores: dict[int, float] = field(default_factory=dict)
    correct: dict[int, np.ndarray] = field(default_factory=dict)
    failed: int = 0

    def summary(self) -> dict[str, Any]:
        """Mean accuracy, its 95 % interval over seeds and images, the seeds it rests on, the failures."""
        score = float(np.mean(list(self.scores.values()))) if self.scores else None
        interval = None
        if self.correct and len(self.correct) == len(self.scores):
            interval = list(accuracy_interval(self.correct, self.attrs["candidate"]))
        return {"score": score, "ci95": interval, "n_seeds": len(self.scores), "n_failed": self.failed}


def stage_runs(trials: list[FrozenTrial], stage: str, phi: float | None = None) -> dict[str, Runs]:
    """The finished runs of ``stage`` (at ``phi`` when given) by candidate, in trial order."""
    runs: dict[str, Runs] = {}
    for trial in sorted(trials, key=lambda t: t.number):
        attrs = trial.user_attrs
        if trial_stage(trial) != stage or (phi is not None and float(attrs["phi"]) != phi):
            continue
        coefficients = tuple(float(trial.params[name]) for name in ("alpha", "beta", "gamma"))
        entry = runs.setdefault(attrs["candidate"], Runs(attrs["kind"], coefficients, dict(attrs)))  # type: ignore[arg-type]
        seed = int(trial.params["seed"])
        if trial.state == TrialState.COMPLETE and trial.value is not None:
            entry.scores[seed] = float(trial.value)
            packed = trial.system_attrs.get(VAL_CORRECT)
            if packed:
                entry.correct[seed] = unpack_correctness(packed)
        elif trial.state in (TrialState.FAIL, TrialState.PRUNED):
            entry.failed += 1
    return runs


def compare(first: Runs, second: Runs, first_name: str, second_name: str) -> Comparison:
    """``first`` − ``second``: paired over seeds and images when both kept per-image records, else over seeds."""
    if first.correct and second.correct:
        return compare_runs(first.correct, second.correct, first_name, second_name)
    return compare_scores(list(first.scores.values()), list(second.scores.values()), first_name, second_name)


def proxy_scores(parent_trials: list[FrozenTrial]) -> dict[str, list[float]]:
    """Each candidate's scores at the study's budget and φ: its search and finalist seeds together."""
    scores: dict[str, list[float]] = {}
    for stage in ("search", "finalist"):
        for name, values in seed_scores(parent_trials, stage).items():
            scores.setdefault(name, []).extend(values)
    return scores


def fidelity_answer(parent_trials: list[FrozenTrial], trials: list[FrozenTrial], best: dict[str, Any] | None
                    ) -> dict[str, Any] | None:
    """Proxy against long scores of the fidelity runs (None when there are none): ρ, τ, winners, one row each."""
    runs = stage_runs(trials, FIDELITY)
    if not runs:
        return None
    proxy = proxy_scores(parent_trials)
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
        rows.append({"candidate": name, "kind": entry.kind, **coefficient_fields(entry.coefficients),
                     "proxy_score": float(np.mean(proxy_values)) if proxy_values else None,
                     "proxy_seeds": len(proxy_values), **prefixed("long_", entry.summary()),
                     "proxy_rank": proxy_rank, "long_rank": long_rank, "macs": entry.attrs["macs"],
                     "measured_ratio": entry.attrs["cost_ratio"], "on_constraint": entry.attrs["matched"],
                     "resolution": entry.attrs["resolution"]})
    rows.sort(key=lambda row: (row["proxy_rank"] is None, row["proxy_rank"] or 0))
    some = next(iter(runs.values())).attrs
    answer: dict[str, Any] = {"epochs": some[PLANNED_EPOCHS], "base_resolution": some[PLANNED_BASE_RESOLUTION],
                              "candidates": rows, "left_out": [row["candidate"] for row in rows
                                                               if row["proxy_rank"] is None]}
    if found is None:
        answer["sentence"] = ("Proxy and long ranks cannot be compared: fewer than 2 candidates have every long run "
                              "complete and a proxy score.")
        return answer
    answer["rank_fidelity"] = found.to_dict()
    answer["sentence"] = found.sentence()
    winner = runs[found.long_winner]
    answer["long_winner"] = {"candidate": found.long_winner, **winner.summary()}
    if found.long_winner != found.proxy_winner:
        flip = compare(winner, runs[found.proxy_winner], found.long_winner, found.proxy_winner)
        answer["long_winner"]["against_proxy_winner"] = comparison_record(flip)
    if best is not None and best["trained"]["candidate"] in found.candidates:
        answer["answer_long_rank"] = next(row["long_rank"] for row in rows
                                          if row["candidate"] == best["trained"]["candidate"])
    return answer


def scale_up_answer(trials: list[FrozenTrial], members: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per φ: each member's accuracy with its interval and cost, and the study member against each other member."""
    found = []
    for phi_text, records in sorted(members.items(), key=lambda item: float(item[0])):
        phi = float(phi_text)
        runs = stage_runs(trials, SCALE_UP, phi)
        if not runs:
            continue
        rows = []
        for record in records:
            entry = runs.get(record["candidate"])
            summary = entry.summary() if entry else {"score": None, "ci95": None, "n_seeds": 0, "n_failed": 0}
            rows.append({"kind": record["kind"], "candidate": record["candidate"],
                         **coefficient_fields(tuple(record["coefficients"])), "macs": record["macs"],
                         "cost_ratio": record["cost_ratio"], "matched": record["matched"],
                         "resolution": record["proxy_resolution"], "cost_resolution": record["cost_resolution"],
                         **summary})
        found.append({"phi": phi, "members": rows, "comparisons": member_comparisons(rows, runs)})
    return found


def member_comparisons(rows: list[dict[str, Any]], runs: dict[str, Runs]) -> list[dict[str, Any]]:
    """The study member against every other member that ran, each flagged when not matched in cost."""
    study = rows[0]
    mine = runs.get(study["candidate"])
    if mine is None or not mine.scores or mine.failed:
        return []
    found = []
    for row in rows[1:]:
        other = runs.get(row["candidate"])
        if other is None or not other.scores or row["candidate"] == study["candidate"]:
            continue
        record = comparison_record(compare(mine, other, "study", row["kind"]))
        record.update(against=row["kind"], matched=row["matched"], cost_ratio=row["cost_ratio"],
                      other_failed=other.failed)
        if not row["matched"]:
            record["sentence"] = (f"not matched in cost ({row['cost_ratio']:.2f}× the study member's MACs), so not "
                                  f"a like-for-like comparison: {record['sentence']}")
        found.append(record)
    return found


def comparison_record(comparison: Comparison) -> dict[str, Any]:
    return comparison.to_dict() | {"sentence": comparison.sentence()}


def coefficient_fields(coefficients: tuple[float, ...]) -> dict[str, float]:
    return dict(zip(("alpha", "beta", "gamma"), coefficients, strict=True))


def prefixed(prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}{name}": value for name, value in values.items()}


def paragraph(validation: dict[str, Any]) -> str:
    """The validation's findings in plain words: what holds, what does not, at what budget."""
    parts = []
    fidelity = validation.get("fidelity")
    if fidelity:
        count = len(fidelity["candidates"])
        parts.append(f"Rank fidelity ({count} networks retrained for {fidelity['epochs']} epochs, "
                     f"{validation['settings']['epochs_factor']:g}× the study's, on fresh seeds): "
                     f"{fidelity['sentence']}")
        flip = fidelity.get("long_winner", {}).get("against_proxy_winner")
        if flip:
            parts.append(f"The long runs' winner against the proxy's: {flip['sentence']}")
    for check in validation.get("scale_up", []):
        beats, loses, unresolved, unmatched = [], [], [], []
        for comparison in check["comparisons"]:
            if not comparison["matched"]:
                unmatched.append(f"{comparison['against']} ({comparison['cost_ratio']:.2f}× the cost)")
            elif not comparison["resolved"]:
                unresolved.append(comparison["against"])
            elif comparison["difference"] > 0:
                beats.append(comparison["against"])
            else:
                loses.append(comparison["against"])
        said = [f"beat {', '.join(beats)} (resolved)"] if beats else []
        said += [f"lose to {', '.join(loses)} (resolved)"] if loses else []
        said += [f"cannot be told apart from {', '.join(unresolved)} at this budget (not resolved, which is not "
                 "tied)"] if unresolved else []
        epochs = validation["settings"]["scale_up_epochs"]
        head = (f"Scaled up to φ = {check['phi']:g} ({epochs} epoch{'s' if epochs != 1 else ''}, members matched in "
                "cost at the cost scale)")
        if not said:
            parts.append(f"{head}: no member could be compared (the study member or the others did not complete).")
            continue
        text = f"{head}, the study's coefficients {'; '.join(said)}"
        if unmatched:
            text += f"; {', '.join(unmatched)} missed the cost tolerance and is shown, not judged"
        parts.append(text + ".")
    return " ".join(parts)

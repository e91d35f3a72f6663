"""A study held to latency, seen under MACs too: its winner beside the best network it trained that MACs admits.

A latency study trains the networks its device's latency admits; a MACs study would have trained
others. This section judges each network the latency study trained by the MACs rules as well (on
the MACs constraint, a family doubling its MACs per φ, trained with the MACs it is charged for:
:func:`~scaling_search.coefficients.grid.measure` under ``cost="macs"``) and puts the latency
winner beside the best of them that MACs would also admit. Both come from the same runs, so their
accuracies are not two verdicts: the section says which network each cost would pick, no more.
Comparing with a search held to MACs means running one (the committed example in reports/ does).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from scaling_search.coefficients.grid import GridSpec, measure
from scaling_search.counting.analytic import analytic_counts

COLUMNS = {"alpha": ".3f", "beta": ".3f", "gamma": ".3f", "latency_ratio": ".3f", "macs_ratio": ".3f",
           "macs_growth_per_phi": ".3f", "score": ".4f", "test_acc": ".4f"}


@dataclass(frozen=True)
class CostSideBySide:
    """The latency winner and the best trained MACs contender (None when the study trained none), with a sentence."""

    table: pd.DataFrame
    macs_contenders: int
    same: bool
    sentence: str


def side_by_side(table: pd.DataFrame, grid: GridSpec, winner: str) -> CostSideBySide:
    """Rows for ``winner`` (the latency study's trained winner) and the best-ranked trained MACs contender.

    ``table`` is the study's candidate table, ranked (best first); MACs judgments are counted in
    closed form at ``grid``'s cost scale and proxy.
    """
    macs_grid = replace(grid, cost="macs")
    judged = []
    for row in table.itertuples():
        macs = measure(macs_grid, (row.alpha, row.beta, row.gamma), row.kind, analytic_counts)  # type: ignore[arg-type]
        judged.append({"candidate": row.candidate, "alpha": row.alpha, "beta": row.beta, "gamma": row.gamma,
                       "latency_ratio": row.latency_ratio, "macs_ratio": macs.measured_ratio,
                       "macs_growth_per_phi": macs.growth_per_phi, "macs_contender": macs.contender,
                       "score": row.score, "test_acc": row.test_acc})
    frame = pd.DataFrame(judged)
    chosen = frame[frame["candidate"] == winner].assign(picked_by="latency")
    admitted = frame[frame["macs_contender"]]
    rows = [chosen]
    if len(admitted):
        rows.append(admitted.head(1).assign(picked_by="MACs"))
    shown = pd.concat(rows, ignore_index=True)[["picked_by", *COLUMNS]]
    same = bool(len(admitted)) and admitted.iloc[0]["candidate"] == winner
    return CostSideBySide(shown, len(admitted), same, sentence(len(frame), len(admitted), same))


def sentence(trained: int, admitted: int, same: bool) -> str:
    """What the side-by-side table says, in words."""
    if admitted == 0:
        return (f"None of the {trained} networks this study trained is a contender under MACs (on the MACs constraint, "
                "its family doubling its MACs per φ, trained with the MACs it is charged for): held to latency, the "
                "search trained networks a MACs search would not. Which network MACs would pick needs a study held "
                "to MACs (docs/costs.md).")
    if same:
        return (f"The latency winner is also the best of the {admitted} trained networks MACs admits: on this device "
                "and data both costs pick the same network.")
    return (f"MACs admits {admitted} of the {trained} networks this study trained, and would pick another one than "
            "latency does. Both rows come from the same runs, so their accuracies are not two verdicts; the "
            "difference between them is not tested here.")

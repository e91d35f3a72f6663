"""The report's tables as data frames, and their Markdown, CSV and LaTeX renderings."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd
from optuna.trial import FrozenTrial

from scaling_search.coefficients.family import (
    FamilyGrowth,
    FamilyMember,
    buildable_phis,
    derive_family,
    released_family,
)
from scaling_search.coefficients.grid import GridSpec, growth_of
from scaling_search.coefficients.growth import Growth
from scaling_search.counting.counter import Counter
from scaling_search.models.architecture import FAMILY_PHIS, PAPER_COEFFICIENTS, RELEASED_FAMILY
from scaling_search.models.bases import has_released_family
from scaling_search.search.results import candidate_table, on_constraint
from scaling_search.support.formatting import format_number

PAPER_NOTE = ("paper: α = 1.2, β = 1.1, γ = 1.15 (α·β²·γ² = 1.92 ≈ 2), from a small grid search at φ = 1 "
              "on ImageNet (Tan & Le 2019, §3.3)")
PAPER_FAMILY_COLUMNS = ("paper_params_m", "paper_flops_b", "params_vs_paper", "macs_vs_paper")
"""The family table's columns that compare with the paper's Table 2: B0's family only."""
FORMATS = ("md", "csv", "tex")
Interval = Sequence[float]
"""A plateau's (low, high) on one axis."""

COEFFICIENT_COLUMNS = {"rank": "d", "alpha": ".3f", "beta": ".3f", "gamma": ".3f", "nominal_ratio": ".3f",
                       "measured_ratio": ".3f", "macs_m": ".1f", "params_m": ".2f", "activations_m": ".2f",
                       "cost_resolution": "d", "proxy_ratio": ".3f", "resolution": "d", "upsample": ".2f",
                       "growth_per_phi": ".3f", "n_seeds": "d", "test_acc": ".4f"}
FAMILY_COLUMNS = {"width": ".3f", "depth": ".3f", "resolution": "d", "dropout": ".1f", "blocks": "d", "params_m": ".2f",
                  "macs_b": ".3f", "macs_ratio": ".2f", "cost_per_phi": ".3f", "paper_params_m": "g",
                  "paper_flops_b": "g"}
PAPER_COLUMNS = {"width": ".1f", "depth": ".1f", "resolution": "d", "dropout": ".1f", "blocks": "d", "params": ",d",
                 "paper_params_m": "g", "macs": ",d", "analytic_macs": ",d", "macs_vs_analytic_pct": "+.3f",
                 "paper_flops_b": "g"}


def coefficient_table(trials: list[FrozenTrial], paper: bool = True) -> pd.DataFrame:
    """The α/β/γ table: one row per candidate, ranked by mean validation accuracy over seeds.

    The paper's point is marked when ``paper`` (a B0 study; for another base it is just a grid point).
    """
    table = candidate_table(trials)
    table["paper"] = [
        "← the paper's point" if paper and (row.alpha, row.beta, row.gamma) == PAPER_COEFFICIENTS else ""
        for row in table.itertuples()
    ]
    return table


def family_table(alpha: float, beta: float, gamma: float, counter: Counter, grid: GridSpec) -> pd.DataFrame:
    """Derived φ = 0..7 of (α, β, γ) at ``grid``'s cost scale beside the released B0–B7 and the paper's Table 2.

    The released rows and the paper's columns are B0's: a family of another base has its derived rows only. Members
    that cannot be built (:func:`~scaling_search.coefficients.family.buildable_phis`) have no row.
    """
    phis = buildable_phis(alpha, beta, gamma, FAMILY_PHIS, grid.cost_resolution, grid.resolution_multiple, grid.base)
    derived = derive_family(alpha, beta, gamma, phis, counter, base_resolution=grid.cost_resolution,
                            resolution_multiple=grid.resolution_multiple, num_classes=grid.cost_classes, base=grid.base)
    if not has_released_family(grid.base):
        return pd.DataFrame(member_rows(derived)).drop(columns=list(PAPER_FAMILY_COLUMNS))
    return pd.DataFrame(member_rows(derived + released_family(counter, grid.cost_classes)))


def study_family_growth(alpha: float, beta: float, gamma: float, grid: GridSpec, timed: Growth | None = None
                        ) -> FamilyGrowth:
    """How fast the family of (α, β, γ) grows per φ at ``grid``'s cost scale, against its target and growth tolerance.

    The same measure the grid's candidates carry (``growth_per_phi``, ``on_growth``), so the report's
    family and the search's contenders agree: counted for a counted cost, ``timed`` (as the study
    stored it) for latency.
    """
    growth = timed if grid.cost == "latency" and timed is not None else growth_of(grid, (alpha, beta, gamma))
    return FamilyGrowth(growth, grid.target, grid.growth_tolerance_used)


class FamilyRow(TypedDict):
    """A row of the family table: one member, derived or released, and the paper's figures for a released one."""

    name: str
    source: str
    width: float
    depth: float
    resolution: int
    dropout: float
    blocks: int
    repeats: str
    params_m: float
    macs_b: float
    macs_ratio: float
    cost_per_phi: float | None
    paper_params_m: float | None
    paper_flops_b: float | None
    params_vs_paper: str
    macs_vs_paper: str


def member_rows(members: list[FamilyMember]) -> list[FamilyRow]:
    """The family table's rows; a released member's with the paper's Table 2 beside it.

    ``cost_per_phi`` is the member's cost per unit of φ, ``macs_ratio ** (1 / φ)`` (none at φ = 0):
    at φ = 7 it is the family's growth per φ (:func:`study_family_growth`).
    """
    rows: list[FamilyRow] = []
    for member in members:
        paper = RELEASED_FAMILY[int(member.phi)] if member.source == "released" else None
        rows.append({
            "name": member.name,
            "source": member.source,
            "width": member.width,
            "depth": member.depth,
            "resolution": member.resolution,
            "dropout": member.dropout,
            "blocks": member.layout.num_blocks,
            "repeats": "-".join(map(str, member.layout.repeats)),
            "params_m": member.params / 1e6,
            "macs_b": member.macs / 1e9,
            "macs_ratio": member.macs_ratio,
            "cost_per_phi": member.macs_ratio ** (1 / member.phi) if member.phi else None,
            "paper_params_m": paper.paper_params_m if paper else None,
            "paper_flops_b": paper.paper_flops_b if paper else None,
            "params_vs_paper": paper_deviation(member.params / 1e6, paper.paper_params_m) if paper else "",
            "macs_vs_paper": paper_deviation(member.macs / 1e9, paper.paper_flops_b) if paper else "",
        })
    return rows


def paper_deviation(measured: float, published: float) -> str:
    """'' when ``measured`` rounds to the paper's figure at its precision, else the relative difference."""
    digits = 2 if published < 1 else max(0, 1 - math.floor(math.log10(published)))
    if round(measured, digits) == published or abs(measured - published) <= 0.5 * 10**-digits:
        return ""
    return f"{(measured / published - 1) * 100:+.1f} % vs paper"


def paper_table(counter: Counter, reference: Counter) -> pd.DataFrame:
    """Released B0–B7 measured here (``counter``) against the closed form (``reference``) and the paper."""
    rows = []
    for member, check in zip(released_family(counter), released_family(reference), strict=True):
        paper = RELEASED_FAMILY[int(member.phi)]
        rows.append({
            "name": member.name,
            "width": member.width,
            "depth": member.depth,
            "resolution": member.resolution,
            "dropout": member.dropout,
            "blocks": member.layout.num_blocks,
            "params": member.params,
            "paper_params_m": paper.paper_params_m,
            "macs": member.macs,
            "analytic_macs": check.macs,
            "macs_vs_analytic_pct": (member.macs / check.macs - 1) * 100,
            "paper_flops_b": paper.paper_flops_b,
            "params_vs_paper": paper_deviation(member.params / 1e6, paper.paper_params_m),
            "macs_vs_paper": paper_deviation(member.macs / 1e9, paper.paper_flops_b),
        })
    return pd.DataFrame(rows)


def ranked_rows(table: pd.DataFrame, plateau: Callable[[Interval, Interval, Interval], str] | None = None
                ) -> pd.DataFrame:
    """A stage's ranked table as a report or the command line shows it: MACs in millions, mean ± std, each plateau.

    Adds ``val_acc`` (mean ± std over the completed seeds, ``–`` without one), ``constraint``
    (``off-constraint`` or blank), ``plateau`` (``plateau`` of the row's α, β and γ intervals; by
    default :func:`plateau_box`) and ``macs_m``, ``params_m``, ``activations_m``.
    """
    box = plateau or plateau_box
    flags = ["" if on_constraint(on) else "off-constraint" for on in table["on_constraint"]]
    accuracy = [("–" if seeds == 0 else f"{score:.4f} ± {std:.4f}" if seeds > 1 and std == std  # NaN-safe
                 else f"{score:.4f}")
                for seeds, score, std in zip(table["n_seeds"], table["score"], table["score_std"], strict=True)]
    boxes = [box(*bounds) for bounds in zip(table["plateau_alpha"], table["plateau_beta"], table["plateau_gamma"],
                                            strict=True)]
    return table.assign(macs_m=table["macs"] / 1e6, params_m=table["params"] / 1e6,
                        activations_m=table["activations"] / 1e6, constraint=flags, val_acc=accuracy, plateau=boxes,
                        paper=table.get("paper", ""))


def plateau_box(alpha: Interval, beta: Interval, gamma: Interval) -> str:
    """A plateau as the report's tables show it: ``[1.000, 1.250] × [1.000, 1.100] × [1.100, 1.150]``."""
    return " × ".join(f"[{lo:.3f}, {hi:.3f}]" for lo, hi in (alpha, beta, gamma))


def spread_rows(spread: pd.DataFrame, opened: pd.DataFrame | None = None) -> pd.DataFrame:
    """A plateau spread (:func:`~scaling_search.coefficients.plateaus.plateau_spread`) as a table: a row per φ.

    With ``opened`` (:func:`~scaling_search.coefficients.plateaus.open_spread` over the winner and the
    candidates it was not resolved from), three more columns say what the answer could also have been.
    """
    axes = ("depth", "width", "resolution")
    columns = {"phi": [f"{phi:g}" for phi in spread["phi"]],
               **{name: [f"{lo:.3f}–{hi:.3f}" for lo, hi in spread[name]] for name in axes}}
    if opened is not None:
        columns |= {f"{name} (open)": [f"{lo:.3f}–{hi:.3f}" for lo, hi in opened[name]] for name in axes}
    return pd.DataFrame(columns)


def write_table(folder: Path, name: str, frame: pd.DataFrame, formats: dict[str, str], caption: str,
                wanted: tuple[str, ...]) -> str:
    """Write a table in the wanted formats; returns its Markdown for the index."""
    markdown = to_markdown(frame, formats)
    if "md" in wanted:
        (folder / f"{name}.md").write_text(f"{caption}\n\n{markdown}")
    if "csv" in wanted:
        frame.to_csv(folder / f"{name}.csv", index=False)
    if "tex" in wanted:
        (folder / f"{name}.tex").write_text(to_latex(frame, formats, caption))
    return markdown


def to_markdown(frame: pd.DataFrame, formats: dict[str, str]) -> str:
    """A GitHub table; ``formats`` maps columns to format specs (others as they are)."""
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "| " + " | ".join("---:" if pd.api.types.is_numeric_dtype(frame[c]) else "---" for c in frame.columns)
    lines = [header, rule + " |"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v, formats.get(c)) for c, v in zip(frame.columns, row, strict=True))
                     + " |")
    return "\n".join(lines) + "\n"


def to_latex(frame: pd.DataFrame, formats: dict[str, str], caption: str) -> str:
    """A booktabs table without pandas' optional jinja2 dependency."""
    def escape(text: str) -> str:
        for raw, safe in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                          ("±", r"$\pm$"), ("←", r"$\leftarrow$"), ("α", r"$\alpha$"), ("β", r"$\beta$"),
                          ("γ", r"$\gamma$")):
            text = text.replace(raw, safe)
        return text

    align = "".join("r" if pd.api.types.is_numeric_dtype(frame[c]) else "l" for c in frame.columns)
    lines = [r"\begin{table}[t]", r"\centering", rf"\caption{{{escape(caption)}}}", rf"\begin{{tabular}}{{{align}}}",
             r"\toprule", " & ".join(escape(str(c)) for c in frame.columns) + r" \\", r"\midrule"]
    for row in frame.itertuples(index=False):
        lines.append(" & ".join(escape(cell(v, formats.get(c))) for c, v in zip(frame.columns, row, strict=True))
                     + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def cell(value: Any, spec: str | None) -> str:
    return format_number(value, spec or "", missing="–")

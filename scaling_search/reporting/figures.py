"""The report's figures: each function writes one PNG and one SVG and returns their file names.

Figures are built with matplotlib's object API (``Figure``), not pyplot, so no global backend
or figure registry is touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scaling_search.models.architecture import FAMILY_PHIS


class Marker(TypedDict):
    """How a kind of candidate is drawn: matplotlib's ``marker`` and ``color`` keyword arguments."""

    marker: str
    color: str


class MarkerStyle(Marker, total=False):
    """A :class:`Marker`, with the size of a marker that should stand out."""

    markersize: float


KIND_STYLE: dict[str, MarkerStyle] = {
    "compound": MarkerStyle(marker="o", color="tab:blue"),
    "reference": MarkerStyle(marker="*", color="tab:red", markersize=14),
    "depth-only": MarkerStyle(marker="s", color="tab:green"),
    "width-only": MarkerStyle(marker="^", color="tab:purple"),
    "resolution-only": MarkerStyle(marker="D", color="tab:orange"),
    "fast": MarkerStyle(marker="P", color="tab:brown"),
}


def new_figure(height: float = 4.2, width: float = 6.4) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height))
    return figure, figure.subplots()


def save(figure: Figure, folder: Path, name: str) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    names = []
    for suffix in ("png", "svg"):
        figure.savefig(folder / f"{name}.{suffix}", dpi=150)
        names.append(f"{name}.{suffix}")
    return names


COST_AXES: dict[str, tuple[str, float, str]] = {
    "macs": ("macs", 1e6, "MACs per image at the cost scale (millions)"),
    "activations": ("activations", 1e6, "activations per image at the cost scale (millions)"),
    "latency": ("latency_ms", 1.0, "latency per call at the cost scale (ms, median)"),
}
"""Each cost's column of the candidate table, its unit and its axis label."""


def measured_costs(table: pd.DataFrame) -> list[str]:
    """The costs ``table`` holds a value of for some candidate: MACs and activations always, latency when timed."""
    return [cost for cost, (column, _, _) in COST_AXES.items()
            if column in table and pd.to_numeric(table[column], errors="coerce").notna().any()]


def accuracy_vs_cost(table: pd.DataFrame, folder: Path, cost: str) -> list[str]:
    """Validation accuracy (mean ± std over seeds) against one cost, one marker style per kind
    (``accuracy_vs_<cost>``; the latency one shows the interquartile range of the timed blocks)."""
    column, unit, label = COST_AXES[cost]
    figure, axes = new_figure()
    for kind, style in KIND_STYLE.items():
        rows = table[(table["kind"] == kind) & pd.to_numeric(table[column], errors="coerce").notna()]
        if rows.empty:
            continue
        spread = rows["latency_iqr_ms"].astype(float) / 2 if cost == "latency" else None
        axes.errorbar(rows[column].astype(float) / unit, rows["score"] * 100, xerr=spread,
                      yerr=rows["score_std"].fillna(0) * 100, linestyle="none", capsize=3, label=kind, **style)
    axes.set_xlabel(label)
    axes.set_ylabel("validation accuracy (%)")
    axes.set_title(f"Candidates: accuracy against {cost}")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return save(figure, folder, f"accuracy_vs_{cost}")


def accuracy_over_alpha_beta(table: pd.DataFrame, folder: Path) -> list[str]:
    """Accuracy over (α, β); γ is implied by the cost constraint and written beside each point."""
    figure, axes = new_figure(4.6)
    points = axes.scatter(table["alpha"], table["beta"], c=table["score"] * 100, cmap="viridis", s=80,
                          edgecolors="black")
    for row in table.itertuples():
        axes.annotate(f"γ={row.gamma:.2f}", (row.alpha, row.beta), textcoords="offset points", xytext=(5, 5),
                      fontsize=7)
    reference = table[table["kind"] == "reference"]
    axes.scatter(reference["alpha"], reference["beta"], marker="*", s=260, facecolors="none", edgecolors="red",
                 label="paper (1.2, 1.1, 1.15)")
    figure.colorbar(points, ax=axes, label="validation accuracy (%)")
    axes.set_xlabel("α (depth coefficient)")
    axes.set_ylabel("β (width coefficient)")
    axes.set_title("Accuracy over (α, β), γ from the constraint")
    axes.grid(alpha=0.3)
    if not reference.empty:
        axes.legend(fontsize=8)
    return save(figure, folder, "accuracy_over_alpha_beta")


def family_growth(family: pd.DataFrame, folder: Path, base: str = "B0") -> list[str]:
    """MACs over the unscaled ``base`` of the derived (and, for B0, released) families against the ideal 2^φ."""
    figure, axes = new_figure()
    for source, style in (("derived", Marker(marker="o", color="tab:blue")),
                          ("released", Marker(marker="s", color="tab:gray"))):
        rows = family[family["source"] == source]
        if not rows.empty:
            axes.plot(range(len(rows)), rows["macs_ratio"], label=source, **style)
    axes.plot(FAMILY_PHIS, [2.0**p for p in FAMILY_PHIS], linestyle="--", color="black", label="2^φ")
    axes.set_yscale("log", base=2)
    released = (family["source"] == "released").any()
    axes.set_xlabel("φ (derived phi0..phi7, released B0..B7)" if released else "φ (derived phi0..phi7)")
    axes.set_ylabel(f"MACs relative to {base} (log₂ scale)")
    axes.set_title("Cost growth of the family against 2^φ")
    axes.grid(alpha=0.3, which="both")
    axes.legend(fontsize=8)
    return save(figure, folder, "family_growth")


def scaling_methods(pairs: list[tuple[pd.Series, pd.Series]], folder: Path) -> list[str]:
    """Each single-dimension baseline beside the compound candidate nearest to it in cost, each bar with its MACs.

    ``pairs`` holds (compound, baseline) rows of the candidate table, matched by :func:`cost_matched_pairs`.
    """
    rows = pd.DataFrame([row for pair in pairs for row in pair])
    positions = [slot + 3 * group for group in range(len(pairs)) for slot in (0, 1)]
    labels = [f"{r.kind}\n({r.alpha:.2f}, {r.beta:.2f},\n{r.gamma:.2f})\n{r.macs / 1e6:.0f} M MACs"
              for r in rows.itertuples()]
    figure, axes = new_figure(4.8, width=2.6 * len(pairs) + 1.2)
    axes.bar(positions, rows["score"] * 100, yerr=rows["score_std"].fillna(0) * 100, capsize=4,
             color=[KIND_STYLE[k]["color"] for k in rows["kind"]])
    axes.set_xticks(positions, labels, fontsize=6)
    axes.set_ylabel("validation accuracy (%)")
    low = float((rows["score"] - rows["score_std"].fillna(0)).min() * 100)
    axes.set_ylim(max(0.0, low - 5), None)
    axes.set_title("Single-dimension scaling beside compound, matched in cost", fontsize=10)
    axes.grid(alpha=0.3, axis="y")
    return save(figure, folder, "scaling_methods")


def cost_matched_pairs(table: pd.DataFrame, compound: pd.DataFrame) -> list[tuple[pd.Series, pd.Series]]:
    """Each baseline row of ``table`` with the row of ``compound`` whose cost-scale MACs are nearest to its own."""
    pairs = []
    for kind in ("depth-only", "width-only", "resolution-only", "fast"):
        baseline = table[table["kind"] == kind]
        if baseline.empty or compound.empty:
            continue
        row = baseline.iloc[0]
        nearest = compound.iloc[int((compound["macs"] - row["macs"]).abs().to_numpy().argmin())]
        pairs.append((nearest, row))
    return pairs

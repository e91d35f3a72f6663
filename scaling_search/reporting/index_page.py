"""The text of a study report's index.md: the verdict, the tables and figures in order, how it was made.

Its sentences about the answer come from :mod:`scaling_search.reporting.wording`; this module
lays them out with the tables' Markdown.
"""

from __future__ import annotations

from typing import Any

import optuna
import pandas as pd

from scaling_search.coefficients.grid import GridSpec
from scaling_search.reporting import validation_section as checks
from scaling_search.reporting import wording
from scaling_search.reporting.wording import comparison_label, conclusions
from scaling_search.search.answer import StudyAnswer
from scaling_search.search.results import trial_rows
from scaling_search.study.definition import StudyDefinition


def study_index(study: optuna.Study, definition: StudyDefinition, grid: GridSpec, table: pd.DataFrame,
                best: StudyAnswer | None, markdown: dict[str, str], pairs: list[tuple[pd.Series, pd.Series]],
                note: str | None = None, validation: dict[str, Any] | None = None) -> str:
    frame = trial_rows(study.get_trials(deepcopy=False))
    states = frame["state"].value_counts().to_dict()
    hardware = sorted({str(h) for h in frame.get("hardware", pd.Series(dtype=str)).dropna()}) or ["not recorded"]
    wall = frame["wall_s"].dropna().astype(float)
    environment = study.user_attrs.get("environment", {})
    scale = (f"{grid.cost_resolution} px × γ^φ rounded to a multiple of {grid.resolution_multiple}, "
             f"{grid.cost_classes} classes")
    if best is None:
        verdict = ["No compound candidate on the cost constraint completed on every seed, so the study has no best "
                   "coefficients; the table shows what did complete.", ""]
    else:
        box = best.plateau
        decided = (f"{best.n_seeds} fresh finalist seeds ({', '.join(map(str, best.finalist_seeds))})"
                   if best.decided_by == "finalists" else
                   f"{best.n_seeds} search seed{'s' if best.n_seeds > 1 else ''} (no finalists)")
        refined = best.refinement
        verdict = [
            f"Best coefficients: **α = {best.alpha:.4g}, β = {best.beta:.4g}, γ = {best.gamma:.4g}**, "
            f"standing for the plateau α ∈ [{box.alpha[0]:.4g}, {box.alpha[1]:.4g}], "
            f"β ∈ [{box.beta[0]:.4g}, {box.beta[1]:.4g}], γ ∈ [{box.gamma[0]:.4g}, {box.gamma[1]:.4g}] "
            f"({best.representative}). The winning network ({best.trained.candidate}) scored "
            f"{best.score:.4f}" + (f" ± {best.score_std:.4f}" if best.score_std is not None else "")
            + f" over {decided}, at {best.measured_ratio:.2f}× {wording.base_cost(grid)} cost at the cost scale.",
            "",
            *[f"- Against {comparison_label(c)}: {c.sentence}" for c in best.comparisons],
            f"- Refinement at φ = {refined.phi:g}: "
            + (f"{refined.trained} networks trained; the best, {refined.winner.candidate}, gives the "
               "coefficients above." if refined.winner is not None else
               f"did not decide ({refined.reason})." if refined.ran else f"not run ({refined.reason})."),
            "",
            "**What this study can and cannot conclude.** "
            + " ".join(conclusions(best, definition, validated=validation is not None)),
            "",
        ]
    lines = [
        f"# Study `{definition.study}`",
        "",
        *([f"> {note}", ""] if note else []),
        wording.base_line(grid),
        "",
        *verdict,
        f"Trials: {', '.join(f'{n} {s.lower()}' for s, n in sorted(states.items()))}. "
        f"Proxy training time: {wall.sum() / 60:.1f} min in all ({wall.mean():.1f} s per trial).",
        "",
        "## The α/β/γ table",
        "",
        markdown["search"],
        f"Cost (*measured_ratio*, MACs, params, activations, *cost_resolution*) is taken at the cost scale "
        f"({scale}), where the constraint ({grid.constraint}, {grid.target_ratio:.3g}× ± {grid.tolerance:.0%}) is "
        f"evaluated; *proxy_ratio* and *resolution* are the trained proxy's ({definition.base_resolution} px base). "
        f"*nominal* is α·β²·γ². Each row stands for its *plateau*: every α × β × γ in it trains and costs the same "
        f"networks at φ = {grid.phi:g}, so the search cannot tell them apart. *n_seeds* counts completed seeds, "
        f"*n_failed* failed or stopped ones; a candidate with a failed seed ranks below every candidate without one "
        f"and cannot be the best. Only compound candidates on the constraint can be the best; rows marked "
        f"off-constraint are shown for comparison. {wording.paper_note(grid)}.",
        "",
        "![accuracy against measured MACs](figures/accuracy_vs_macs.png)",
        "",
        "![accuracy over alpha and beta](figures/accuracy_over_alpha_beta.png)",
        "",
    ]
    if "finalist" in markdown:
        lines += ["## Finalists", "", wording.finalists_paragraph(grid), "", markdown["finalist"]]
    if "refine" in markdown:
        lines += ["## Refinement", "",
                  f"The networks the winning class splits into at φ = {2 * grid.phi:g} (those on the constraint "
                  "there), each trained at its representative coefficients; the best gives the exported "
                  "coefficients.", "", markdown["refine"]]
    if pairs:
        lines += ["## Compound against single-dimension scaling", "",
                  "Each single-dimension baseline beside the compound candidate nearest to it in cost "
                  "(MACs at the cost scale on every bar):", ""]
        lines += [f"- {row['kind']} ({row['alpha']:.3g}, {row['beta']:.3g}, {row['gamma']:.3g}), "
                  f"{row['macs'] / 1e6:.0f} M MACs: {row['score']:.4f}; compound ({twin['alpha']:.3g}, "
                  f"{twin['beta']:.3g}, {twin['gamma']:.3g}), {twin['macs'] / 1e6:.0f} M MACs: {twin['score']:.4f}"
                  for twin, row in pairs]
        lines += ["", "![scaling methods](figures/scaling_methods.png)", ""]
    if "family" in markdown:
        lines += [
            "## The derived family",
            "",
            wording.family_paragraph(grid, scale),
            "",
            markdown["family"],
            "![family cost growth](figures/family_growth.png)",
            "",
            "How far each member's depth, width and resolution multipliers move across the plateau the best "
            "coefficients stand for (α^φ, β^φ, γ^φ at its ends):",
            "",
            markdown["spread"],
        ]
    if validation is not None:
        lines += checks.validation_lines(validation, markdown)
    lines += [
        "## How this was made",
        "",
        f"- Hardware: {', '.join(hardware)}",
        f"- Software: {', '.join(f'{k} {v}' for k, v in sorted(environment.items())) or 'not recorded'}",
        f"- Reproduce: save the definition below as `study.toml`, then `scaling-search run study.toml` and "
        f"`scaling-search report {definition.study}`.",
        "",
        "```toml",
        definition.to_toml().rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)


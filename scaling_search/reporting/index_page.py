"""The text of a study report's index.md: the verdict, the tables and figures in order, how it was made.

Its sentences about the answer come from :mod:`scaling_search.reporting.wording`; this module
lays them out with the tables' Markdown.
"""

from __future__ import annotations

from collections.abc import Sequence

import optuna
import pandas as pd

from scaling_search.coefficients.contention import proxy_condition
from scaling_search.coefficients.family import FamilyGrowth
from scaling_search.coefficients.grid import GridSpec
from scaling_search.reporting import validation_section as checks
from scaling_search.reporting import wording
from scaling_search.reporting.recipe_section import recipe_lines, recipe_rows, study_run
from scaling_search.search.answer import StudyAnswer
from scaling_search.search.enqueue import NATIVE_RESOLUTION, TRAIN_IMAGES
from scaling_search.search.results import candidate_table, contenders, trial_rows
from scaling_search.study.definition import ResolvedDefinition
from scaling_search.study.schema import Stage
from scaling_search.validation.validation_answer import ValidationAnswer


def study_index(study: optuna.Study, definition: ResolvedDefinition, grid: GridSpec, best: StudyAnswer | None,
                markdown: dict[str, str], pairs: list[tuple[pd.Series, pd.Series]], note: str | None = None,
                validation: ValidationAnswer | None = None, growth: FamilyGrowth | None = None,
                costs: Sequence[str] = ("macs",)) -> str:
    """index.md of a study's report: ``best`` is the study's answer (best.json), ``markdown`` the tables by name.

    ``pairs`` are the single-dimension baselines beside their compound twins (twin, baseline);
    ``validation``, when the study was validated, adds the "Does the answer hold?" section;
    ``growth``, the derived family's growth per φ, is said in the family's section; ``costs`` the
    costs with an accuracy figure (``figures/accuracy_vs_<cost>.png``).
    """
    frame = trial_rows(study.get_trials(deepcopy=False))
    states = frame["state"].value_counts().to_dict()
    hardware = sorted({str(h) for h in frame.get("hardware", pd.Series(dtype=str)).dropna()}) or ["not recorded"]
    wall = frame["wall_s"].dropna().astype(float)
    environment = study.user_attrs.get("environment", {})
    scale = (f"{grid.cost_resolution} px × γ^φ rounded to a multiple of {grid.resolution_multiple}, "
             f"{grid.cost_classes} classes")
    verdict = verdict_lines(best, definition, grid, validated=validation is not None)
    native = study.user_attrs.get(NATIVE_RESOLUTION, "(not recorded)")
    lines = [
        f"# Study `{definition.study}`",
        "",
        *([f"> {note}", ""] if note else []),
        wording.base_line(grid),
        "",
        *verdict,
        f"Trials: {', '.join(f'{n} {str(s).lower()}' for s, n in sorted(states.items()))}. "
        f"Proxy training time: {wall.sum() / 60:.1f} min in all ({wall.mean():.1f} s per trial).",
        "",
        "## The α/β/γ table",
        "",
        markdown["search"],
        f"Cost (*measured_ratio*, MACs, params, activations, *cost_resolution*) is taken at the cost scale "
        f"({scale}), where the constraint ({grid.constraint} {grid.cost}{timed_on(best)}, "
        f"{grid.target_ratio:.3g}× ± {grid.tolerance:.0%}) is "
        f"evaluated; *proxy_ratio* and *resolution* are the trained proxy's ({definition.base_resolution} px base). "
        f"*nominal* is α·β²·γ². Each row stands for its *plateau*: every α × β × γ in it trains and costs the same "
        f"networks at φ = {grid.phi:g}, so the search cannot tell them apart. *n_seeds* counts completed seeds, "
        f"*n_failed* failed or stopped ones; a candidate with a failed seed ranks below every candidate without one "
        f"and cannot be the best. Only contenders can be the best: grid points whose family grows within "
        f"{grid.growth_tolerance_used:.0%} of {grid.target:g}× per φ (*growth_per_phi*, {growth_words(grid)}) "
        f"and that {proxy_words(grid, definition.base_resolution)} (*proxy_ratio*); the other rows "
        "are shown for comparison. *upsample* is the trained "
        f"resolution over the data's native {native} px. {wording.paper_note(grid)}.",
        "",
        *proxy_lines(study, grid),
        *[line for cost in costs for line in (f"![accuracy against {COST_NAMES[cost]}](figures/accuracy_vs_{cost}.png)",
                                               "")],
        "![accuracy over alpha and beta](figures/accuracy_over_alpha_beta.png)",
        "",
    ]
    if "latency_vs_macs" in markdown:
        lines += ["## Under latency and under MACs", "",
                  "The study's winner under latency beside the best network it trained that MACs admits too (on "
                  "the MACs constraint, its family doubling its MACs per φ, trained with the MACs it is charged "
                  "for; counted in closed form):", "", markdown["latency_vs_macs"],
                  markdown["latency_vs_macs_sentence"], ""]
    if "finalist" in markdown:
        lines += ["## Finalists", "", wording.finalists_paragraph(grid), "", markdown["finalist"]]
    if "refine" in markdown:
        lines += ["## Refinement", "",
                  f"The networks the winning class splits into at φ = {2 * grid.phi:g} (those that contend "
                  "there), each trained at its representative coefficients on the study's seeds; the best gives "
                  "the exported coefficients once fresh seeds confirm it.", "", markdown["refine"]]
    if "confirm" in markdown:
        lines += ["## Confirmation", "",
                  f"The refinement's best and the network the winning class's representative (the point exported "
                  f"without the refinement) trains at φ = {2 * grid.phi:g}, trained again on seeds neither stage "
                  "used: the best replaces the representative only when it beats it here by a resolved difference "
                  "on the test split.", "", markdown["confirm"]]
    if pairs:
        lines += ["## Compound against single-dimension scaling", "",
                  "Each single-dimension baseline beside the compound candidate nearest to it in cost "
                  "(MACs at the cost scale on every bar):", ""]
        lines += [wording.compound_pair_line(row["kind"], point(row), point(twin)) for twin, row in pairs]
        lines += ["", "![scaling methods](figures/scaling_methods.png)", ""]
    if "family" in markdown:
        lines += [
            "## The derived family",
            "",
            wording.family_paragraph(grid, scale),
            "",
            *([wording.family_growth_sentence(growth), ""] if growth is not None else []),
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
    run = study_run(definition, study.user_attrs.get(TRAIN_IMAGES))
    lines += recipe_lines(definition.recipe, recipe_rows(definition.training_recipe(), run, definition.base_resolution))
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



COST_NAMES = {"macs": "measured MACs", "activations": "activations", "latency": "latency"}
"""How the accuracy figures' alt texts name each cost."""


def timed_on(best: StudyAnswer | None) -> str:
    """", timed on <device>" for a study whose cost was timed, else nothing."""
    return f", timed on {best.cost_device}" if best is not None and best.cost_device else ""


def verdict_lines(best: StudyAnswer | None, definition: ResolvedDefinition, grid: GridSpec, validated: bool
                  ) -> list[str]:
    """The verdict under the title: the study's answer, its comparisons, its refinement and its conclusions."""
    if best is None:
        return [wording.NO_BEST, ""]
    refined = best.refinement
    winner, confirmed = refined.winner, refined.confirmation
    compared = confirmed.comparison if confirmed else None
    plateau = dict(best.plateau.intervals())
    decided = wording.decided_over(best.decided_by, best.n_seeds, best.finalist_seeds)
    conclusions = wording.conclusions(
        comparisons=[(c.against, c.comparison.resolved) for c in best.comparisons], plateau=plateau,
        refined_phi=refined.phi if refined.exported else None, decided_by=best.decided_by, epochs=definition.epochs,
        base_resolution=definition.base_resolution, study=definition.study_name(), validated=validated)
    return [
        wording.best_sentence(grid, alpha=best.alpha, beta=best.beta, gamma=best.gamma, plateau=plateau,
                              representative=best.representative, candidate=best.trained.candidate, score=best.score,
                              score_std=best.score_std, decided=decided, measured_ratio=best.measured_ratio),
        "",
        *[wording.comparison_line(wording.comparison_label(c.against, c.other_on_constraint, c.other_measured_ratio),
                                  c.sentence)
          for c in best.comparisons],
        wording.refinement_line(refined.phi, ran=refined.ran, trained=refined.trained,
                                winner=winner.candidate if winner else None, reason=refined.reason,
                                outcome=confirmed.outcome if confirmed else None,
                                sentence=compared.sentence() if compared else None,
                                exported=refined.exported),
        "",
        wording.conclusions_paragraph(conclusions),
        "",
    ]


def proxy_lines(study: optuna.Study, grid: GridSpec) -> list[str]:
    """What this proxy can tell: whether its contenders train at more than one resolution, and with what detail."""
    table = contenders(candidate_table(study.get_trials(deepcopy=False), Stage.SEARCH))
    if table.empty:
        return []
    resolutions = sorted({int(value) for value in table["resolution"]})
    notes = [wording.resolution_sentence(resolutions, grid.base_resolution, grid.cost),
             wording.detail_note([float(value) for value in table["upsample"] if value == value])]  # NaN-safe
    return [f"**What this proxy can tell.** {' '.join(note for note in notes if note)}", ""]


def point(row: pd.Series) -> wording.Point:
    """A row of the α/β/γ table as the compound-against-single-dimension list shows it."""
    return wording.Point(row["alpha"], row["beta"], row["gamma"], row["macs"], row["score"])


def proxy_words(grid: GridSpec, base_resolution: int) -> str:
    """The contender rule's condition at the proxy, as the report words it."""
    if grid.cost == "latency":
        return proxy_condition(grid, base_resolution)
    return f"train within {grid.tolerance:.0%} of {grid.target_ratio:.3g}× the base's compute at the proxy"


def growth_words(grid: GridSpec) -> str:
    """Where *growth_per_phi* is taken, as the report words it."""
    if grid.cost == "latency":
        return "timed at the largest member the device runs within the growth budget, at most φ = 7"
    return "its φ = 7 member's cost at the cost scale"

"""A study's report folder: its tables in the wanted formats, its figures and its index.md.

Everything is written into a staging folder beside the destination and renamed into place at
the end (:func:`scaling_search.support.publish.write_report_folder`), so a failure never leaves a
half-written report. Reports read the Optuna study and the study folder only: they train nothing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scaling_search.coefficients.growth import Growth
from scaling_search.coefficients.plateaus import open_spread, plateau_spread
from scaling_search.counting.analytic import analytic_counts
from scaling_search.models.architecture import FAMILY_PHIS
from scaling_search.reporting import figures, wording
from scaling_search.reporting import validation_section as checks
from scaling_search.reporting.cost_comparison import COLUMNS as SIDE_BY_SIDE_COLUMNS
from scaling_search.reporting.cost_comparison import side_by_side
from scaling_search.reporting.index_page import study_index
from scaling_search.reporting.study_load import ReportedStudy
from scaling_search.reporting.tables import (
    COEFFICIENT_COLUMNS,
    FAMILY_COLUMNS,
    coefficient_table,
    family_table,
    ranked_rows,
    spread_rows,
    study_family_growth,
    write_table,
)
from scaling_search.search.answer import stage_spec, study_answer, with_plateaus
from scaling_search.search.results import candidate_table, contenders
from scaling_search.search.search_plan import grid_spec
from scaling_search.study.schema import Stage
from scaling_search.support.publish import write_report_folder
from scaling_search.validation.validation_answer import ValidationAnswer

STAGE_FILES = {"finalist": "finalists", "refine": "refinement", "confirm": "confirmation"}
STAGE_CAPTIONS = {"finalist": "Finalists on fresh seeds: the runs the verdict uses",
                  "refine": "Refinement: the winning class's networks at twice phi",
                  "confirm": "Confirmation: the refinement's best and the class's representative at twice phi, on "
                             "fresh seeds"}


def study_report(reported: ReportedStudy, out: Path, wanted: tuple[str, ...], note: str | None = None,
                 validation: ValidationAnswer | None = None) -> Path:
    """The α/β/γ table (with each row's plateau), the later stages' tables, the family, figures and index.md.

    ``validation`` (:func:`scaling_search.validation.validation_result`) adds the "Does the answer hold?" section.
    """
    study, definition = reported.study, reported.definition
    trials = study.get_trials(deepcopy=False)
    grid = grid_spec(definition, reported.classes)
    best = study_answer(trials, definition, reported.classes)
    table = with_plateaus(coefficient_table(trials, paper=grid.paper_point is not None), grid)
    stages = {stage: with_plateaus(candidate_table(trials, stage),
                                   stage_spec(definition, reported.classes, stage, best))
              for stage in (Stage.FINALIST, Stage.REFINE, Stage.CONFIRM)}
    family = None if best is None else family_table(best.alpha, best.beta, best.gamma, analytic_counts, grid)
    growth = None if best is None else study_family_growth(best.alpha, best.beta, best.gamma, grid,
                                                           Growth(best.growth_per_phi, best.growth_phi, grid.cost))
    spread = None if best is None else pd.DataFrame(plateau_spread(best.as_plateau(), FAMILY_PHIS))
    opened = None if best is None or not best.open_candidates else pd.DataFrame(open_spread(best.open_boxes(),
                                                                                          FAMILY_PHIS))
    pairs = figures.cost_matched_pairs(table, contenders(table))
    beside = None if best is None or grid.cost != "latency" else side_by_side(table, grid, best.trained.candidate)

    open_names = [] if best is None else [found.candidate for found in best.open_candidates]

    def fill(folder: Path) -> None:
        shown = ranked_rows(table)[["rank", "alpha", "beta", "gamma", "plateau", "kind", "nominal_ratio",
                                    "measured_ratio", "constraint", "macs_m", "params_m", "activations_m",
                                    "cost_resolution", "proxy_ratio", "resolution", "upsample", "growth_per_phi",
                                    "contender", "val_acc", "n_seeds", "n_failed",
                                    "test_acc", *(["paper"] if grid.paper_point is not None else [])]]
        markdown = {"search": write_table(folder, "alpha_beta_gamma", shown, COEFFICIENT_COLUMNS,
                                          f"Candidates of study {definition.study}, ranked by validation accuracy",
                                          wanted)}
        for stage, frame in stages.items():
            if len(frame):
                rows = ranked_rows(frame)[["rank", "alpha", "beta", "gamma", "plateau", "kind", "measured_ratio",
                                           "constraint", "val_acc", "n_seeds", "n_failed", "test_acc"]]
                markdown[stage] = write_table(folder, STAGE_FILES[stage], rows, COEFFICIENT_COLUMNS,
                                              STAGE_CAPTIONS[stage], wanted)
        if beside is not None:
            markdown["latency_vs_macs"] = write_table(folder, "latency_vs_macs", beside.table, SIDE_BY_SIDE_COLUMNS,
                                                      "The network each cost picks, from this study's runs", wanted)
            markdown["latency_vs_macs_sentence"] = beside.sentence
        if family is not None and spread is not None and growth is not None:
            caption = f"{wording.family_caption(grid)}; {wording.family_growth_caption(growth)}"
            markdown["family"] = write_table(folder, "family", family, FAMILY_COLUMNS, caption, wanted)
            markdown["spread"] = write_table(folder, "plateau_spread", spread_rows(spread, opened), {},
                                             wording.spread_caption(open_names), wanted)
        figure_folder = folder / "figures"
        for cost in figures.measured_costs(table):
            figures.accuracy_vs_cost(table, figure_folder, cost)
        figures.accuracy_over_alpha_beta(table, figure_folder)
        if family is not None:
            figures.family_growth(family, figure_folder, grid.base.name)
        if pairs:
            figures.scaling_methods(pairs, figure_folder)
        if validation is not None:
            write_validation(folder, validation, markdown, wanted)
        (folder / "index.md").write_text(study_index(study, definition, grid, best, markdown, pairs, note,
                                                     validation, growth, figures.measured_costs(table)))

    return write_report_folder(out, fill)


def write_validation(folder: Path, validation: ValidationAnswer, markdown: dict[str, str], wanted: tuple[str, ...]
                     ) -> None:
    """The validation's tables (into ``markdown``) and figures."""
    fidelity = validation.fidelity
    if fidelity:
        markdown["fidelity"] = write_table(folder, "validation_fidelity", checks.fidelity_frame(fidelity),
                                           checks.FIDELITY_COLUMNS, "Rank fidelity: proxy against long runs", wanted)
        checks.proxy_vs_long(fidelity, validation.settings, folder / "figures")
    for check in validation.scale_up:
        name = f"scale_up_phi{check.phi:g}"
        markdown[name] = write_table(folder, name, checks.scale_up_frame(check), checks.SCALE_UP_COLUMNS,
                                     f"Scale-up check at phi {check.phi:g}", wanted)
        checks.scale_up_bars(check, folder / "figures")

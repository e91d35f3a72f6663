"""Assemble a report folder from a study (or, with ``--paper``, from the released family alone).

Everything is written into a staging folder beside the destination and renamed into place at
the end (:func:`scaling_search.support.publish.publish`), so a failure never leaves a half-written
report. Reports read the Optuna study and the study folder only: they train nothing.
"""

from __future__ import annotations

import platform
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
import pandas as pd

from scaling_search.coefficients.grid import GridSpec
from scaling_search.coefficients.plateaus import plateau_spread
from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.counter import make_counter
from scaling_search.errors import InputError
from scaling_search.models.architecture import FAMILY_PHIS
from scaling_search.reporting import figures, wording
from scaling_search.reporting import validation_section as checks
from scaling_search.reporting.tables import (
    coefficient_table,
    family_table,
    paper_table,
    to_latex,
    to_markdown,
)
from scaling_search.search.answer import answer_plateau, stage_spec, study_answer, with_plateaus
from scaling_search.search.results import candidate_table, contenders, on_constraint, trial_rows
from scaling_search.search.search_plan import grid_spec
from scaling_search.study.definition import StudyDefinition
from scaling_search.study.session import study_classes, study_definition
from scaling_search.support.publish import publish

FORMATS = ("md", "csv", "tex")

COEFFICIENT_COLUMNS = {"rank": "d", "alpha": ".3f", "beta": ".3f", "gamma": ".3f", "nominal_ratio": ".3f",
                       "measured_ratio": ".3f", "macs_m": ".1f", "params_m": ".2f", "activations_m": ".2f",
                       "cost_resolution": "d", "proxy_ratio": ".3f", "resolution": "d", "n_seeds": "d",
                       "test_acc": ".4f"}
FAMILY_COLUMNS = {"width": ".3f", "depth": ".3f", "resolution": "d", "dropout": ".1f", "blocks": "d", "params_m": ".2f",
                  "macs_b": ".3f", "macs_ratio": ".2f", "paper_params_m": "g", "paper_flops_b": "g"}
PAPER_COLUMNS = {"width": ".1f", "depth": ".1f", "resolution": "d", "dropout": ".1f", "blocks": "d", "params": ",d",
                 "paper_params_m": "g", "macs": ",d", "analytic_macs": ",d", "macs_vs_analytic_pct": "+.3f",
                 "paper_flops_b": "g"}

REPORT_TITLES = ("# Study `", "# The released EfficientNet family")
MANIFEST = ".report-files"
"""Every file a report wrote, one relative path per line: only those may be replaced by the next report."""


class ReportError(InputError):
    """The study cannot be reported (unknown, empty, nothing completed) or the output cannot be written."""


def write_report(out: Path, fill: Callable[[Path], None]) -> Path:
    """Run ``fill`` on a fresh folder, list what it wrote in its manifest, then put it in place of ``out``.

    ``out`` may be new, an empty folder or an earlier report holding only what that report wrote
    (listed in its ``.report-files`` manifest); anything else there is refused, never deleted.
    Returns ``out``, absolute.
    """
    out = out.resolve()
    check_replaceable(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ReportError(f"cannot write the report to {out}: {err.strerror or err}") from None

    def stage(staging: Path) -> None:
        folder = staging / out.name
        folder.mkdir()
        fill(folder)
        written = sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())
        (folder / MANIFEST).write_text("".join(f"{name}\n" for name in written))

    publish(out.parent, stage, staging_prefix=f".{out.name}.")
    return out


def check_replaceable(out: Path) -> None:
    """Refuse to replace ``out`` unless it is missing, an empty folder or a report this command wrote."""
    if not out.exists():
        return
    if not out.is_dir():
        raise ReportError(f"{out} is a file; the report needs a folder of its own")
    if out == Path(out.anchor) or out == Path.home().resolve() or out == Path.cwd().resolve():
        raise ReportError(f"{out} is not a report folder; name a folder of its own, e.g. reports/<study>")
    present = sorted(str(path.relative_to(out)) for path in out.rglob("*")
                     if (not path.is_dir() or path.is_symlink()) and not is_os_metadata(path.name))
    if not present:
        return
    try:
        written = set((out / MANIFEST).read_text().splitlines())
    except (OSError, UnicodeDecodeError):
        if not is_unlisted_report(out, present):
            raise ReportError(f"{out} holds other files and is not an earlier report (no {MANIFEST} manifest); "
                              "name a new or empty folder") from None
        return
    foreign = [name for name in present if name not in written and name != MANIFEST]
    if foreign:
        raise ReportError(f"{out} holds files its earlier report did not write ({foreign[0]}"
                          f"{f' and {len(foreign) - 1} more' if len(foreign) > 1 else ''}); move them, or name a "
                          "new or empty folder")


def is_os_metadata(name: str) -> bool:
    """Files a desktop adds to any folder it shows (Finder, Explorer): never the user's work."""
    return name in (".DS_Store", "Thumbs.db", "desktop.ini") or name.startswith("._")


def is_unlisted_report(out: Path, present: list[str]) -> bool:
    """A report written before reports listed their files: its index.md title and file names are a report's."""
    try:
        title = (out / "index.md").read_text().partition("\n")[0]
    except (OSError, UnicodeDecodeError):
        return False
    shapes = re.compile(r"[^/]+\.(md|csv|tex)|figures/[^/]+\.(png|svg)")
    return title.startswith(REPORT_TITLES) and all(shapes.fullmatch(name) for name in present)


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


def load_report_study(storage_url: str, name: str) -> tuple[optuna.Study, StudyDefinition]:
    from scaling_search.study.storage import find_study, open_storage

    study = find_study(open_storage(storage_url, must_exist=True), name)
    if study is None:
        raise ReportError(f"no study named {name!r} in {storage_url}")
    definition = study_definition(study)
    trials = study.get_trials(deepcopy=False)
    if not trials:
        raise ReportError(f"study {name!r} has no trials yet")
    if not any(t.state.name == "COMPLETE" for t in trials):
        raise ReportError(f"study {name!r} has no completed trial ({len(trials)} trials, none COMPLETE): "
                          "nothing to report")
    return study, definition


def study_report(study: optuna.Study, definition: StudyDefinition, out: Path, wanted: tuple[str, ...],
                 note: str | None = None, validation: dict[str, Any] | None = None) -> Path:
    """The α/β/γ table (with each row's plateau), the later stages' tables, the family, figures and index.md.

    ``validation`` (:func:`scaling_search.validation.validation_result`) adds the "Does the answer hold?" section.
    """
    trials = study.get_trials(deepcopy=False)
    classes = study_classes(study)
    grid = grid_spec(definition, classes)
    best = study_answer(trials, definition, classes)
    table = with_plateaus(coefficient_table(trials, paper=grid.paper_point is not None), grid)
    stages = {stage: with_plateaus(candidate_table(trials, stage), stage_spec(definition, classes, stage, best))
              for stage in ("finalist", "refine")}
    family = None if best is None else family_table(best["alpha"], best["beta"], best["gamma"], analytic_counts, grid)
    spread = None if best is None else pd.DataFrame(plateau_spread(answer_plateau(best), FAMILY_PHIS))
    pairs = figures.cost_matched_pairs(table, contenders(table))

    def fill(folder: Path) -> None:
        shown = ranked_rows(table)[["rank", "alpha", "beta", "gamma", "plateau", "kind", "nominal_ratio",
                                    "measured_ratio", "constraint", "macs_m", "params_m", "activations_m",
                                    "cost_resolution", "proxy_ratio", "resolution", "val_acc", "n_seeds", "n_failed",
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
        if family is not None:
            markdown["family"] = write_table(folder, "family", family, FAMILY_COLUMNS, wording.family_caption(grid),
                                             wanted)
            markdown["spread"] = write_table(folder, "plateau_spread", spread_rows(spread), {},
                                             "How far depth, width and resolution move across the plateau", wanted)
        figure_folder = folder / "figures"
        figures.accuracy_vs_macs(table, figure_folder)
        figures.accuracy_over_alpha_beta(table, figure_folder)
        if family is not None:
            figures.family_growth(family, figure_folder, grid.base.name)
        if pairs:
            figures.scaling_methods(pairs, figure_folder)
        if validation is not None:
            write_validation(folder, validation, markdown, wanted)
        (folder / "index.md").write_text(study_index(study, definition, grid, table, best, markdown, pairs, note,
                                                     validation))

    return write_report(out, fill)


def write_validation(folder: Path, validation: dict[str, Any], markdown: dict[str, str], wanted: tuple[str, ...]
                     ) -> None:
    """The validation's tables (into ``markdown``) and figures."""
    fidelity = validation["fidelity"]
    if fidelity:
        markdown["fidelity"] = write_table(folder, "validation_fidelity", checks.fidelity_frame(fidelity),
                                           checks.FIDELITY_COLUMNS, "Rank fidelity: proxy against long runs", wanted)
        checks.proxy_vs_long(fidelity, validation["settings"], folder / "figures")
    for check in validation["scale_up"]:
        name = f"scale_up_phi{check['phi']:g}"
        markdown[name] = write_table(folder, name, checks.scale_up_frame(check), checks.SCALE_UP_COLUMNS,
                                     f"Scale-up check at phi {check['phi']:g}", wanted)
        checks.scale_up_bars(check, folder / "figures")


STAGE_FILES = {"finalist": "finalists", "refine": "refinement"}
STAGE_CAPTIONS = {"finalist": "Finalists on fresh seeds: the runs the verdict uses",
                  "refine": "Refinement: the winning class's networks at twice phi"}


def ranked_rows(table: pd.DataFrame) -> pd.DataFrame:
    """A stage's ranked table as the report shows it: MACs in millions, mean ± std, each row's plateau."""
    flags = ["" if on_constraint(on) else "off-constraint" for on in table["on_constraint"]]
    accuracy = [("–" if r.n_seeds == 0 else f"{r.score:.4f} ± {r.score_std:.4f}" if r.n_seeds > 1 else
                 f"{r.score:.4f}") for r in table.itertuples()]
    boxes = [" × ".join(f"[{lo:.3f}, {hi:.3f}]" for lo, hi in (r.plateau_alpha, r.plateau_beta, r.plateau_gamma))
             for r in table.itertuples()]
    return table.assign(macs_m=table["macs"] / 1e6, params_m=table["params"] / 1e6,
                        activations_m=table["activations"] / 1e6, constraint=flags, val_acc=accuracy, plateau=boxes,
                        paper=table.get("paper", ""))


def spread_rows(spread: pd.DataFrame) -> pd.DataFrame:
    """A plateau spread (:func:`~scaling_search.coefficients.plateaus.plateau_spread`) as a table: a row per φ."""
    return pd.DataFrame({"phi": [f"{phi:g}" for phi in spread["phi"]],
                         **{name: [f"{lo:.3f}–{hi:.3f}" for lo, hi in spread[name]]
                            for name in ("depth", "width", "resolution")}})


def conclusions(best: dict[str, Any], definition: StudyDefinition, validated: bool = False) -> list[str]:
    """What the study can and cannot conclude, in plain words, from best.json's content."""
    lines = []
    for comparison in best["comparisons"]:
        against = "the runner-up" if comparison["against"] == "runner-up" else "the paper's (1.2, 1.1, 1.15)"
        if comparison["resolved"]:
            lines.append(f"It can conclude that the winner beats {against} on this proxy task at this budget.")
        else:
            lines.append(f"It cannot conclude that the winner beats {against}: the difference is not resolved at "
                         "this budget (see the interval above and what would resolve it).")
    if not best["comparisons"]:
        lines.append("It has nothing to compare the winner with: only one candidate completed.")
    box = best["plateau"]
    if best["refinement"].get("winner"):
        lines.append(f"Within the winning class it picked the best network at φ = {best['refinement']['phi']:g}; "
                     "coefficients inside the remaining plateau "
                     + ", ".join(f"{name} {lo:.3f}–{hi:.3f}" for name, (lo, hi) in box.items())
                     + " are still indistinguishable.")
    else:
        lines.append("It cannot tell apart the coefficients inside the winning plateau ("
                     + ", ".join(f"{name} {lo:.3f}–{hi:.3f}" for name, (lo, hi) in box.items())
                     + "): they train and cost the same networks; the exported point is its midpoint.")
    if best["decided_by"] == "search":
        lines.append("The verdict uses the same runs that picked the winner (no finalists), so the winner's lead is "
                     "biased upwards (the winner's curse).")
    if validated:
        lines.append(f"Its search runs are {definition.epochs}-epoch proxies at {definition.base_resolution} px; "
                     "whether the answer holds on longer training and at larger scale is in \"Does the answer "
                     "hold?\" below.")
    else:
        lines.append(f"It says nothing yet about longer training or larger scale: every run is a "
                     f"{definition.epochs}-epoch proxy at {definition.base_resolution} px (`scaling-search validate "
                     f"{definition.study}` checks both).")
    return lines


def study_index(study: optuna.Study, definition: StudyDefinition, grid: GridSpec, table: pd.DataFrame,
                best: dict[str, Any] | None, markdown: dict[str, str], pairs: list[tuple[pd.Series, pd.Series]],
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
        box = best["plateau"]
        decided = (f"{best['n_seeds']} fresh finalist seeds ({', '.join(map(str, best['finalist_seeds']))})"
                   if best["decided_by"] == "finalists" else
                   f"{best['n_seeds']} search seed{'s' if best['n_seeds'] > 1 else ''} (no finalists)")
        refined = best["refinement"]
        verdict = [
            f"Best coefficients: **α = {best['alpha']:.4g}, β = {best['beta']:.4g}, γ = {best['gamma']:.4g}**, "
            f"standing for the plateau α ∈ [{box['alpha'][0]:.4g}, {box['alpha'][1]:.4g}], "
            f"β ∈ [{box['beta'][0]:.4g}, {box['beta'][1]:.4g}], γ ∈ [{box['gamma'][0]:.4g}, {box['gamma'][1]:.4g}] "
            f"({best['representative']}). The winning network ({best['trained']['candidate']}) scored "
            f"{best['score']:.4f}" + (f" ± {best['score_std']:.4f}" if best["score_std"] is not None else "")
            + f" over {decided}, at {best['measured_ratio']:.2f}× {wording.base_cost(grid)} cost at the cost scale.",
            "",
            *[f"- Against {comparison_label(c)}: {c['sentence']}" for c in best["comparisons"]],
            f"- Refinement at φ = {refined['phi']:g}: "
            + (f"{refined['trained']} networks trained; the best, {refined['winner']['candidate']}, gives the "
               "coefficients above." if refined.get("winner") else
               f"did not decide ({refined['reason']})." if refined.get("ran") else f"not run ({refined['reason']})."),
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


def comparison_label(comparison: dict[str, Any]) -> str:
    """Who the winner is compared with, and the paper's cost when it misses the constraint."""
    if comparison["against"] == "runner-up":
        return "the runner-up"
    cost = "" if comparison["other_on_constraint"] else (
        f" (off the constraint: {comparison['other_measured_ratio']:.2f}× the base network's cost)")
    return f"the paper's (1.2, 1.1, 1.15){cost}"


def paper_report(out: Path, wanted: tuple[str, ...]) -> Path:
    """Released B0–B7 measured here (fvcore) against the closed form and the paper's Table 2."""
    table = paper_table(make_counter("fvcore"), analytic_counts)
    family = table.assign(source="released", macs_ratio=table["macs"] / table["macs"].iloc[0])

    def fill(folder: Path) -> None:
        markdown = write_table(folder, "released_family", table, PAPER_COLUMNS,
                               "Released EfficientNet B0–B7 measured here against the paper's Table 2", wanted)
        figures.family_growth(family, folder / "figures")
        (folder / "index.md").write_text("\n".join([
            "# The released EfficientNet family, measured",
            "",
            "Parameters and multiply-adds (conv and linear layers, SE included; BatchNorm, activations and pooling "
            "not counted) of the released B0–B7 at 1000 classes, measured with fvcore on a real forward pass and "
            "checked against the closed-form count. The paper's Table 2 gives params in millions and FLOPs in "
            "billions to two significant digits; where the measurement differs by more than that rounding, the "
            "difference is shown.",
            "",
            markdown,
            "![cost growth of the released family](figures/family_growth.png)",
            "",
            f"Regenerate with `scaling-search report --paper` (Python {platform.python_version()}, "
            f"{sys.platform}).",
            "",
        ]))

    return write_report(out, fill)

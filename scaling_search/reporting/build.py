"""Assemble a report folder from a study (or, with ``--paper``, from the released family alone).

Everything is written into a staging folder beside the destination and renamed into place at
the end (:func:`scaling_search.publish.publish`), so a failure never leaves a half-written
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

from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.counter import make_counter
from scaling_search.errors import InputError
from scaling_search.grid import GridSpec
from scaling_search.publish import publish
from scaling_search.reporting import figures
from scaling_search.reporting.stats import separation
from scaling_search.reporting.tables import (
    PAPER_NOTE,
    coefficient_table,
    family_table,
    paper_table,
    to_latex,
    to_markdown,
)
from scaling_search.search.definition import StudyDefinition
from scaling_search.search.plan import grid_spec
from scaling_search.search.results import contenders, on_constraint, trial_rows

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
    from scaling_search.search.storage import find_study, open_storage, saved_definition

    study = find_study(open_storage(storage_url, must_exist=True), name)
    if study is None:
        raise ReportError(f"no study named {name!r} in {storage_url}")
    definition = saved_definition(study)
    if definition is None:
        raise ReportError(f"study {name!r} was not made by scaling-search run (no saved definition)")
    trials = study.get_trials(deepcopy=False)
    if not trials:
        raise ReportError(f"study {name!r} has no trials yet")
    if not any(t.state.name == "COMPLETE" for t in trials):
        raise ReportError(f"study {name!r} has no completed trial ({len(trials)} trials, none COMPLETE): "
                          "nothing to report")
    return study, definition


def study_report(study: optuna.Study, definition: StudyDefinition, out: Path, wanted: tuple[str, ...],
                 note: str | None = None) -> Path:
    """The α/β/γ table, the family table, figures and index.md of a study."""
    trials = study.get_trials(deepcopy=False)
    table = coefficient_table(trials)
    eligible = contenders(table)
    grid = grid_spec(definition, int(study.user_attrs.get("num_classes", definition.cost_classes)))
    best = eligible.iloc[0] if not eligible.empty else None
    family = None if best is None else family_table(float(best["alpha"]), float(best["beta"]), float(best["gamma"]),
                                                    analytic_counts, grid)
    seeds = seeds_by_candidate(trials)
    statements = [] if best is None else [
        separation(seeds[best["candidate"]], seeds[other["candidate"]], best["candidate"], label).sentence
        for other, label in comparisons(table, eligible)]
    pairs = figures.cost_matched_pairs(table, eligible)

    def fill(folder: Path) -> None:
        flags = ["" if on_constraint(on) else "off-constraint" for on in table["on_constraint"]]
        shown = table.assign(macs_m=table["macs"] / 1e6, params_m=table["params"] / 1e6,
                             activations_m=table["activations"] / 1e6, constraint=flags,
                             val_acc=[f"{r.score:.4f} ± {r.score_std:.4f}" if r.n_seeds > 1 else f"{r.score:.4f}"
                                      for r in table.itertuples()])
        shown = shown[["rank", "alpha", "beta", "gamma", "kind", "nominal_ratio", "measured_ratio", "constraint",
                       "macs_m", "params_m", "activations_m", "cost_resolution", "proxy_ratio", "resolution",
                       "val_acc", "n_seeds", "test_acc", "paper"]]
        coefficient_md = write_table(folder, "alpha_beta_gamma", shown, COEFFICIENT_COLUMNS,
                                     f"Candidates of study {definition.study}, ranked by validation accuracy", wanted)
        family_md = None if family is None else write_table(
            folder, "family", family, FAMILY_COLUMNS,
            "Derived phi0–phi7 of the best coefficients at the cost scale beside the released family and the paper",
            wanted)
        figure_folder = folder / "figures"
        drawn = [figures.accuracy_vs_macs(table, figure_folder),
                 figures.accuracy_over_alpha_beta(table, figure_folder)]
        if family is not None:
            drawn.append(figures.family_growth(family, figure_folder))
        if pairs:
            drawn.append(figures.scaling_methods(pairs, figure_folder))
        (folder / "index.md").write_text(study_index(study, definition, grid, table, best, statements,
                                                     coefficient_md, family_md, pairs, note))

    return write_report(out, fill)


def seeds_by_candidate(trials: list) -> dict[str, list[float]]:
    frame = trial_rows(trials)
    complete = frame[frame["state"] == "COMPLETE"]
    return {name: list(group["val_acc"]) for name, group in complete.groupby("candidate")}


def comparisons(table: pd.DataFrame, eligible: pd.DataFrame) -> list[tuple[Any, str]]:
    """The winner against the runner-up among the contenders, and against the paper's point (unless it won).

    The paper's point is compared even when its cost misses the constraint; the label then says so.
    """
    pairs = []
    if len(eligible) > 1:
        pairs.append((eligible.iloc[1], f"the runner-up {eligible.iloc[1]['candidate']}"))
    reference = table[table["kind"] == "reference"]
    if not reference.empty:
        paper = reference.iloc[0]
        cost = "" if on_constraint(paper["on_constraint"]) else (
            f" (off the constraint: {paper['measured_ratio']:.2f}× the base network's cost)")
        pairs.append((paper, f"the paper's (1.2, 1.1, 1.15){cost}"))
    return pairs


def study_index(study: optuna.Study, definition: StudyDefinition, grid: GridSpec, table: pd.DataFrame,
                best: pd.Series | None, statements: list[str], coefficient_md: str, family_md: str | None,
                pairs: list[tuple[pd.Series, pd.Series]], note: str | None = None) -> str:
    frame = trial_rows(study.get_trials(deepcopy=False))
    states = frame["state"].value_counts().to_dict()
    hardware = sorted({str(h) for h in frame.get("hardware", pd.Series(dtype=str)).dropna()}) or ["not recorded"]
    wall = frame["wall_s"].dropna().astype(float)
    environment = study.user_attrs.get("environment", {})
    scale = (f"{grid.cost_resolution} px × γ^φ rounded to a multiple of {grid.resolution_multiple}, "
             f"{grid.cost_classes} classes")
    if best is None:
        verdict = ["No compound candidate on the cost constraint completed, so the study has no best "
                   "coefficients; the table shows what did complete.", ""]
    else:
        verdict = [
            f"Best coefficients: **α = {best['alpha']:.4g}, β = {best['beta']:.4g}, γ = {best['gamma']:.4g}** "
            f"(the best compound candidate on the constraint), validation accuracy {best['score']:.4f}"
            + (f" ± {best['score_std']:.4f} over {int(best['n_seeds'])} seeds" if best["n_seeds"] > 1 else
               " (one seed)") + f", cost {best['measured_ratio']:.2f}× the base network at the cost scale.",
            "",
            *[f"- {sentence}" for sentence in statements],
            "" if statements else "- Only one candidate completed: there is nothing to compare it with.",
        ]
    lines = [
        f"# Study `{definition.study}`",
        "",
        *([f"> {note}", ""] if note else []),
        *verdict,
        "",
        f"Trials: {', '.join(f'{n} {s.lower()}' for s, n in sorted(states.items()))}. "
        f"Proxy training time: {wall.sum() / 60:.1f} min in all ({wall.mean():.1f} s per trial).",
        "",
        "## The α/β/γ table",
        "",
        coefficient_md,
        f"Cost (*measured_ratio*, MACs, params, activations, *cost_resolution*) is taken at the cost scale "
        f"({scale}), where the constraint ({grid.constraint}, {grid.target_ratio:.3g}× ± {grid.tolerance:.0%}) is "
        f"evaluated; *proxy_ratio* and *resolution* are the trained proxy's ({definition.base_resolution} px base). "
        f"*nominal* is α·β²·γ². Only compound candidates on the constraint can be the best; rows marked "
        f"off-constraint are shown for comparison. {PAPER_NOTE}.",
        "",
        "![accuracy against measured MACs](figures/accuracy_vs_macs.png)",
        "",
        "![accuracy over alpha and beta](figures/accuracy_over_alpha_beta.png)",
        "",
    ]
    if pairs:
        lines += ["## Compound against single-dimension scaling", "",
                  "Each single-dimension baseline beside the compound candidate nearest to it in cost "
                  "(MACs at the cost scale on every bar):", ""]
        lines += [f"- {row['kind']} ({row['alpha']:.3g}, {row['beta']:.3g}, {row['gamma']:.3g}), "
                  f"{row['macs'] / 1e6:.0f} M MACs: {row['score']:.4f}; compound ({twin['alpha']:.3g}, "
                  f"{twin['beta']:.3g}, {twin['gamma']:.3g}), {twin['macs'] / 1e6:.0f} M MACs: {twin['score']:.4f}"
                  for twin, row in pairs]
        lines += ["", "![scaling methods](figures/scaling_methods.png)", ""]
    if family_md is not None:
        lines += [
            "## The derived family",
            "",
            f"Derived at the cost scale ({scale}) from the best coefficients, beside the released B0–B7 measured "
            "here and the paper's Table 2 (params in millions, FLOPs in billions of multiply-adds). A derived "
            "member's dropout is the released member's nearest in cost. Differences from the paper beyond its "
            "rounding are shown, not hidden.",
            "",
            family_md,
            "![family cost growth](figures/family_growth.png)",
            "",
        ]
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

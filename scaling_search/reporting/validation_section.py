"""The report's "Does the answer hold?" section: a study's validation as tables, two figures and a paragraph.

Read from the validation study ``<study>.validate``
(:func:`scaling_search.validation.validation_driver.validation_result`), so a report regenerates the
section from the stored trials; a study never validated has no section.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import optuna
import pandas as pd

from scaling_search.reporting.figures import KIND_STYLE, new_figure, save
from scaling_search.reporting.wording import difference_text, scale_up_caption
from scaling_search.search.results import Interval
from scaling_search.stats.fidelity import RankFidelity
from scaling_search.study.definition import ResolvedDefinition
from scaling_search.study.storage import find_study, open_storage
from scaling_search.validation.options import validation_study_name
from scaling_search.validation.validation_answer import (
    FidelityAnswer,
    ScaleUpCheck,
    ValidationAnswer,
    ValidationSettings,
)
from scaling_search.validation.validation_driver import validation_result

FIDELITY_COLUMNS = {"proxy_score": ".4f", "proxy_seeds": "d", "proxy_rank": "d", "long_score": ".4f",
                    "long_n_seeds": "d", "long_n_failed": "d", "long_rank": "d", "measured_ratio": ".2f"}
SCALE_UP_COLUMNS = {"alpha": ".4g", "beta": ".4g", "gamma": ".4g", "gmacs": ".3f", "cost_ratio": ".3f",
                    "proxy_ratio": ".3f", "resolution": "d", "score": ".4f", "n_seeds": "d", "n_failed": "d"}
MEMBER_COLORS = {"study": "tab:blue", "paper": "tab:red", "depth-only": KIND_STYLE["depth-only"]["color"],
                 "width-only": KIND_STYLE["width-only"]["color"],
                 "resolution-only": KIND_STYLE["resolution-only"]["color"]}


def load_validation(storage_url: str, study: optuna.Study, definition: ResolvedDefinition) -> ValidationAnswer | None:
    """The study's validation (what validation.json holds), or None when it was never validated."""
    validation = find_study(open_storage(storage_url, must_exist=True), validation_study_name(study.study_name))
    return None if validation is None else validation_result(study, validation, definition)


def interval_text(value: float | None, interval: Sequence[float] | None, digits: int = 4) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" + (f" [{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]" if interval else "")


def fidelity_frame(fidelity: FidelityAnswer) -> pd.DataFrame:
    """One row per retrained candidate: whether it contends, proxy and long scores and ranks."""
    rows = pd.DataFrame([row.to_json() for row in fidelity.candidates])
    rows["long_acc_ci95"] = [interval_text(None, None) if score is None else interval_text(score, ci)
                             for score, ci in zip(rows["long_score"], rows["long_ci95"], strict=True)]
    rows["kind"] = rows["kind"].replace({"reference": "paper"})
    rows["contender"] = ["yes" if contends else "no" for contends in rows["contender"]]
    return rows[["candidate", "kind", "contender", "alpha", "beta", "gamma", "measured_ratio", "proxy_score",
                 "proxy_seeds", "proxy_rank", "long_acc_ci95", "long_n_seeds", "long_n_failed", "long_rank"]]


def scale_up_frame(check: ScaleUpCheck) -> pd.DataFrame:
    """One row per member at one φ: cost where priced and trained, accuracy with its interval, the study's lead.

    The study member's difference is shown only against a member it was compared with (a
    comparable one); any other is flagged *not judged*.
    """
    against = {comparison.against: comparison.comparison for comparison in check.comparisons}
    rows = pd.DataFrame([member.to_json() for member in check.members])
    rows["gmacs"] = rows["macs"] / 1e9
    rows["flag"] = ["" if comparable else "not judged" for comparable in rows["comparable"]]
    rows["acc_ci95"] = [interval_text(score, ci) for score, ci in zip(rows["score"], rows["ci95"], strict=True)]
    rows["study_minus_member"] = ["" if (found := against.get(kind)) is None else
                                  difference_text(found.difference, found.ci95, found.resolved)
                                  for kind in rows["kind"]]
    return rows[["kind", "alpha", "beta", "gamma", "gmacs", "cost_ratio", "proxy_ratio", "flag", "resolution",
                 "acc_ci95", "n_seeds", "n_failed", "study_minus_member"]]


def correlation_title(found: RankFidelity | None) -> str:
    if found is None:
        return "Proxy against long runs (too few candidates for a correlation)"

    def value(number: float, interval: Interval | None, symbol: str) -> str:
        if math.isnan(number):
            return f"{symbol} undefined"
        return f"{symbol} = {number:.2f}" + (f" [{interval[0]:.2f}, {interval[1]:.2f}]" if interval else "")

    p = "" if found.permutation_p is None else f", p = {found.permutation_p:.2g}"
    return (f"Proxy against long runs: {value(found.spearman, found.spearman_ci95, 'ρ')}, "
            f"{value(found.kendall, found.kendall_ci95, 'τ')}{p}")


def proxy_vs_long(fidelity: FidelityAnswer, settings: ValidationSettings, folder: Path) -> list[str]:
    """Each candidate's long-run accuracy (with its interval) against its proxy accuracy; the paper's point a star."""
    figure, axes = new_figure()
    for row in fidelity.candidates:
        score, proxy = row.long.score, row.proxy_score
        if score is None or proxy is None:
            continue
        paper = row.kind == "reference"
        low, high = row.long.ci95 or (score, score)
        axes.errorbar(proxy * 100, score * 100, yerr=[[(score - low) * 100], [(high - score) * 100]], capsize=3,
                      linestyle="none", marker="*" if paper else "o", markersize=14 if paper else 6,
                      color="tab:red" if paper else "tab:blue")
        axes.annotate("paper" if paper else f"({row.alpha:.3g}, {row.beta:.3g}, {row.gamma:.3g})",
                      (proxy * 100, score * 100), fontsize=7, xytext=(4, 4), textcoords="offset points")
    axes.set_xlabel(f"proxy accuracy (%, the study's {settings.study_epochs}-epoch runs)")
    axes.set_ylabel(f"long-run accuracy (%, {fidelity.epochs}-epoch runs; 95 % interval)")
    axes.set_title(correlation_title(fidelity.rank_fidelity), fontsize=9)
    axes.grid(alpha=0.3)
    return save(figure, folder, "proxy_vs_long")


def scale_up_bars(check: ScaleUpCheck, folder: Path) -> list[str]:
    """Each member's accuracy with its 95 % interval, its MACs on the bar; a member not judged hatched and labelled."""
    rows = [(member, member.accuracy.score) for member in check.members if member.accuracy.score is not None]
    figure, axes = new_figure(4.6, width=1.5 * max(len(rows), 1) + 1.5)
    for position, (member, score) in enumerate(rows):
        low, high = member.accuracy.ci95 or (score, score)
        axes.bar(position, score * 100, yerr=[[(score - low) * 100], [(high - score) * 100]], capsize=4,
                 color=MEMBER_COLORS.get(member.kind, "tab:gray"), hatch="" if member.comparable else "//")
    labels = [f"{member.kind}\n{member.macs / 1e6:.0f} M MACs" + ("" if member.comparable else
                                                                  f"\nnot judged ({member.cost_ratio:.2f}× cost,"
                                                                  f"\n{member.proxy_ratio:.2f}× trained)")
              for member, _ in rows]
    axes.set_xticks(range(len(rows)), labels, fontsize=7)
    axes.set_ylabel("validation accuracy (%; 95 % interval)")
    axes.set_title(f"Scaled up to φ = {check.phi:g}: judged only when matched in compute at the cost scale and where "
                   "trained (hatched: not judged)", fontsize=9)
    axes.grid(alpha=0.3, axis="y")
    return save(figure, folder, f"scale_up_phi{check.phi:g}")


def validation_lines(validation: ValidationAnswer, markdown: dict[str, str]) -> list[str]:
    """The section's markdown, given the tables already written (``markdown`` by table name)."""
    settings, options = validation.settings, validation.settings.options
    lines = ["## Does the answer hold?", "",
             f"Validation runs on fresh seeds ({options.seeds} per network) in the linked study "
             f"`{validation.validation_study}`: long runs of {settings.long_epochs} epochs "
             f"({options.epochs_factor:g}× the study's {settings.study_epochs}) from "
             f"{options.long_resolution} px, and scale-up members trained for {settings.scale_up_epochs} "
             f"epoch{'s' if settings.scale_up_epochs != 1 else ''}.", "",
             validation.paragraph or "No validation run has completed yet.", ""]
    if "fidelity" in markdown:
        lines += ["### Rank fidelity", "", markdown["fidelity"],
                  "![proxy against long runs](figures/proxy_vs_long.png)", ""]
    for check in validation.scale_up:
        name = f"scale_up_phi{check.phi:g}"
        lines += [f"### Scaled up to φ = {check.phi:g}", "", scale_up_caption(), "", markdown[name]]
        not_judged = [f"- {member.not_judged}." for member in check.members[1:] if member.not_judged]
        lines += [*not_judged, ""] if not_judged else []
        lines += [f"![scale-up at phi {check.phi:g}](figures/{name}.png)", ""]
    return lines

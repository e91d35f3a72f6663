"""The report's sentences: what the study concludes, and what depends on the base network.

The paper's (1.2, 1.1, 1.15) and the released B0–B7 exist for EfficientNet-B0 only, so a study of
another base shows neither and says so once where each would have been.
"""

from __future__ import annotations

from scaling_search.coefficients.grid import GridSpec
from scaling_search.models.bases import has_released_family, released_note
from scaling_search.reporting.tables import PAPER_NOTE
from scaling_search.search.answer import ComparisonRecord, StudyAnswer
from scaling_search.study.definition import StudyDefinition


def base_line(grid: GridSpec) -> str:
    """The report's first line under its title: which network the study scaled."""
    rules = grid.base.rules
    return (f"Base network: **{grid.base.name}** ({len(grid.base.stages)} stages of "
            f"{', '.join(dict.fromkeys(stage.block for stage in grid.base.stages))} blocks; channels round to "
            f"multiples of {rules.channel_divisor}, depths by {rules.depth_rounding}).")


def base_cost(grid: GridSpec) -> str:
    """What a cost ratio is taken against, named: ``the base network's (resnet50's)``."""
    return f"the base network's ({grid.base.name}'s)"


def paper_note(grid: GridSpec) -> str:
    """Under the α/β/γ table: where the paper's point comes from (B0), or that this base has none."""
    return PAPER_NOTE if has_released_family(grid.base) else released_note(grid.base).removesuffix(".")


def finalists_paragraph(grid: GridSpec) -> str:
    point = " and the paper's point" if has_released_family(grid.base) else ""
    return (f"The top compound candidates of the search{point}, trained again on seeds the search never used; the "
            "verdict uses these runs only, so the winner is not judged on the runs that picked it.")


def family_caption(grid: GridSpec) -> str:
    if has_released_family(grid.base):
        return "Derived phi0–phi7 of the best coefficients at the cost scale beside the released family and the paper"
    return f"Derived phi0–phi7 of {grid.base.name} from the best coefficients at the cost scale"


def family_paragraph(grid: GridSpec, scale: str) -> str:
    if has_released_family(grid.base):
        return (f"Derived at the cost scale ({scale}) from the best coefficients, beside the released B0–B7 measured "
                "here and the paper's Table 2 (params in millions, FLOPs in billions of multiply-adds). A derived "
                "member's dropout is the released member's nearest in cost. Differences from the paper beyond its "
                "rounding are shown, not hidden.")
    return (f"Derived from {grid.base.name} at the cost scale ({scale}) from the best coefficients (params in "
            f"millions, MACs in billions of multiply-adds; *macs_ratio* over the unscaled {grid.base.name}). "
            f"{released_note(grid.base)} A derived member's dropout is the released B0 member's nearest in cost, "
            "each over its own base.")


def conclusions(best: StudyAnswer, definition: StudyDefinition, validated: bool = False) -> list[str]:
    """What the study can and cannot conclude, in plain words, from its answer (best.json)."""
    lines = []
    for record in best.comparisons:
        against = "the runner-up" if record.against == "runner-up" else "the paper's (1.2, 1.1, 1.15)"
        if record.comparison.resolved:
            lines.append(f"It can conclude that the winner beats {against} on this proxy task at this budget.")
        else:
            lines.append(f"It cannot conclude that the winner beats {against}: the difference is not resolved at "
                         "this budget (see the interval above and what would resolve it).")
    if not best.comparisons:
        lines.append("It has nothing to compare the winner with: only one candidate completed.")
    box = ", ".join(f"{name} {lo:.3f}–{hi:.3f}" for name, (lo, hi) in best.plateau.intervals())
    if best.refinement.winner is not None:
        lines.append(f"Within the winning class it picked the best network at φ = {best.refinement.phi:g}; "
                     f"coefficients inside the remaining plateau {box} are still indistinguishable.")
    else:
        lines.append(f"It cannot tell apart the coefficients inside the winning plateau ({box}): they train and cost "
                     "the same networks; the exported point is its midpoint.")
    if best.decided_by == "search":
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



def comparison_label(record: ComparisonRecord) -> str:
    """Who the winner is compared with, and the paper's cost when it misses the constraint."""
    if record.against == "runner-up":
        return "the runner-up"
    cost = "" if record.other_on_constraint else (
        f" (off the constraint: {record.other_measured_ratio:.2f}× the base network's cost)")
    return f"the paper's (1.2, 1.1, 1.15){cost}"

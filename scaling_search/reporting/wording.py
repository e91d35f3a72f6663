"""The report's sentences: the verdict, what the study can and cannot conclude, and what depends on the base network.

Each function takes the values it puts into words (from best.json's or validation.json's content,
or the grid), not the answer itself: the page that lays them out reads the answer.

The paper's (1.2, 1.1, 1.15) and the released B0–B7 exist for EfficientNet-B0 only, so a study of
another base shows neither and says so once where each would have been.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from scaling_search.coefficients.family import FamilyGrowth
from scaling_search.coefficients.grid import GridSpec
from scaling_search.coefficients.growth import GROWTH_PHI
from scaling_search.data.detail import upsampled
from scaling_search.models.bases import has_released_family, released_note
from scaling_search.reporting.tables import PAPER_NOTE, Interval


class Point(NamedTuple):
    """A trained candidate as the compound-against-single-dimension list shows it."""

    alpha: float
    beta: float
    gamma: float
    macs: float
    score: float


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


def family_growth_caption(growth: FamilyGrowth) -> str:
    """The family table's caption's second half (family.md, family.tex): its growth per phi, and whether on target."""
    found = growth.growth
    text = (f"growth per phi {found.per_phi:.3f} (phi = {found.phi} member), target {growth.target:g} ± "
            f"{growth.tolerance:.0%}")
    return text + (": on growth" if growth.on_growth else f": OFF growth, the family does not {grows(growth)} per phi")


def family_growth_sentence(growth: FamilyGrowth) -> str:
    """Under the family's heading: how fast the family grows per φ beside the target, and a flag when it is off it."""
    found = growth.growth
    band = f"{growth.tolerance:.0%} of the target, {growth.target:g}× per φ"
    if growth.on_growth:
        text = (f"Growth per φ: {found.per_phi:.3f} (the φ = {found.phi} member costs {growth.member_ratio:.1f}× the "
                f"base network's), within {band}: the family grows as the constraint promises.")
    else:
        text = (f"**Off growth**: the family grows by {found.per_phi:.3f} per φ, not within {band}: it does not "
                f"{grows(growth)} per φ, and its φ = {found.phi} member costs {growth.member_ratio:.1f}× the base "
                f"network's, not {growth.target:g}^{found.phi} = {growth.target**found.phi:.4g}×. Its larger members "
                "are not the networks the cost constraint at one φ promises.")
    if found.reduced and found.cost == "latency":
        text += (f" Latency growth is timed at φ = {found.phi}, the largest member the device runs within the growth "
                 "budget (docs/costs.md), not at φ = 7.")
    elif found.reduced:
        text += (f" The φ = {GROWTH_PHI} member cannot be built (a multiplier or resolution past the limit), so the "
                 f"growth is measured at φ = {found.phi}.")
    return text


def grows(growth: FamilyGrowth) -> str:
    """What growing as targeted is called: ``double`` for 2×, else ``grow 1.5×``."""
    return "double" if growth.target == 2 else f"grow {growth.target:g}×"


def family_paragraph(grid: GridSpec, scale: str) -> str:
    if has_released_family(grid.base):
        return (f"Derived at the cost scale ({scale}) from the best coefficients, beside the released B0–B7 measured "
                "here and the paper's Table 2 (params in millions, FLOPs in billions of multiply-adds). A derived "
                "member's dropout is the released member's nearest in cost; *cost_per_phi* is a member's cost per "
                "unit of φ, macs_ratio^(1/φ). Differences from the paper beyond its rounding are shown, not hidden.")
    return (f"Derived from {grid.base.name} at the cost scale ({scale}) from the best coefficients (params in "
            f"millions, MACs in billions of multiply-adds; *macs_ratio* over the unscaled {grid.base.name}). "
            f"{released_note(grid.base)} A derived member's dropout is the released B0 member's nearest in cost, "
            "each over its own base; *cost_per_phi* is a member's cost per unit of φ, macs_ratio^(1/φ).")



NO_BEST = ("No compound candidate on the cost constraint completed on every seed, so the study has no best "
           "coefficients; the table shows what did complete.")


def best_sentence(grid: GridSpec, *, alpha: float, beta: float, gamma: float, plateau: Mapping[str, Interval],
                  representative: str, candidate: str, score: float, score_std: float | None, decided: str,
                  measured_ratio: float | None) -> str:
    """The report's first verdict sentence: the coefficients, the plateau they stand for, and how the winner scored.

    ``decided`` says over which runs (:func:`decided_over`); ``candidate`` is the network the winner trained.
    """
    return (f"Best coefficients: **α = {alpha:.4g}, β = {beta:.4g}, γ = {gamma:.4g}**, "
            f"standing for the plateau α ∈ [{plateau['alpha'][0]:.4g}, {plateau['alpha'][1]:.4g}], "
            f"β ∈ [{plateau['beta'][0]:.4g}, {plateau['beta'][1]:.4g}], "
            f"γ ∈ [{plateau['gamma'][0]:.4g}, {plateau['gamma'][1]:.4g}] "
            f"({representative}). The winning network ({candidate}) scored "
            f"{score:.4f}" + (f" ± {score_std:.4f}" if score_std is not None else "")
            + f" over {decided}" + (f", at {measured_ratio:.2f}× {base_cost(grid)} cost at the cost scale"
                                    if measured_ratio is not None else "") + ".")


def decided_over(decided_by: str, n_seeds: int, finalist_seeds: Sequence[int]) -> str:
    """The runs that decided: ``3 fresh finalist seeds (1000, 1001, 1002)`` or ``2 search seeds (no finalists)``."""
    if decided_by == "finalists":
        return f"{n_seeds} fresh finalist seeds ({', '.join(map(str, finalist_seeds))})"
    return f"{n_seeds} search seed{'s' if n_seeds > 1 else ''} (no finalists)"


def comparison_line(label: str, sentence: str) -> str:
    """One comparison of the winner, as a list item: who it is compared with (:func:`comparison_label`), and how."""
    return f"- Against {label}: {sentence}"


def comparison_label(against: str, other_on_constraint: bool, other_measured_ratio: float | None) -> str:
    """Who the winner is compared with, and the paper's cost when it misses the constraint."""
    if against == "runner-up":
        return "the runner-up"
    cost = "" if other_on_constraint else (
        f" (off the constraint: {other_measured_ratio:.2f}× the base network's cost)")
    return f"the paper's (1.2, 1.1, 1.15){cost}"


def refinement_line(phi: float, *, ran: bool, trained: int, winner: str | None, reason: str | None,
                    outcome: str | None = None, sentence: str | None = None, exported: bool = False) -> str:
    """What the refinement at ``phi`` came to, or why it did not decide.

    With a ``winner`` among ``trained`` networks: whether fresh seeds confirmed it against the
    class's representative (``outcome``, best.json's ``refinement.confirmation``; ``sentence``, its
    comparison's), and, when ``exported``, that it gives the coefficients above.
    """
    if not winner:
        return f"- Refinement at φ = {phi:g}: " + (f"did not decide ({reason})." if ran else f"not run ({reason}).")
    text = f"- Refinement at φ = {phi:g}: {trained} networks trained; the best is {winner}, {outcome}."
    if sentence:
        text += f" {sentence}"
    return text + (" It gives the coefficients above." if exported else "")


def conclusions(*, comparisons: Sequence[tuple[str, bool]], plateau: Mapping[str, Interval], refined_phi: float | None,
                decided_by: str, epochs: int, base_resolution: int, study: str, validated: bool = False) -> list[str]:
    """What the study can and cannot conclude, in plain words.

    ``comparisons`` are (against, resolved) for each comparison of the winner; ``refined_phi`` is
    the φ of the refinement that picked the winner, None when none did; ``epochs``,
    ``base_resolution`` and ``study`` are the definition's.
    """
    lines = []
    for against_name, resolved in comparisons:
        against = "the runner-up" if against_name == "runner-up" else "the paper's (1.2, 1.1, 1.15)"
        if resolved:
            lines.append(f"It can conclude that the winner beats {against} on this proxy task at this budget.")
        else:
            lines.append(f"It cannot conclude that the winner beats {against}: the difference is not resolved at "
                         "this budget (see the interval above and what would resolve it).")
    if not comparisons:
        lines.append("It has nothing to compare the winner with: only one candidate completed.")
    box = ", ".join(f"{name} {lo:.3f}–{hi:.3f}" for name, (lo, hi) in plateau.items())
    if refined_phi is not None:
        lines.append(f"Within the winning class it picked the best network at φ = {refined_phi:g}; "
                     f"coefficients inside the remaining plateau {box} are still indistinguishable.")
    else:
        lines.append(f"It cannot tell apart the coefficients inside the winning plateau ({box}): they train and cost "
                     "the same networks; the exported point is its representative (the rule above).")
    if decided_by == "search":
        lines.append("The verdict uses the same runs that picked the winner (no finalists), so the winner's lead is "
                     "biased upwards (the winner's curse).")
    if validated:
        lines.append(f"Its search runs are {epochs}-epoch proxies at {base_resolution} px; "
                     "whether the answer holds on longer training and at larger scale is in \"Does the answer "
                     "hold?\" below.")
    else:
        lines.append(f"It says nothing yet about longer training or larger scale: every run is a "
                     f"{epochs}-epoch proxy at {base_resolution} px (`scaling-search validate "
                     f"{study}` checks both).")
    return lines


def conclusions_paragraph(lines: Sequence[str]) -> str:
    """The :func:`conclusions` as the report's paragraph under its bold lead-in."""
    return "**What this study can and cannot conclude.** " + " ".join(lines)


def compound_pair_line(kind: str, single: Point, compound: Point) -> str:
    """A single-dimension baseline beside the compound candidate nearest it in cost, each as (α, β, γ, MACs, score)."""
    return (f"- {kind} ({single.alpha:.3g}, {single.beta:.3g}, {single.gamma:.3g}), "
            f"{single.macs / 1e6:.0f} M MACs: {single.score:.4f}; compound ({compound.alpha:.3g}, "
            f"{compound.beta:.3g}, {compound.gamma:.3g}), {compound.macs / 1e6:.0f} M MACs: {compound.score:.4f}")


def difference_text(difference: float, ci95: Sequence[float] | None, resolved: bool) -> str:
    """A scale-up comparison's cell: the study member's lead in points, its 95 % interval, whether it is resolved."""
    text = f"{difference * 100:+.2f} pts"
    if ci95:
        text += f" [{ci95[0] * 100:+.2f}, {ci95[1] * 100:+.2f}]"
    return text + (", resolved" if resolved else ", not resolved")


def detail_note(upsamples: Sequence[float]) -> str | None:
    """What the contenders' ``upsample`` (trained resolution over the data's native one) says, or None when nothing
    was upsampled.

    Interpolated pixels add compute and no detail, so when contenders differ in upsampling, the
    study cannot tell whether a larger γ would have helped on data with that detail.

    Example:
        >>> print(detail_note([1.0, 1.25, 1.5])[:71])
        2 of 3 contenders train above the data's native resolution (up to 1.5x)
        >>> detail_note([0.5, 1.0]) is None
        True
    """
    above = [factor for factor in upsamples if upsampled(factor)]
    if not above:
        return None
    if len(above) == len(upsamples) and len(set(upsamples)) == 1:
        return (f"every contender trains at {above[0]:.2g}x the data's native resolution: its pixels are interpolated "
                "and add compute, not information.")
    return (f"{len(above)} of {len(upsamples)} contenders train above the data's native resolution (up to "
            f"{max(above):.2g}x): resolution added pixels, not information, so this data cannot show what a larger "
            "gamma is worth.")


def resolution_sentence(resolutions: Sequence[int], base_resolution: int, cost: str = "macs") -> str:
    """Whether the trained contenders' resolutions let the study compare values of γ.

    Example:
        >>> resolution_sentence([32], 32)[:59]
        'Every contender trained at 32 px: at this proxy no larger γ'
    """
    if len(resolutions) > 1:
        each = ("each with the compute its network costs at the cost scale (not equal compute: a latency budget "
                "admits different MACs)" if cost == "latency" else "each with the target compute")
        return (f"The contenders trained at {len(resolutions)} resolutions ({', '.join(map(str, resolutions))} px), "
                f"{each}, so values of γ were compared.")
    return (f"Every contender trained at {resolutions[0]} px: at this proxy no larger γ trains with the target "
            f"compute (from {base_resolution} px, one more pixel adds whole rows of the last feature maps), so the "
            "study compared depth and width, and says nothing about γ; a proxy of 160 px or more would let it.")


def spread_caption(open_names: Sequence[str]) -> str:
    """The plateau-spread table's caption: the plateau's own spread, and what the answer could also have been.

    >>> spread_caption([])
    'How far depth, width and resolution move across the plateau (the winner was resolved from every other finalist)'
    """
    head = "How far depth, width and resolution move across the plateau"
    if not open_names:
        return f"{head} (the winner was resolved from every other finalist)"
    return (f"{head}; the (open) columns add the families of the {len(open_names)} contender"
            f"{'s' if len(open_names) > 1 else ''} the winner was not resolved from ({', '.join(open_names)}): "
            "what the answer could also have been at each phi")


def scale_up_caption() -> str:
    """What a scale-up table shows, and why a member may be shown and not judged."""
    return ("Cost (GMACs, *cost_ratio* against the study member) at the study's cost scale, and *proxy_ratio*: the "
            "compute of the network each member trains (at the proxy) against the study member's. A member outside "
            "the tolerance of the study member's at either scale is marked *not judged*: it is trained and shown, "
            "but its accuracy is not set against the study member's, since a gap between networks that train with "
            "unequal compute says nothing about the scaling rule. *study_minus_member* is the paired difference over "
            "the same seeds and validation images with its 95 % interval, for judged members only.")

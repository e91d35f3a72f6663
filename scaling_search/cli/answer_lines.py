"""The command line's sentences about an answer: the best coefficients of ``run``, the differences of ``validate``.

Each function takes the values it puts into words (from best.json's or validation.json's content),
not the answer itself: the command's summary reads the answer and lays the lines out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Interval = Sequence[float]
"""A plateau's (low, high) on one axis, as best.json holds it."""

NO_TRIAL = "no trial completed"
NO_BEST = ("no contender completed on every seed, so there is no best (the paper's point, the baselines and the other "
           "candidates are shown for comparison only)")
SEEDS_OF = {"finalists": "fresh finalist seeds", "search": "search seeds (no finalists: picked and judged on the same "
                                                         "runs)"}
"""How the runs that decided are named after their number, by best.json's ``decided_by``."""


def interval(bounds: Interval) -> str:
    """``1.000–1.250``: a plateau interval as the tables show it."""
    return f"{bounds[0]:.3f}–{bounds[1]:.3f}"


def plateau_cell(alpha: Interval, beta: Interval, gamma: Interval) -> str:
    """A plateau in a ranked table's cell: ``1.000–1.250 | 1.000–1.100 | 1.100–1.150``."""
    return " | ".join(interval(bounds) for bounds in (alpha, beta, gamma))


def best_lines(*, alpha: float, beta: float, gamma: float, score: float, n_seeds: int, decided_by: str,
               measured_ratio: float | None, cost_resolution: int, plateau: Mapping[str, Interval],
               representative: str, growth_per_phi: float, proxy_ratio: float | None, resolution: int) -> list[str]:
    """The best coefficients, what they scored over which runs at what cost, and the plateau they stand for."""
    cost = "cost not recorded" if measured_ratio is None else f"cost {measured_ratio:.2f}x"
    trained = "" if proxy_ratio is None else f", trained with {proxy_ratio:.2f}x the base's compute at {resolution} px"
    return [f"best: alpha={alpha:.4g} beta={beta:.4g} gamma={gamma:.4g} (val acc {score:.4f} over {n_seeds} "
            f"{SEEDS_OF[decided_by]}, {cost} at {cost_resolution} px{trained}, growing {growth_per_phi:.3f}x per phi; "
            "picked among contenders only)",
            f"  stands for its plateau alpha {interval(plateau['alpha'])}, beta {interval(plateau['beta'])}, "
            f"gamma {interval(plateau['gamma'])} ({representative})"]


def comparison_line(against: str, sentence: str) -> str:
    """One comparison of the winner: who with (``runner-up``, ``paper``) and best.json's sentence for it."""
    return f"  {against}: {sentence}"


def refinement_not_run(reason: str) -> str:
    """Why the refinement did not run (best.json's ``refinement.reason``), under the best coefficients."""
    return f"  refinement did not run: {reason}"


def refinement_confirmation(winner: str, outcome: str, sentence: str | None) -> list[str]:
    """Whether fresh seeds confirmed the refinement's best (best.json's ``refinement.confirmation``), and how."""
    return [f"  refinement's best {winner}: {outcome}", *([f"  confirmation: {sentence}"] if sentence else [])]


def difference_text(difference: float, ci95: Sequence[float] | None, resolved: bool) -> str:
    """A scale-up comparison's cell: the study member's lead in points, its 95 % interval, whether it is resolved."""
    text = f"{difference * 100:+.2f} pts"
    if ci95:
        low, high = ci95
        text += f" [{low * 100:+.2f}, {high * 100:+.2f}]"
    return text + (" resolved" if resolved else " not resolved")

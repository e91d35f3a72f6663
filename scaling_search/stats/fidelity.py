"""Whether a study's short proxy ranking survives longer training: rank correlations, a permutation p, intervals.

A search ranks its candidates by a short proxy training run. To check that ranking, K candidates
(K ≥ 2) are trained again with a longer budget on fresh seeds, and each candidate's proxy score
(mean over its proxy seeds) is set against its long-run score (mean over its long seeds).
:func:`rank_fidelity` reports

* Spearman's ρ (:func:`spearman`: Pearson's correlation of the mid-ranks, so ties share the
  average of the ranks they span) and Kendall's τ-b (:func:`kendall_tau_b`: concordant minus
  discordant pairs over the geometric mean of the pairs untied on each side), each with a 95 %
  bootstrap interval;
* a one-sided permutation p of ρ (:func:`permutation_p`): the share of the orders of the long
  means, each as likely as the observed one were proxy and long runs unrelated, whose ρ is at least
  the observed one; exact over all K! orders for K ≤ 8, from 20,000 random orders above;
* whether the proxy winner is also first on the long runs, where it lands if not, and which
  candidate the long runs put first.

The two checks answer two different questions. The bootstrap asks how far seed noise could move
the correlation of *these* candidates' means; the permutation p asks how often an ordering as
close to the proxy's would come by chance, with no relation at all between the two rankings. The
bootstrap cannot answer the second: with 3 well-separated candidates the resampled seeds never
reorder them and every replicate gives ρ = 1 ("1.00 to 1.00"), yet a random order of 3 is the
proxy's own one time in 3! = 6. With K candidates the smallest p any order reaches is 1/K!: 1/2,
1/6 and 1/24 = 0.042 for K = 2, 3 and 4, so with 4 only a perfect order falls below 0.05; with 5
it is 1/120 = 0.008, and an order with one neighbouring pair swapped (ρ = 0.9) still reaches
5/120 = 0.042.

:meth:`RankFidelity.sentence` therefore gives a verdict only from :data:`VERDICT_CANDIDATES` = 5
candidates on; below that it reports ρ, τ and p and says why there is no verdict. It says the ranks

* *agree* when p < 0.05 and each of ρ and τ either has its interval above 0 or is steady (below)
  at a value above 0;
* *run opposite ways* in the mirror case: the opposite one-sided p (ρ at most the observed one)
  below 0.05 and each interval below 0, or steady at a value below 0;

and otherwise that it is too uncertain to say, which is not "no agreement": it means these seeds
and candidates cannot tell. With one long-run seed per candidate the seed noise is unknown, and
with a correlation undefined in most resamples the bootstrap says nothing; both leave it unable
to say, whatever p is.

A correlation is *steady* when its bootstrap interval would be a single point: its 2.5th and
97.5th percentiles coincide (within 1e-9), so it took one value in about 95 % or more of the
replicates where it was defined, which happens when the resampled seeds hardly ever reorder the
candidates. "1.00 to 1.00" reads as a certainty it is not (it says nothing of chance), so a steady
correlation has no interval (None, ``spearman_steady`` or ``kendall_steady`` True) and the sentence
says why. Steadiness shows that seed noise, as far as these seeds show it, does not move the
ranking; it never supports "agree" by itself, which always needs p < 0.05 from at least 5
candidates.

The bootstrap resamples seeds, not candidates: each replicate draws, with replacement, each
candidate's long-run seeds (one draw shared by all candidates when they ran the same seeds, since
the same seed fixes the same data order and its runs move together) and each candidate's proxy
seeds, recomputes the means and the two correlations. As in :mod:`scaling_search.stats.comparison`, each
resampled mean is rescaled by sqrt(S / (S − 1)) about the observed mean (the "rescaled bootstrap"),
so that with S = 2 or 3 seeds the resampled means spread as much as the usual unbiased variance
says rather than (S − 1)/S of it. The permutation p takes the means as they are; the seed noise in
them is the bootstrap's to show.

Limits, stated once here:

* Both checks cover *these* candidates only. They say how sure the study can be that the proxy
  orders these K candidates as the long runs do, not how good the proxy is in general; a
  different set of candidates could agree better or worse.
* The top candidates of a search are close in proxy score by construction (a restricted range),
  so the correlation among them is typically lower than it would be across the grid; a low ρ among
  near-ties is not evidence that the proxy ranks the grid badly.
* The proxy winner was picked because its proxy score was highest, so part of its lead is luck
  ("winner's curse"); on fresh seeds it tends to drop back. Its long rank is a plain observation of
  the long-run means, with no interval.
* With few candidates ρ and τ take only a few values, so the intervals are coarse and p cannot be
  small (above). With two or three seeds the seed noise is known only roughly.
* Resampling adds the seed noise once more to means that already carry it, so when the noise is
  large against the gaps between candidates the replicates' correlations sit nearer 0 than the
  observed one, and the interval leans towards 0 (it may even leave the observed value out). That
  errs on the side of not claiming agreement, but then the interval understates how high ρ could be.
* Replicates where a correlation is undefined (every candidate's resampled mean the same on one
  side) are left out of its interval, which then describes the other replicates only; when fewer
  than half are defined there is no interval.
* The permutation p is one test of ρ; τ is reported beside it, not tested again.

Only NumPy is used.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from scaling_search.stats.comparison import finite_scores

VERDICT_CANDIDATES = 5
"""The fewest candidates a verdict is drawn from: with K candidates the smallest permutation p is 1/K!, and 5 is the
fewest for which more than a perfect order can fall below :data:`SIGNIFICANCE` (see the module docstring)."""

SIGNIFICANCE = 0.05
"""A one-sided permutation p below this supports "agree" (or "run opposite ways")."""

EXACT_UP_TO = 8
"""Up to this many candidates the permutation p counts all K! orders (8! = 40,320); above, it draws random ones."""

PERMUTATIONS = 20_000
"""Random orders drawn for the permutation p above :data:`EXACT_UP_TO` candidates: p's own error is then below 0.004."""

_CELLS_PER_CHUNK = 1 << 20
"""Bound on the replicate × candidate × candidate cells the correlations hold at once: about 8 MB per float64 array."""

_SAME = 1e-9
"""Two correlations closer than this are the same value: for the permutation p's ties and a steady interval."""


# --------------------------------------------------------------------------- the two rank correlations


def spearman(x: ArrayLike, y: ArrayLike) -> float:
    """Spearman's ρ: Pearson's correlation of the mid-ranks (tied values share their average rank).

    nan (without a warning) when either side is constant, a single pair included; ValueError when
    the two sides differ in length, are empty, or hold a value that is not a finite number.

    >>> spearman([1, 2, 3, 4], [10, 20, 30, 40]), spearman([1, 2, 3], [3, 2, 1])
    (1.0, -1.0)
    >>> spearman([1, 2, 2, 3], [1, 3, 2, 2])
    0.5
    """
    a, b = _pair(x, y)
    return float(_spearman_rows(a[None, :], b[None, :])[0])


def kendall_tau_b(x: ArrayLike, y: ArrayLike) -> float:
    """Kendall's τ-b: (concordant − discordant pairs) / sqrt((pairs untied in x) · (pairs untied in y)).

    A pair tied on either side is neither concordant nor discordant; the denominator's tie
    correction makes two identical tied rankings score 1. nan (without a warning) when either side
    is constant; ValueError as for :func:`spearman`. Counts all n(n − 1)/2 pairs, O(n²) memory.

    >>> kendall_tau_b([1, 1, 2, 3], [5, 5, 6, 7]), kendall_tau_b([1, 2, 2, 3], [1, 3, 2, 2])
    (1.0, 0.4)
    """
    a, b = _pair(x, y)
    return float(_kendall_rows(a[None, :], b[None, :])[0])


def _pair(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.ndim != 1 or b.ndim != 1 or a.size != b.size:
        raise ValueError(f"a rank correlation needs two 1-D sequences of the same length, got shapes "
                         f"{a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError("a rank correlation needs at least one pair of values, got none")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("a rank correlation needs finite numbers, got nan or infinity")
    return a, b


def _varies(rows: np.ndarray) -> np.ndarray:
    """For each row of ``rows``, whether its values are not all the same."""
    return rows.max(axis=1) > rows.min(axis=1)


def _midranks(rows: np.ndarray) -> np.ndarray:
    """Rank of each value within its row, from 1; tied values get the average of the ranks they span."""
    below = (rows[:, :, None] > rows[:, None, :]).sum(axis=2)
    equal = (rows[:, :, None] == rows[:, None, :]).sum(axis=2)  # counts the value itself
    return below + (equal + 1) / 2


def _spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's ρ of each row of x against the same row of y (rows × n each); nan where a row is constant."""
    rx, ry = _midranks(x), _midranks(y)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    out = np.full(x.shape[0], np.nan)
    defined = _varies(x) & _varies(y)
    cross = (rx[defined] * ry[defined]).sum(axis=1)
    scale = np.sqrt((rx[defined] ** 2).sum(axis=1) * (ry[defined] ** 2).sum(axis=1))
    out[defined] = np.clip(cross / scale, -1.0, 1.0)
    return out


def _kendall_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall's τ-b of each row of x against the same row of y (rows × n each); nan where a row is constant.

    With s_ij = sign(x_i − x_j) and t_ij = sign(y_i − y_j) over all ordered pairs, Σ s·t is twice
    (concordant − discordant) and Σ s² twice the pairs untied in x, so τ-b = Σ s·t / sqrt(Σ s² · Σ t²).
    """
    s = np.sign(x[:, :, None] - x[:, None, :])
    t = np.sign(y[:, :, None] - y[:, None, :])
    untied_x, untied_y = (s * s).sum(axis=(1, 2)), (t * t).sum(axis=(1, 2))
    out = np.full(x.shape[0], np.nan)
    defined = (untied_x > 0) & (untied_y > 0)
    tau = (s * t).sum(axis=(1, 2))[defined] / np.sqrt(untied_x[defined] * untied_y[defined])
    out[defined] = np.clip(tau, -1.0, 1.0)
    return out


def _by_chunks(correlation: Callable[[np.ndarray, np.ndarray], np.ndarray], x: np.ndarray,
               y: np.ndarray) -> np.ndarray:
    """``correlation`` of each row of x against the same row of y, a few rows at a time (it holds rows × n × n)."""
    chunk = max(1, _CELLS_PER_CHUNK // x.shape[1] ** 2)
    return np.concatenate([correlation(x[start:start + chunk], y[start:start + chunk])
                           for start in range(0, x.shape[0], chunk)])


# --------------------------------------------------------------------------- the permutation p


def permutation_p(x: ArrayLike, y: ArrayLike, *, permutations: int = PERMUTATIONS, random_seed: int = 0
                  ) -> tuple[float, float]:
    """One-sided permutation p-values of Spearman's ρ of x against y: (ρ as high or higher, ρ as low or lower).

    Were x and y unrelated, every order of y's values against x's would be as likely as the one
    observed; p is the share of those orders whose ρ is at least (first value) or at most (second)
    the observed ρ. Up to :data:`EXACT_UP_TO` pairs all n! orders are counted, so the observed
    order itself makes p ≥ 1/n!; above that ``permutations`` random orders (seeded by
    ``random_seed``) give p = (hits + 1) / (permutations + 1), the observed order counted as one
    more, so p is never 0. Orders whose ρ lies within 1e-9 of the observed one count as reaching it:
    swapping two tied values leaves ρ as it was, and such an order is counted on both sides.
    (nan, nan) when ρ is undefined (one side constant); ValueError as for :func:`spearman`.

    >>> permutation_p([1, 2, 3], [10, 20, 30])  # the one perfect order among 3! = 6
    (0.16666666666666666, 1.0)
    >>> p, _ = permutation_p([1, 2, 3, 4, 5], [1, 2, 3, 5, 4])  # ρ = 0.9: itself and 4 orders at 1.0 or 0.9
    >>> p == 5 / 120
    True
    """
    if permutations < 1:
        raise ValueError(f"permutations must be at least 1, got {permutations}")
    a, b = _pair(x, y)
    return _permutation_p(a, b, permutations, np.random.default_rng(random_seed))


def _permutation_p(x: np.ndarray, y: np.ndarray, permutations: int, rng: np.random.Generator
                   ) -> tuple[float, float]:
    """:func:`permutation_p` of checked 1-D arrays, drawing (above :data:`EXACT_UP_TO` pairs) from ``rng``."""
    rx, ry = _midranks(x[None, :])[0], _midranks(y[None, :])[0]
    rx, ry = rx - rx.mean(), ry - ry.mean()
    scale = math.sqrt(float(rx @ rx) * float(ry @ ry))
    if scale == 0:
        return math.nan, math.nan
    observed = float(rx @ ry) / scale  # an order tying with it may differ by rounding: hence the tolerance _SAME
    count = x.size
    if count <= EXACT_UP_TO:
        rhos = ry[np.array(list(itertools.permutations(range(count))))] @ rx / scale
        return (float(np.count_nonzero(rhos >= observed - _SAME)) / rhos.size,
                float(np.count_nonzero(rhos <= observed + _SAME)) / rhos.size)
    higher = lower = 0
    chunk = max(1, _CELLS_PER_CHUNK // count)
    for start in range(0, permutations, chunk):
        rows = min(chunk, permutations - start)
        rhos = rng.permuted(np.tile(ry, (rows, 1)), axis=1) @ rx / scale
        higher += int(np.count_nonzero(rhos >= observed - _SAME))
        lower += int(np.count_nonzero(rhos <= observed + _SAME))
    return (higher + 1) / (permutations + 1), (lower + 1) / (permutations + 1)


# --------------------------------------------------------------------------- the verdict


@dataclass(frozen=True)
class RankFidelity:
    """How the proxy ranking of some candidates held up on longer training (see :func:`rank_fidelity`).

    ``candidates`` are ordered by proxy score, best first (ties in the order given); ``proxy`` and
    ``long`` are their mean scores, higher better. ``spearman`` and ``kendall`` are nan when one
    side scored every candidate the same; their intervals are None then, with fewer than 2 long-run
    seeds, when fewer than half of the replicates had the correlation defined, and when the
    correlation is steady (``spearman_steady``, ``kendall_steady``: its interval would be one point,
    see the module docstring). ``permutation_p`` is the one-sided permutation p of ρ for agreement
    (orders with ρ at least the observed one) and ``permutation_p_opposite`` the other side's
    (:func:`permutation_p`); both None when ρ is undefined, and in a record written before they
    existed. ``winner_long_rank`` is 1 + the number of candidates whose long score is strictly
    higher than the proxy winner's, so ties share the better rank, and ``long_winner`` is the proxy
    winner whenever it ties for first. ``seeds`` is the number of long-run seeds per candidate (the
    fewest any candidate ran), ``proxy_seeds`` the same for the proxy runs, and ``paired`` whether
    the long-run seeds were resampled together (every candidate ran the same seeds).

    Example: an interval that holds zero is "too uncertain", never "agree", whatever p says

        >>> found = RankFidelity(("a", "b", "c", "d", "e"), (0.6, 0.5, 0.4, 0.3, 0.2), (0.7, 0.75, 0.6, 0.55, 0.5),
        ...                      0.9, (-0.2, 1.0), 0.8, (-0.4, 1.0), "a", "b", False, 2, 3, 3, True, 5 / 120, 1.0)
        >>> found.sentence()
        'Too uncertain to say whether proxy and long ranks agree: Spearman ρ = 0.90 (95 % interval −0.20 to 1.00), \
Kendall τ = 0.80 (−0.40 to 1.00), permutation p = 0.042; an interval contains 0, too wide to conclude from 5 \
candidates (more long-run seeds or candidates would narrow it); the proxy winner a comes 2nd of 5 on the long runs, \
where b comes first.'
    """

    candidates: tuple[str, ...]
    proxy: tuple[float, ...]
    long: tuple[float, ...]
    spearman: float
    spearman_ci95: tuple[float, float] | None
    kendall: float
    kendall_ci95: tuple[float, float] | None
    proxy_winner: str
    long_winner: str
    winner_kept: bool
    winner_long_rank: int
    seeds: int
    proxy_seeds: int
    paired: bool
    permutation_p: float | None = None
    permutation_p_opposite: float | None = None
    spearman_steady: bool = False
    kendall_steady: bool = False

    def sentence(self) -> str:
        """One plain-English sentence for reports; a verdict only from 5 candidates on (see the module docstring).

        >>> RankFidelity(("a", "b", "c"), (0.6, 0.5, 0.4), (0.8, 0.7, 0.6), 1.0, None, 1.0, None, "a", "a", True, 1,
        ...              3, 3, True, 1 / 6, 1.0, True, True).sentence()
        'No verdict from 3 candidates: Spearman ρ = 1.00 (no interval), Kendall τ = 1.00 (no interval), permutation \
p = 0.17; no interval for ρ and τ: the resampled seeds hardly ever reorder these candidates (each took one value \
in 95 % or more of the resamples); a verdict needs at least 5 candidates, since with K candidates even a perfect \
order has p = 1/K! (here 1/6 = 0.17; with 5, 1/120 = 0.008); the proxy winner a keeps first place on the long runs.'
        """
        winner = self._winner()
        count = len(self.candidates)
        if math.isnan(self.spearman) or math.isnan(self.kendall):
            side = "the proxy runs" if len(set(self.proxy)) == 1 else "the long runs"
            return (f"Proxy and long ranks cannot be compared: {side} scored every candidate the same, "
                    f"so ρ and τ are undefined; {winner}.")
        missing = self._missing_intervals()
        said = f"{self._values()}; {missing}" if missing else self._values()
        if count < VERDICT_CANDIDATES:
            least = math.factorial(count)
            return (f"No verdict from {count} candidates: {said}; a verdict needs at least {VERDICT_CANDIDATES} "
                    f"candidates, since with K candidates even a perfect order has p = 1/K! (here 1/{least} = "
                    f"{_p_text(1 / least)}; with 5, 1/120 = 0.008); {winner}.")
        if self.seeds < 2 or self._undefined():
            return f"Cannot say whether proxy and long ranks agree from {count} candidates: {said}; {winner}."
        for sign, verdict, p_name in ((1, "agree", "p"), (-1, "run opposite ways", "the opposite-way p")):
            if self._holds(sign):
                shown = [ci for ci in (self.spearman_ci95, self.kendall_ci95) if ci is not None]
                side = "above" if sign > 0 else "below"
                intervals = ([] if not shown else [f"both intervals {side} 0"] if len(shown) == 2 else
                             [f"{'ρ' if self.spearman_ci95 else 'τ'}'s interval {side} 0"])
                basis = " and ".join([*intervals, f"{p_name} below 0.05"]) + (f", and {missing}" if missing else "")
                return f"Proxy and long ranks {verdict}: {self._values()}; {basis}; {winner}."
        return f"Too uncertain to say whether proxy and long ranks agree: {said}; {self._doubts(count)}; {winner}."

    def _values(self) -> str:
        """ρ and τ with their intervals, and p (and the opposite-way p when ρ is negative)."""
        def interval(found: tuple[float, float] | None, label: str) -> str:
            return "no interval" if found is None else f"{label}{_number(found[0])} to {_number(found[1])}"

        values = (f"Spearman ρ = {_number(self.spearman)} ({interval(self.spearman_ci95, '95 % interval ')}), "
                  f"Kendall τ = {_number(self.kendall)} ({interval(self.kendall_ci95, '')}), "
                  f"permutation p = {_p_text(self.permutation_p)}")
        if self.spearman < 0:
            values += f", opposite-way p = {_p_text(self.permutation_p_opposite)}"
        if self.proxy_seeds < 2:
            values += " (one proxy seed, so the proxy's own seed noise is not in the intervals)"
        return values

    def _missing_intervals(self) -> str | None:
        """Why ρ or τ has no interval, as a clause; None when both have one."""
        if self.spearman_ci95 is not None and self.kendall_ci95 is not None:
            return None
        if self.seeds < 2:
            return ("no interval: one long-run seed per candidate leaves the seed noise unknown "
                    "(an interval needs at least 2 long-run seeds per candidate)")
        steady = [symbol for symbol, on in (("ρ", self.spearman_steady), ("τ", self.kendall_steady)) if on]
        undefined = [symbol for symbol, found, on in (("ρ", self.spearman_ci95, self.spearman_steady),
                                                      ("τ", self.kendall_ci95, self.kendall_steady))
                     if found is None and not on]
        clauses = []
        if steady:
            clauses.append(f"no interval for {' and '.join(steady)}: the resampled seeds hardly ever reorder these "
                           f"candidates ({'each' if len(steady) == 2 else 'it'} took one value in 95 % or more of "
                           "the resamples)")
        if undefined:
            clauses.append(f"no interval for {' and '.join(undefined)}: undefined in most resamples (every "
                           "candidate's resampled mean the same on one side)")
        return "; ".join(clauses)

    def _undefined(self) -> bool:
        """Whether a correlation has no interval for being undefined in most resamples (not for being steady)."""
        return ((self.spearman_ci95 is None and not self.spearman_steady)
                or (self.kendall_ci95 is None and not self.kendall_steady))

    def _holds(self, sign: int) -> bool:
        """Whether the ranks agree (``sign`` 1) or run opposite ways (−1): p below 0.05 and both correlations that way.

        A correlation points that way when its interval lies wholly on that side of 0, or, without an
        interval, when it is steady and its value lies there.
        """
        p = self.permutation_p if sign > 0 else self.permutation_p_opposite
        if p is None or p >= SIGNIFICANCE:
            return False
        return all(sign * value > 0 and steady if found is None else min(sign * found[0], sign * found[1]) > 0
                   for value, found, steady in ((self.spearman, self.spearman_ci95, self.spearman_steady),
                                                (self.kendall, self.kendall_ci95, self.kendall_steady)))

    def _doubts(self, count: int) -> str:
        """Why neither verdict holds, as a clause."""
        doubts = []
        if any(found is not None and found[0] <= 0 <= found[1] for found in (self.spearman_ci95, self.kendall_ci95)):
            doubts.append(f"an interval contains 0, too wide to conclude from {count} candidates (more long-run seeds "
                          "or candidates would narrow it)")
        agreeing = self.spearman >= 0
        p = self.permutation_p if agreeing else self.permutation_p_opposite
        if p is None:
            doubts.append("no permutation p was recorded")
        elif p >= SIGNIFICANCE:
            name, how = ("p", "agrees") if agreeing else ("the opposite-way p", "runs opposite")
            doubts.append(f"{name} is not below 0.05: a random order of the long runs {how} as well "
                          f"{100 * p:.0f} % of the time")
        return "; ".join(doubts) or "ρ and τ do not both point the same way"

    def _winner(self) -> str:
        """Where the proxy winner lands on the long runs, as a clause."""
        head = f"the proxy winner {self.proxy_winner}"
        mine = self.long[self.candidates.index(self.proxy_winner)]
        sharing = [name for name, score in zip(self.candidates, self.long, strict=True)
                   if score == mine and name != self.proxy_winner]
        if self.winner_kept:
            if sharing:
                return f"{head} shares first place on the long runs with {_names(sharing)}"
            return f"{head} keeps first place on the long runs"
        best = max(self.long)
        firsts = [name for name, score in zip(self.candidates, self.long, strict=True) if score == best]
        place = f"{_ordinal(self.winner_long_rank)} of {len(self.candidates)}"
        where = f"shares {place} with {_names(sharing)}" if sharing else f"comes {place}"
        first = f"{firsts[0]} comes first" if len(firsts) == 1 else f"{_names(firsts)} share first place"
        return f"{head} {where} on the long runs, where {first}"

    def to_dict(self) -> dict[str, object]:
        """Every field, JSON-ready: tuples as lists, an undefined (nan) correlation as None.

        >>> RankFidelity(("a", "b"), (0.6, 0.5), (0.7, 0.7), float("nan"), None, float("nan"), None, "a", "a", True,
        ...              1, 1, 1, True).to_dict()["spearman"] is None
        True
        """
        data = asdict(self)
        for key in ("candidates", "proxy", "long"):
            data[key] = list(data[key])
        for key in ("spearman", "kendall"):
            data[key] = None if math.isnan(data[key]) else float(data[key])
            interval = data[f"{key}_ci95"]
            data[f"{key}_ci95"] = None if interval is None else [float(interval[0]), float(interval[1])]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RankFidelity:
        """The inverse of :meth:`to_dict`: lists back to tuples, an undefined (None) correlation back to nan.

        A record written before the permutation p and steadiness existed reads with p None and
        nothing steady, so its sentence gives no verdict.

        >>> found = rank_fidelity({"a": [0.6], "b": [0.5], "c": [0.4]}, {"a": [0.7], "b": [0.7], "c": [0.6]})
        >>> RankFidelity.from_dict(found.to_dict()) == found
        True
        >>> older = {key: value for key, value in found.to_dict().items() if "permutation" not in key}
        >>> RankFidelity.from_dict(older).permutation_p is None
        True
        """
        values = dict(data)
        for key in ("candidates", "proxy", "long"):
            values[key] = tuple(values[key])
        for key in ("spearman", "kendall"):
            values[key] = math.nan if values[key] is None else float(values[key])
            interval = values[f"{key}_ci95"]
            values[f"{key}_ci95"] = None if interval is None else (float(interval[0]), float(interval[1]))
        return cls(**values)


def _number(value: float) -> str:
    return "undefined" if math.isnan(value) else f"{round(value, 2) + 0.0:.2f}".replace("-", "−")  # no "−0.00"


def _p_text(value: float | None) -> str:
    """A p-value to two significant digits (1/720 as 0.0014); "not recorded" for None."""
    return "not recorded" if value is None else f"{value:.2g}"


def _ordinal(rank: int) -> str:
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"{rank}{suffix}"


def _names(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# --------------------------------------------------------------------------- checking a proxy ranking


def rank_fidelity(proxy: Mapping[str, Sequence[float]],
                  long: Mapping[str, Mapping[int, float]] | Mapping[str, Sequence[float]],
                  *, resamples: int = 2000, permutations: int = PERMUTATIONS, random_seed: int = 0) -> RankFidelity:
    """Compare the proxy ranking of some candidates with their ranking after longer training.

    ``proxy`` maps each candidate to its proxy seed scores, ``long`` to its long-run scores, either
    by seed (seed -> score) or as a list; higher scores are better. Both must name the same
    candidates (else ValueError naming the missing ones), at least 2 of them, each with at least
    one finite score on each side. Each candidate's score on a side is the mean over its seeds;
    the candidates are ordered by proxy score (ties in the order ``proxy`` gives), and the first is
    the proxy winner.

    Each of ``resamples`` bootstrap replicates draws each candidate's long-run seeds with
    replacement, one draw shared by all candidates when ``long`` gives every candidate a mapping
    with the same seeds (``paired``) and a draw of its own otherwise, and likewise each candidate's
    proxy seeds (always a draw of its own); it rescales every resampled mean m* of S seeds about
    the observed mean m to m + sqrt(S / (S − 1)) · (m* − m) (see the module docstring), and computes
    ρ and τ-b of the proxy means against the long means. Each 95 % interval is the 2.5th and 97.5th
    percentiles of the replicates where that correlation is defined, ignoring the others; it is None
    when fewer than half are defined, when any candidate has fewer than 2 long-run seeds (the
    long-run seed noise would be unknown), and when the two percentiles coincide (the correlation
    is steady). A candidate with one proxy seed keeps its proxy score in every replicate. The
    permutation p-values are :func:`permutation_p`'s of the proxy means against the long means,
    from ``permutations`` random orders above :data:`EXACT_UP_TO` candidates (drawn after the
    bootstrap, from the same generator). The same ``random_seed`` gives the same result.

    Three well-separated candidates: a perfect order, and still no verdict (p = 1/3! = 1/6)

    >>> found = rank_fidelity({"a": [0.62, 0.61], "b": [0.55, 0.56], "c": [0.50, 0.49]},
    ...                       {"a": {0: 0.80, 1: 0.81}, "b": {0: 0.74, 1: 0.75}, "c": {0: 0.70, 1: 0.72}},
    ...                       resamples=200)
    >>> found.spearman, found.winner_kept, found.winner_long_rank, found.paired, found.spearman_ci95
    (1.0, True, 1, True, None)
    >>> found.permutation_p == 1 / 6, found.spearman_steady
    (True, True)
    >>> found.sentence()
    'No verdict from 3 candidates: Spearman ρ = 1.00 (no interval), Kendall τ = 1.00 (no interval), permutation \
p = 0.17; no interval for ρ and τ: the resampled seeds hardly ever reorder these candidates (each took one value \
in 95 % or more of the resamples); a verdict needs at least 5 candidates, since with K candidates even a perfect \
order has p = 1/K! (here 1/6 = 0.17; with 5, 1/120 = 0.008); the proxy winner a keeps first place on the long runs.'
    """
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    if permutations < 1:
        raise ValueError(f"permutations must be at least 1, got {permutations}")
    if not isinstance(proxy, Mapping) or not isinstance(long, Mapping):
        raise ValueError("proxy and long must each map candidate -> scores")
    missing_long = [name for name in proxy if name not in long]
    missing_proxy = [name for name in long if name not in proxy]
    if missing_long or missing_proxy:
        parts = [f"missing from {side}: {', '.join(map(str, names))}"
                 for side, names in (("long", missing_long), ("proxy", missing_proxy)) if names]
        raise ValueError(f"proxy and long must name the same candidates; {'; '.join(parts)}")
    if len(proxy) < 2:
        raise ValueError(f"comparing rankings needs at least 2 candidates, got {len(proxy)}")

    names = list(proxy)
    proxy_scores = [finite_scores(proxy[name], name, "proxy") for name in names]
    long_runs = [long[name] for name in names]
    by_seed = [runs if isinstance(runs, Mapping) else None for runs in long_runs]
    first = by_seed[0]
    paired = first is not None and all(runs is not None and runs.keys() == first.keys() for runs in by_seed)
    long_scores = [finite_scores([runs[seed] for seed in sorted(runs)] if isinstance(runs, Mapping) else runs, name,
                                 "long")
                   for name, runs in zip(names, long_runs, strict=True)]

    order = sorted(range(len(names)), key=lambda i: -proxy_scores[i].mean())  # stable: ties keep their order
    names = [names[i] for i in order]
    proxy_scores = [proxy_scores[i] for i in order]
    long_scores = [long_scores[i] for i in order]
    proxy_means = np.array([scores.mean() for scores in proxy_scores])
    long_means = np.array([scores.mean() for scores in long_scores])
    seeds = min(scores.size for scores in long_scores)
    proxy_seeds = min(scores.size for scores in proxy_scores)

    rho = float(_spearman_rows(proxy_means[None, :], long_means[None, :])[0])
    tau = float(_kendall_rows(proxy_means[None, :], long_means[None, :])[0])
    rng = np.random.default_rng(random_seed)
    rho_ci = tau_ci = None
    rho_steady = tau_steady = False
    if seeds >= 2 and not math.isnan(rho):
        if paired:
            long_replicates = _rescaled_means(np.stack(long_scores), resamples, rng)
        else:
            long_replicates = np.hstack([_rescaled_means(scores[None, :], resamples, rng) for scores in long_scores])
        proxy_replicates = np.hstack([_rescaled_means(scores[None, :], resamples, rng) for scores in proxy_scores])
        rho_ci, rho_steady = _interval(_by_chunks(_spearman_rows, proxy_replicates, long_replicates))
        tau_ci, tau_steady = _interval(_by_chunks(_kendall_rows, proxy_replicates, long_replicates))
    higher, lower = _permutation_p(proxy_means, long_means, permutations, rng)

    winner_long_rank = 1 + int(np.count_nonzero(long_means > long_means[0]))
    long_winner = names[int(np.argmax(long_means))]  # the first maximum: the proxy winner when it ties for first
    return RankFidelity(tuple(names), tuple(proxy_means.tolist()), tuple(long_means.tolist()), rho, rho_ci, tau, tau_ci,
                        names[0], long_winner, winner_long_rank == 1, winner_long_rank, int(seeds), int(proxy_seeds),
                        bool(paired), None if math.isnan(higher) else higher, None if math.isnan(lower) else lower,
                        rho_steady, tau_steady)


def _rescaled_means(values: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap means of each row of ``values`` (rows × S seeds; one seed draw shared by the rows): resamples × rows.

    Each resampled mean m* becomes m + sqrt(S / (S − 1)) · (m* − m) about the row's mean m; with one
    seed nothing is drawn and every replicate is m.
    """
    seeds = values.shape[1]
    centre = values.mean(axis=1)
    if seeds < 2:
        return np.tile(centre, (resamples, 1))
    picks = rng.integers(0, seeds, size=(resamples, seeds)) + np.arange(resamples)[:, None] * seeds
    weights = np.bincount(picks.ravel(), minlength=resamples * seeds).reshape(resamples, seeds) / seeds
    return centre + math.sqrt(seeds / (seeds - 1)) * (weights @ (values - centre[:, None]).T)


def _interval(replicates: np.ndarray) -> tuple[tuple[float, float] | None, bool]:
    """The 2.5th and 97.5th percentiles of the defined (non-nan) replicates, and whether the correlation is steady.

    The interval is None when fewer than half the replicates are defined, and when its two ends
    coincide (within 1e-9): the correlation is then steady (True), having taken one value in about
    95 % or more of the defined replicates, and a one-point interval would read as a certainty the
    bootstrap does not give (see the module docstring).
    """
    defined = replicates[~np.isnan(replicates)]
    if 2 * defined.size < replicates.size:
        return None, False
    low, high = np.quantile(defined, [0.025, 0.975])
    if high - low < _SAME:
        return None, True
    return (float(low), float(high)), False

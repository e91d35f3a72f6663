"""Whether one candidate really beat another: an interval over seeds and images, from variance components.

A study trains each candidate with a few seeds and scores every run on the same, fixed set of
images. Two sources of noise sit between the accuracy a report prints and the accuracy the
candidate would have on new data: *seed noise* (another seed trains a different network) and
*image noise* (another draw of images scores it differently). A t-test on the per-seed accuracies
sees only the first. This module keeps each run's per-image correctness
(:func:`~scaling_search.training.correctness.pack_correctness` stores it as short text) and
splits the variance of "accuracy of the first minus accuracy of the second" into its parts, each
counted once, as in a two-way analysis of variance of runs × images:

* the **seed part**: the variance of the per-seed differences d_s (paired: both candidates ran
  seed s, whose data order moves both runs together), divided by the number of seeds S. It holds
  the seed effect and, once, the run-to-run noise on single images;
* the **image part**: the variance of the per-image differences averaged over seeds, divided by
  the number of images N, *minus* the run-to-run noise on single images that the seed part
  already holds (the interaction mean square over S·N), floored at 0. Without that subtraction
  the interaction would be counted twice.

The interval is the difference ± t × standard error, with t at 97.5 % on Satterthwaite's degrees
of freedom for the sum (near S − 1 when seeds dominate, large when images do). docs/verdicts.md
shows, with simulations of null studies, that this keeps false "resolved" at 5 % at 3, 5 and 10
seeds, where the former bootstrap gave 10 % at 2 and 3 seeds.

Two rules sit on top of the interval:

* **No verdict below three seeds a side.** With two seeds the seed variance has one degree of
  freedom (its 95 % range spans ×0.2 to ×1018), so a comparison with fewer than
  :data:`MIN_SEEDS` seeds per candidate is never "resolved"; it still gets an interval, and the
  sentence says that at least three seeds are needed.
* **What would resolve it is planned for a stated effect, as a range.** The sample-size figures
  are for the study's *minimum effect of interest* (``min_effect``, default
  :data:`DEFAULT_MIN_EFFECT`), never the observed difference (which selection inflates); they use
  t quantiles, and they are ranges that carry the uncertainty of the seed variance (its 95 %
  chi-square interval). Below three seeds there are none.

"Not resolved" is **not** "tied": it means this budget cannot tell.

Only the standard library and NumPy are used (:mod:`scaling_search.stats.distributions` holds the
t and chi-square quantiles).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from scaling_search.stats.distributions import chi2_quantile, t_cdf, t_quantile

MIN_SEEDS = 3
"""Fewest seeds per candidate for a verdict: below it a comparison is never "resolved"."""

DEFAULT_MIN_EFFECT = 0.01
"""The minimum effect of interest sample sizes are planned for: 1 point of accuracy.

Differences between compound-scaling rules at equal cost are about a point of ImageNet top-1
(Tan & Le 2019, Table 3: 77.4 % against 76.8 % and 76.4 % for MobileNetV2 at 4× its cost); a
smaller gap is rarely worth a new rule. A study sets its own with ``min_effect``."""

CAP = 10_000
"""Largest seed count a plan states; a larger need is stored as CAP + 1 ("more than")."""

IMAGES_CAP = 10_000_000
"""Largest image count a plan states; a larger need is stored as IMAGES_CAP + 1 ("more than")."""

DF_QUANTILE = 0.25
"""The chi-square quantile that weighs each seed term in the interval's df (see :attr:`_Components.df`)."""

POWER = 0.80
"""Power the plans and ``detectable`` are stated for: a true difference found four times in five."""

_ONE_SEED = "images only (one seed)"
_BOTH = "seeds and images"
_SCORES = "seeds only (no per-image records)"

Interval = tuple[float, float]
Range = tuple[int, int]


# --------------------------------------------------------------------------- the verdict


@dataclass(frozen=True)
class Comparison:
    """How accuracy(first) − accuracy(second) came out, and how sure a study of this size can be about it.

    Differences, intervals, ``standard_error``, ``detectable`` and ``min_effect`` are fractions of
    the images (0.014 is 1.4 points). ``df`` is the interval's degrees of freedom (Satterthwaite's).
    ``seeds`` is the number of seeds per side that went in (the paired count when paired; the
    smaller side's count when unpaired, which ``basis`` then spells out); below :data:`MIN_SEEDS`
    ``resolved`` is always False. ``split`` names the images ("validation" or "test").
    ``seeds_needed`` and ``images_needed`` are ranges (low, high) for resolving ``min_effect`` four
    times in five, set only when unresolved with at least :data:`MIN_SEEDS` seeds and when this
    budget could not already detect ``min_effect``: seeds at these images, or else images at these
    seeds; a high end of ``CAP + 1`` (``IMAGES_CAP + 1``) means "more than". Both None then means
    neither alone would do.

    Example: an interval that holds zero is "not resolved", never "tied"

        >>> from scaling_search.stats.comparison import Comparison
        >>> found = Comparison("a", "b", 0.004, (-0.006, 0.014), 0.0045, 4.1, 0.019, 0.43, False, 3, 5000, True,
        ...                    "seeds and images", 0.01, (12, 40), None)
        >>> found.resolved, "not resolved at this budget" in found.sentence(), "tied" in found.sentence()
        (False, True, False)
    """

    first: str
    second: str
    difference: float
    ci95: Interval | None
    standard_error: float | None
    df: float | None
    detectable: float | None
    p_value: float | None
    resolved: bool
    seeds: int
    images: int
    paired: bool
    basis: str
    min_effect: float
    seeds_needed: Range | None
    images_needed: Range | None
    split: str = "validation"

    def sentence(self) -> str:
        """One plain-English sentence for reports; never says "tied".

        >>> Comparison("w", "r", 0.014, (0.003, 0.025), 0.004, 4.2, 0.011, 0.01, True, 5, 5000, True,
        ...            "seeds and images", 0.01, None, None).sentence()
        'w vs r: +1.40 points (95 % interval +0.30 to +2.50; 5 paired seeds × 5000 validation images): resolved.'
        """
        head = f"{self.first} vs {self.second}: {_points(self.difference)} points"
        if self.ci95 is None:
            if self.seeds < 2:
                why = f"one seed, the seed noise is unknown (run at least {MIN_SEEDS} seeds per candidate)"
            else:
                why = "every seed scored the same, so the noise is unknown"
            return f"{head}: cannot tell: {why}."
        low, high = self.ci95
        head = f"{head} (95 % interval {_points(low)} to {_points(high)}; {self._budget()})"
        if self.seeds < MIN_SEEDS:
            missing = ("seed-to-seed noise is not in this interval (one seed); " if self.seeds < 2 else "")
            return (f"{head}: no verdict — {missing}at least {MIN_SEEDS} seeds per candidate are needed to resolve "
                    f"a difference, and this has {self.seeds}.")
        if self.resolved:
            return f"{head}: resolved."
        verdict = f"{head}: not resolved at this budget"
        if self.difference == 0 and self.detectable == 0:
            return (f"{verdict} — both made the same predictions on every image in every seed, "
                    "so there is no difference to resolve.")
        effect = _short_points(self.min_effect)
        verdict += f" — it could detect about {_short_points(self.detectable or 0.0)} points"
        if self.detectable is not None and self.detectable <= self.min_effect:
            return (verdict + f", so it would resolve a true difference of {effect} points (the minimum effect of "
                    "interest) four times in five; this one is smaller.")
        plan = f"to resolve {effect} points (the minimum effect of interest) four times in five"
        if self.seeds_needed is not None:
            return verdict + f"; {plan}, about {_range(self.seeds_needed, CAP)} seeds per candidate would be needed."
        if self.images_needed is not None:
            return (verdict + f"; more seeds alone would not (the images' own noise is too large), but "
                    f"{plan} about {_range(self.images_needed, IMAGES_CAP)} {self.split} images would.")
        return verdict + f"; {plan}, neither more seeds nor more images alone would do: both must grow."

    def _budget(self) -> str:
        """The seeds and images behind the interval, with what ``basis`` adds after its first "; "."""
        extras = self.basis.split("; ")[1:]
        if self.images == 0:
            seeds = extras.pop(0) if extras else f"{self.seeds} seed{'s' if self.seeds != 1 else ''} per candidate"
            budget = f"{seeds}, per-seed accuracies only"
        elif self.paired:
            seeds = f"{self.seeds} paired seeds" if self.seeds > 1 else "1 seed"
            budget = f"{seeds} × {self.images} {self.split} images"
        else:
            seeds = extras.pop(0) if extras else f"{self.seeds} unpaired seed{'s' if self.seeds != 1 else ''}"
            budget = f"{seeds} × {self.images} {self.split} images"
        return "; ".join([budget, *extras])

    def to_dict(self) -> dict[str, object]:
        """Every field, JSON-ready (intervals and ranges as two-item lists or None).

        >>> Comparison("w", "r", 0.0, None, None, None, None, None, False, 1, 0, False,
        ...            "seeds only (no per-image records)", 0.01, None, None).to_dict()["ci95"] is None
        True
        """
        data = asdict(self)
        for key in ("ci95", "seeds_needed", "images_needed"):
            value = getattr(self, key)
            data[key] = None if value is None else list(value)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Comparison:
        """The inverse of :meth:`to_dict`; keys that are not fields (a record's ``sentence`` …) are left out.

        >>> found = Comparison("w", "r", 0.01, (0.0, 0.02), 0.005, 3.0, 0.01, 0.05, True, 3, 10, True, "seeds",
        ...                    0.01, None, (20, 30))
        >>> Comparison.from_dict(found.to_dict() | {"sentence": found.sentence()}) == found
        True
        """
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        interval = values["ci95"]
        values["ci95"] = None if interval is None else (float(interval[0]), float(interval[1]))
        for key in ("seeds_needed", "images_needed"):
            found = values[key]
            values[key] = None if found is None else (int(found[0]), int(found[1]))
        return cls(**values)


def _points(fraction: float) -> str:
    return f"{round(fraction * 100, 2) + 0.0:+.2f}".replace("-", "−")  # + 0.0: no "−0.00"


def _short_points(fraction: float) -> str:
    points = abs(fraction) * 100
    return f"{points:.1f}" if points >= 0.095 else f"{points:.2g}"


def _range(needed: Range, cap: int) -> str:
    low, high = needed
    if low > cap:
        return f"more than {cap:,}"
    if high > cap:
        return f"{low:,} to more than {cap:,}"
    return f"{low:,}" if low == high else f"{low:,}–{high:,}"


# --------------------------------------------------------------------------- variance components


@dataclass(frozen=True)
class _Components:
    """The parts of Var(difference): the seed part, the image part, and how to combine and plan with them.

    ``seed_unit`` is Σ over sides of the variance of that side's per-seed means (what one seed per
    side would add; the seed part is ``seed_unit`` / seeds per side); ``seed_terms`` are the seed
    part's (value, df) terms; ``image_terms`` the image part's, the interaction's with negative
    values. ``image_part`` is their sum floored at 0, ``image_unit`` the same times N (one image's
    share).
    """

    difference: float
    seed_unit: float
    seed_terms: tuple[tuple[float, float], ...]
    image_terms: tuple[tuple[float, float], ...]
    images: int

    @property
    def seed_part(self) -> float:
        return sum(value for value, _ in self.seed_terms)

    @property
    def image_part(self) -> float:
        return max(0.0, sum(value for value, _ in self.image_terms))

    @property
    def variance(self) -> float:
        return self.seed_part + self.image_part

    @property
    def df(self) -> float:
        """Satterthwaite's degrees of freedom of :attr:`variance`, with each seed term at its upper 75 % bound.

        Plain Satterthwaite df grow when a few seeds happen to spread little, exactly when the
        variance is underestimated, and so gave 7–9 % false "resolved" at 3 seeds when seeds and
        images both matter (docs/verdicts.md). Weighing each seed term at s²·ν / χ²₀.₂₅(ν) — the
        value its own ν df cannot rule out three times in four — keeps the df near the seeds' own when
        they may dominate. Only the df change; the variance stays the unbiased sum. inf when there
        is no df to lose.
        """
        seeds = [(value * df / chi2_quantile(DF_QUANTILE, df), df) for value, df in self.seed_terms]
        return _satterthwaite(seeds + (list(self.image_terms) if self.image_part > 0 else []))

    @property
    def seed_df(self) -> float:
        """Satterthwaite's degrees of freedom of the seed part alone."""
        return _satterthwaite(list(self.seed_terms))


def _satterthwaite(terms: list[tuple[float, float]]) -> float:
    total = sum(value for value, _ in terms)
    spread = sum(value * value / df for value, df in terms if df > 0 and not math.isinf(df))
    if total <= 0 or spread <= 0:
        return math.inf
    return total * total / spread


def _components(sides: list[np.ndarray]) -> _Components:
    """Variance components of Σ sides' grand means; each side is seeds × images, signed (first +, second −).

    Per side k with S_k ≥ 2 seeds: seed term var(row means, ddof=1) / S_k on S_k − 1 df, and the
    interaction mean square MS_k = Σ (x − row mean − column mean + grand mean)² / ((S_k − 1)(N − 1))
    estimating the run-to-run noise on single images. Image terms: var(δ, ddof=1) / N on N − 1 df,
    where δ_n = Σ_k column mean of side k, minus MS_k / (S_k · N) on (S_k − 1)(N − 1) df per side.
    A side with one seed has no seed term and no interaction to subtract (its seed noise is unknown).
    """
    images = sides[0].shape[1]
    difference = float(sum(side.mean(dtype=np.float64) for side in sides))
    seed_unit = 0.0
    seed_terms: list[tuple[float, float]] = []
    image_terms: list[tuple[float, float]] = []
    per_image = np.zeros(images)
    for side in sides:
        values = side.astype(np.float64)
        seeds = values.shape[0]
        rows = values.mean(axis=1)
        columns = values.mean(axis=0)
        per_image += columns
        if seeds < 2:
            continue
        unit = float(np.var(rows, ddof=1))
        seed_unit += unit
        seed_terms.append((unit / seeds, seeds - 1.0))
        if images > 1:
            residual = values - rows[:, None] - columns[None, :] + rows.mean()
            mean_square = float(np.square(residual).sum()) / ((seeds - 1) * (images - 1))
            image_terms.append((-mean_square / (seeds * images), (seeds - 1.0) * (images - 1.0)))
    if images > 1:
        image_terms.insert(0, (float(np.var(per_image, ddof=1)) / images, images - 1.0))
    return _Components(difference, seed_unit, tuple(seed_terms), tuple(image_terms), images)


def _planned(seed_unit: float, seeds: int, seed_df_ratio: float, image_part: float, images: int) -> float:
    """(t₉₇.₅ + t₈₀)² × Var at ``seeds`` per side and ``images``: the squared smallest effect resolved 4 times in 5."""
    terms = [(seed_unit / seeds, seed_df_ratio * (seeds - 1.0))]
    if image_part > 0:
        terms.append((image_part, images - 1.0))
    df = _satterthwaite(terms)
    quantile = t_quantile(0.975, df) + t_quantile(POWER, df)
    return quantile * quantile * sum(value for value, _ in terms)


def _smallest(works: Callable[[int], bool], low: int, cap: int) -> int:
    """The smallest n in [low, cap] for which ``works(n)`` (monotone) holds; cap + 1 when none does."""
    if not works(cap):
        return cap + 1
    if works(low):
        return low
    high = low
    while not works(high):
        low, high = high, min(cap, high * 2)
    while high - low > 1:
        middle = (low + high) // 2
        if works(middle):
            high = middle
        else:
            low = middle
    return high


def _plans(parts: _Components, seeds: int, min_effect: float) -> tuple[Range | None, Range | None]:
    """(seeds_needed, images_needed) for resolving ``min_effect`` 4 times in 5, as ranges (see :class:`Comparison`).

    The seed variance per seed, ``seed_unit``, is known only to within its 95 % chi-square interval
    on its Satterthwaite df; each end of the range plans with one end of that interval. The image
    variance per image is treated as known (thousands of images). Seeds are planned at the current
    images; when no number of seeds would do (the image part alone is too large), images are
    planned at the current seeds instead; when neither would, both are None.
    """
    target = min_effect * min_effect
    unit, df = parts.seed_unit, parts.seed_df
    if unit <= 0 or math.isinf(df):
        return None, None
    ratio = df / (seeds - 1.0)  # 1 paired, up to 2 for two unpaired sides of equal spread
    ends = (unit * df / chi2_quantile(0.975, df), unit * df / chi2_quantile(0.025, df))
    image_part, images = parts.image_part, parts.images
    limit = t_quantile(0.975, math.inf) + t_quantile(POWER, math.inf)
    image_unit = image_part * images

    def seeds_for(unit: float) -> int:
        return _smallest(lambda n: _planned(unit, n, ratio, image_part, images) <= target, seeds + 1, CAP)

    def images_for(unit: float) -> int:
        return _smallest(lambda n: _planned(unit, seeds, ratio, image_unit / n, n) <= target, images + 1, IMAGES_CAP)

    if limit * limit * image_part < target:
        return (seeds_for(ends[0]), seeds_for(ends[1])), None
    low, high = images_for(ends[0]), images_for(ends[1])
    return (None, None) if low > IMAGES_CAP else (None, (low, high))


def _judge(first: str, second: str, parts: _Components, seeds: int, images: int, paired: bool, basis: str,
           min_effect: float, split: str) -> Comparison:
    """The Comparison that the variance components imply: the t interval, the seed rule, and the plans."""
    difference = parts.difference
    variance, df = parts.variance, parts.df
    error = math.sqrt(variance)
    quantile = t_quantile(0.975, df)
    low, high = difference - quantile * error, difference + quantile * error
    p_value = 2.0 * (1.0 - t_cdf(abs(difference) / error, df)) if error > 0 else float(difference == 0)
    interval_excludes_zero = low > 0 or high < 0
    resolved = interval_excludes_zero and seeds >= MIN_SEEDS
    detectable = (quantile + t_quantile(POWER, df)) * error
    seeds_needed = images_needed = None
    if seeds >= MIN_SEEDS and not resolved and detectable > min_effect:
        seeds_needed, images_needed = _plans(parts, seeds, min_effect)
    return Comparison(first, second, difference, (low, high), error, None if math.isinf(df) else df, detectable,
                      min(1.0, max(0.0, p_value)), resolved, int(seeds), int(images), bool(paired), basis,
                      float(min_effect), seeds_needed, images_needed, split)


# --------------------------------------------------------------------------- comparing runs


def compare_runs(first: Mapping[int, ArrayLike], second: Mapping[int, ArrayLike], first_name: str, second_name: str,
                 *, min_effect: float = DEFAULT_MIN_EFFECT, split: str = "validation") -> Comparison:
    """Compare two candidates from their runs' per-image correctness on the same images.

    ``first`` and ``second`` map seed -> 1-D bool correctness (one entry per image, the same images
    in the same order everywhere; unequal lengths raise ValueError). Seeds that both sides ran are
    paired and only those are used; with no seed in common (or only one in common while both sides
    ran two or more, where pairing would throw the seed noise away) every seed of each side is used
    and the two sides' seed parts add (``paired`` False). ``split`` names the images in sentences.

    The variance of the difference is split into a seed part and an image part, each counted once
    (see the module docstring), and the 95 % interval is difference ± t × its square root, with t on
    Satterthwaite's degrees of freedom. Then:

    * ``resolved`` = the interval excludes 0 *and* each side has at least :data:`MIN_SEEDS` seeds;
    * ``p_value`` = the two-sided t p-value of the difference on the same df;
    * ``detectable`` = (t₉₇.₅ + t₈₀) × standard error: the true difference this budget would resolve
      four times in five;
    * ``seeds_needed`` / ``images_needed``: ranges planned for ``min_effect`` (see :class:`Comparison`).

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> a = {seed: rng.random(2000) < 0.80 for seed in range(3)}
    >>> b = {seed: rng.random(2000) < 0.70 for seed in range(3)}
    >>> verdict = compare_runs(a, b, "wide", "deep")
    >>> verdict.resolved, verdict.seeds, verdict.images, verdict.paired
    (True, 3, 2000, True)
    >>> round(verdict.difference, 4)
    0.099
    >>> compare_runs({0: a[0], 1: a[1]}, {0: b[0], 1: b[1]}, "wide", "deep").resolved  # two seeds: no verdict
    False
    """
    if not min_effect > 0:
        raise ValueError(f"min_effect must be a positive fraction of accuracy, got {min_effect}")
    runs_a = _runs(first, first_name)
    runs_b = _runs(second, second_name)
    lengths = {len(v) for v in runs_a.values()} | {len(v) for v in runs_b.values()}
    if len(lengths) != 1:
        raise ValueError(f"{first_name} and {second_name} were not scored on the same {split} images: "
                         f"their runs hold {sorted(lengths)} per-image records")
    images = lengths.pop()
    if images == 0:
        raise ValueError(f"{first_name} and {second_name} have no per-image records (zero {split} images)")

    common = sorted(set(runs_a) & set(runs_b))
    paired = bool(common) and (len(common) >= 2 or min(len(runs_a), len(runs_b)) == 1)
    if paired:
        seeds_a = seeds_b = common
    else:
        seeds_a, seeds_b = sorted(runs_a), sorted(runs_b)
    a = np.stack([runs_a[s] for s in seeds_a]).astype(np.int8)
    b = np.stack([runs_b[s] for s in seeds_b]).astype(np.int8)
    n_a, n_b = len(seeds_a), len(seeds_b)
    basis = _runs_basis(paired, n_a, n_b, len(set(runs_a) | set(runs_b)) - len(common), first_name, second_name)
    parts = _components([a - b] if paired else [a, -b])
    return _judge(first_name, second_name, parts, min(n_a, n_b), images, paired, basis, min_effect, split)


def _runs(runs: Mapping[int, ArrayLike], name: str) -> dict[int, np.ndarray]:
    if not isinstance(runs, Mapping):
        raise ValueError(f"{name}'s runs must map seed -> per-image correctness, got {type(runs).__name__}")
    if not runs:
        raise ValueError(f"{name} has no runs to compare")
    checked = {}
    for seed, correct in runs.items():
        array = np.asarray(correct)
        if array.ndim != 1:
            raise ValueError(f"{name}'s seed {seed}: per-image correctness must be 1-D, got shape {array.shape}")
        if array.dtype != np.bool_:
            if array.size and not np.isin(array, (0, 1)).all():
                raise ValueError(f"{name}'s seed {seed}: per-image correctness must hold only True/False or 0/1")
            array = array.astype(bool)
        checked[seed] = array
    return checked


def _runs_basis(paired: bool, n_a: int, n_b: int, left_out: int, first_name: str, second_name: str) -> str:
    """``basis`` for :func:`compare_runs`: the kind of interval, then "; "-separated details."""
    if paired:
        basis = _ONE_SEED if n_a == 1 else _BOTH
        if left_out:
            basis += (f"; paired on the {n_a} seed{'s' if n_a > 1 else ''} both ran, {left_out} "
                      f"seed{'s' if left_out > 1 else ''} run by one side only left out")
        return basis
    if n_a == 1 and n_b == 1:
        return f"{_ONE_SEED}; 1 seed each, unpaired (different seeds)"
    basis = f"{_BOTH}; {n_a} and {n_b} unpaired seeds (no seed in common)"
    if min(n_a, n_b) == 1:
        basis += f"; {first_name if n_a == 1 else second_name} has one seed, so its seed noise is missing"
    return basis


def accuracy_interval(runs: Mapping[int, ArrayLike], name: str = "candidate") -> Interval:
    """95 % interval of one candidate's mean accuracy over its seeds and images, as :func:`compare_runs` splits it.

    ``runs`` maps seed -> 1-D bool correctness on the same images. The seed part and the image part
    (the interaction counted once) add; t is on Satterthwaite's df. With one seed only the images'
    part is there, so the seed noise is not in the interval.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> low, high = accuracy_interval({seed: rng.random(4000) < 0.7 for seed in range(3)})
    >>> 0.67 < low < 0.70 < high < 0.73
    True
    """
    checked = _runs(runs, name)
    lengths = {len(correct) for correct in checked.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(f"{name}'s runs must each hold the same, non-zero number of per-image records, "
                         f"got {sorted(lengths)}")
    correct = np.stack([checked[seed] for seed in sorted(checked)]).astype(np.int8)
    parts = _components([correct])
    error = math.sqrt(parts.variance) * t_quantile(0.975, parts.df)
    return parts.difference - error, parts.difference + error


# --------------------------------------------------------------------------- comparing per-seed scores


def compare_scores(first: Sequence[float], second: Sequence[float], first_name: str, second_name: str,
                   *, min_effect: float = DEFAULT_MIN_EFFECT, split: str = "validation") -> Comparison:
    """Fallback when only per-seed accuracies exist (older studies): Welch's interval over seeds only.

    Each side's seed variance over its seed count adds; t is on Welch–Satterthwaite df; the image
    noise is not in the interval (``images`` 0). Fewer than two values on a side, or every value
    the same on both sides, leave no interval (``ci95``, ``detectable`` and ``p_value`` None,
    "cannot tell"); fewer than :data:`MIN_SEEDS` never resolve.

    >>> compare_scores([0.175, 0.175], [0.175, 0.175], "a", "b").sentence()
    'a vs b: +0.00 points: cannot tell: every seed scored the same, so the noise is unknown.'
    """
    if not min_effect > 0:
        raise ValueError(f"min_effect must be a positive fraction of accuracy, got {min_effect}")
    a = finite_scores(first, first_name, "seed")
    b = finite_scores(second, second_name, "seed")
    n_a, n_b = a.size, b.size
    basis = _SCORES if n_a == n_b else f"{_SCORES}; {n_a} and {n_b} seeds"  # the sentence reads the counts
    difference = float(a.mean() - b.mean())
    if n_a < 2 or n_b < 2 or (np.all(a == a[0]) and np.all(b == b[0])):
        return Comparison(first_name, second_name, difference, None, None, None, None, None, False,
                          int(min(n_a, n_b)), 0, False, basis, float(min_effect), None, None, split)
    parts = _components([a[:, None], -b[:, None]])
    return _judge(first_name, second_name, parts, min(n_a, n_b), 0, False, basis, min_effect, split)


def finite_scores(values: Sequence[float], name: str, kind: str) -> np.ndarray:
    """``name``'s ``kind`` scores (e.g. "seed") as a 1-D float array; ValueError when empty or not finite."""
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size == 0:
        raise ValueError(f"{name} has no {kind} scores")
    if not np.isfinite(array).all():
        raise ValueError(f"{name}'s {kind} scores must be finite numbers, got {list(array)!r}")
    return array

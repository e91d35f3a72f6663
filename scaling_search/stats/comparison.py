"""Whether one candidate really beat another: a paired bootstrap over seeds and validation images.

A study trains each candidate with a few seeds and scores every run on the same, fixed validation
set. Two sources of noise sit between the accuracy a report prints and the accuracy the candidate
would have on new data: *seed noise* (another seed trains a different network) and *validation-set
noise* (another draw of validation images scores it differently). A t-test on the per-seed
accuracies sees only the first, and with two or three seeds it has almost no power. This module
keeps each run's per-image correctness (:func:`~scaling_search.training.correctness.pack_correctness`
stores it as short text) and
compares two candidates with a bootstrap that resamples both: each replicate draws the seeds with
replacement and, independently, the validation images with replacement, and recomputes
"accuracy of the first minus accuracy of the second". The comparison is *paired* in two ways:

* the same seed fixes the same data order, so when both candidates ran
  seed 3 the two seed-3 runs move together (a replicate that draws seed 3 draws it for both);
* both candidates are scored on the same images, so one image resample is shared by both sides.
  An image both get right (or both get wrong) adds nothing to the difference, which is why pairing
  gives far narrower intervals than comparing two independent accuracies.

Three numbers come out (see :class:`Comparison`):

* the *95 % interval* of the difference (the 2.5th and 97.5th percentiles of the replicates). The
  comparison is *resolved* only when it excludes 0.
* the *detectable* difference: the smallest true difference that this many seeds and images would
  resolve four times out of five (80 % power at a 5 % two-sided level), that is
  ``(1.959964 + 0.841621) × bootstrap standard error``. It says how fine a comparison the study
  could make at all.
* how many seeds per candidate (or, when seeds cannot help, how many validation images, or both)
  would make the detectable difference as small as the difference observed.

"Not resolved" is **not** "tied": it means this budget cannot tell, and two candidates with a real
gap of one point are routinely "not resolved" with two seeds. Reports should say so, and say what
budget would resolve it.

Small-sample caveats, stated once here. Resampling seeds from two or three values underestimates
their spread by the factor (S − 1)/S; the seed part of each replicate is therefore rescaled by
sqrt(S / (S − 1)) around its mean (the "rescaled bootstrap"), which makes the seed part of the
bootstrap variance the usual unbiased estimate. That corrects the variance, not the shape: with two
seeds the seed noise is still known only roughly, and the interval can be narrower than a
t-interval on one degree of freedom would be. With one seed per candidate the seed noise is not in
the interval at all, and the sentence says so. In the other direction, resampling seeds and images
both counts the run-to-run noise on single images (a seed × image interaction) more than once, so
when that noise dominates, as it does between two similar networks, the interval is wider than
the true uncertainty (in simulation by a factor of about 1.7 in standard error), and there "not
resolved" errs on the cautious side.

Only NumPy is used (SciPy's t-test printed "Precision loss occurred in moment calculation" warnings
when every seed scored the same).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

Z_DETECT = 1.959964 + 0.841621
"""z for a 5 % two-sided test plus z for 80 % power: detectable = Z_DETECT × standard error."""

CAP = 10_000
"""Largest seed count :attr:`Comparison.seeds_needed` states; a larger need is stored as CAP + 1."""

IMAGES_CAP = 10_000_000
"""Largest image count :attr:`Comparison.images_needed` states; a larger need is stored as IMAGES_CAP + 1."""

_CELLS_PER_CHUNK = 1 << 22
"""Bound on the replicate × image (or replicate × group) cells held at once: about 32 MB of float64."""

_EXACT_DRAWS = 40_000_000
"""Most random draws spent on resampling images exactly (about a second); see :func:`_replicates`."""

_ONE_SEED = "validation images only (one seed)"
_BOTH = "seeds and validation images"
_SCORES = "seeds only (no per-image records)"


# --------------------------------------------------------------------------- the verdict


@dataclass(frozen=True)
class Comparison:
    """How accuracy(first) − accuracy(second) came out, and how sure a study of this size can be about it.

    Differences, intervals and ``detectable`` are fractions of the validation set (0.014 is 1.4 points).
    ``seeds`` is the number of seeds per side that went in (the paired count when paired; the smaller
    side's count when unpaired with unequal counts, which ``basis`` then spells out). ``seeds_needed``
    above :data:`CAP` (stored as ``CAP + 1``) and ``images_needed`` above :data:`IMAGES_CAP` mean "more
    than" the cap. Usually at most one of the two is set (more seeds, or else more images); both are
    set when only growing seeds and images together would resolve the difference (see
    :func:`compare_runs`).

    Example: an interval that holds zero is "not resolved", never "tied"

        >>> from scaling_search.stats.comparison import Comparison
        >>> found = Comparison("a", "b", 0.004, (-0.006, 0.014), 0.019, 0.43, False, 2, 5000, True,
        ...                    "seeds and validation images", 12, None)
        >>> found.resolved, "not resolved at this budget" in found.sentence(), "tied" in found.sentence()
        (False, True, False)
    """

    first: str
    second: str
    difference: float
    ci95: tuple[float, float] | None
    detectable: float | None
    p_value: float | None
    resolved: bool
    seeds: int
    images: int
    paired: bool
    basis: str
    seeds_needed: int | None
    images_needed: int | None

    def sentence(self) -> str:
        """One plain-English sentence for reports; never says "tied".

        >>> Comparison("w", "r", 0.014, (0.003, 0.025), 0.011, 0.01, True, 2, 5000, True,
        ...            "seeds and validation images", None, None).sentence()
        'w vs r: +1.40 points (95 % interval +0.30 to +2.50; 2 paired seeds × 5000 validation images): resolved.'
        """
        head = f"{self.first} vs {self.second}: {_points(self.difference)} points"
        if self.ci95 is None:
            if self.seeds < 2:
                why = "one seed, the seed noise is unknown (run 2 or more seeds per candidate)"
            else:
                why = "every seed scored the same, so the noise is unknown"
            return f"{head}: cannot tell: {why}."
        low, high = self.ci95
        head = f"{head} (95 % interval {_points(low)} to {_points(high)}; {self._budget()})"
        one_seed = self.seeds < 2
        if self.resolved:
            if one_seed:
                return (f"{head}: resolved on these validation images, but seed-to-seed noise is not in the interval "
                        "(one seed); run 2 or more seeds per candidate to confirm.")
            return f"{head}: resolved."
        verdict = f"{head}: not resolved at this budget"
        if self.difference == 0 and self.detectable == 0:
            return (f"{verdict} — both made the same predictions on every validation image in every seed, "
                    "so there is no difference to resolve.")
        verdict += f" — the smallest difference it could detect is {_short_points(self.detectable or 0.0)} points"
        if one_seed:
            verdict += " even without seed-to-seed noise, which this interval leaves out (one seed)"
            if self.images_needed is not None and self.difference != 0:
                at_least = _count(self.images_needed, IMAGES_CAP)
                verdict += (f"; run 2 or more seeds per candidate, and at least {at_least} validation images "
                            "would be needed for a difference this size")
            else:
                verdict += "; run 2 or more seeds per candidate"
            return verdict + "."
        if self.difference == 0:
            return verdict + "; the two scored exactly the same here, so no budget would resolve this difference."
        seeds = None if self.seeds_needed is None else _count(self.seeds_needed, CAP)
        images = None if self.images_needed is None else _count(self.images_needed, IMAGES_CAP)
        if seeds and images:
            return (verdict + "; neither more seeds nor more validation images alone would resolve a difference this "
                    f"size, but about {seeds} seeds per candidate and {images} validation images together would.")
        if seeds:
            return verdict + f"; about {seeds} seeds per candidate would resolve a difference this size."
        if images:
            return (verdict + "; more seeds alone would not (the validation set's own noise is larger than the "
                    f"difference), but about {images} validation images would.")
        return verdict + "."

    def _budget(self) -> str:
        """The seeds and images behind the interval, with what ``basis`` adds after its first "; "."""
        extras = self.basis.split("; ")[1:]
        if self.images == 0:
            seeds = extras.pop(0) if extras else f"{self.seeds} seed{'s' if self.seeds != 1 else ''} per candidate"
            budget = f"{seeds}, per-seed accuracies only"
        elif self.paired:
            seeds = f"{self.seeds} paired seeds" if self.seeds > 1 else "1 seed"
            budget = f"{seeds} × {self.images} validation images"
        else:
            seeds = extras.pop(0) if extras else f"{self.seeds} unpaired seed{'s' if self.seeds != 1 else ''}"
            budget = f"{seeds} × {self.images} validation images"
        return "; ".join([budget, *extras])

    def to_dict(self) -> dict[str, object]:
        """Every field, JSON-ready (``ci95`` as a two-item list or None).

        >>> Comparison("w", "r", 0.0, None, None, None, False, 1, 0, False, "seeds only (no per-image records)",
        ...            None, None).to_dict()["ci95"] is None
        True
        """
        data = asdict(self)
        data["ci95"] = None if self.ci95 is None else [float(self.ci95[0]), float(self.ci95[1])]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Comparison:
        """The inverse of :meth:`to_dict`; keys that are not fields (a record's ``sentence`` …) are left out.

        >>> found = Comparison("w", "r", 0.01, (0.0, 0.02), 0.01, 0.05, True, 2, 10, True, "seeds", None, None)
        >>> Comparison.from_dict(found.to_dict() | {"sentence": found.sentence()}) == found
        True
        """
        values = {f.name: data[f.name] for f in fields(cls)}
        interval = values["ci95"]
        values["ci95"] = None if interval is None else (float(interval[0]), float(interval[1]))
        return cls(**values)


def _points(fraction: float) -> str:
    return f"{round(fraction * 100, 2) + 0.0:+.2f}".replace("-", "−")  # + 0.0: no "−0.00"


def _short_points(fraction: float) -> str:
    points = abs(fraction) * 100
    return f"{points:.1f}" if points >= 0.095 else f"{points:.2g}"


def _count(value: int, cap: int) -> str:
    return f"more than {cap:,}" if value > cap else str(value)


# --------------------------------------------------------------------------- comparing runs


def compare_runs(first: Mapping[int, ArrayLike], second: Mapping[int, ArrayLike], first_name: str, second_name: str,
                 *, resamples: int = 4000, random_seed: int = 0) -> Comparison:
    """Compare two candidates from their runs' per-image correctness on the same validation images.

    ``first`` and ``second`` map seed -> 1-D bool correctness (one entry per validation image, the same
    images in the same order everywhere; unequal lengths raise ValueError). Seeds that both sides ran
    are paired and only those are used; with no seed in common (or only one in common while both
    sides ran two or more, where pairing would throw the seed noise away) every seed of each side is
    used and each side's seeds are resampled on their own (``paired`` False).

    Each of ``resamples`` bootstrap replicates draws S seeds with replacement (paired seeds together)
    and N images with replacement (one draw for both sides), and computes the mean accuracy of the
    first minus that of the second over the drawn seeds and images, with each side's seed part
    rescaled by sqrt(S / (S − 1)) about its mean (see the module docstring). With one seed only the
    images are resampled. Then:

    * ``ci95`` = 2.5th and 97.5th percentiles of the replicates; ``resolved`` = it excludes 0;
    * ``p_value`` = min(1, 2 · (min(#{replicates ≤ 0}, #{replicates ≥ 0}) + 1) / (resamples + 1)),
      so identical inputs give 1 and nothing gives less than 2 / (resamples + 1);
    * ``detectable`` = (1.959964 + 0.841621) · standard deviation of the replicates;
    * the variance splits into a seed part and an image part, computed exactly (they are what
      resampling only seeds, or only images, would converge to). Paired, with per-seed differences
      d_s and per-image differences δ_n averaged over seeds: v_seed = var(d, ddof=1) / S and
      v_image = var(δ, ddof=0) / N. Unpaired: v_seed = var(a, ddof=1) / S1 + var(b, ddof=1) / S2
      over the per-seed accuracies, and δ_n = mean first-side correctness − mean second-side.
      With m = (|difference| / 2.801585)² and u = S · v_seed (paired; var(a) + var(b) unpaired):
      ``seeds_needed`` = the smallest S' > max(S1, S2) with u / S' + v_image ≤ m, that is
      ceil(u / (m − v_image)), when m > v_image; otherwise None and
      ``images_needed`` = the smallest N' > N with v_seed + v_image · N / N' ≤ m, that is
      ceil(v_image · N / (m − v_seed)), when m > v_seed. When neither alone would do (m ≤ v_image
      and m ≤ v_seed), both are set, to grow together by k = (v_seed + v_image) / m:
      ``seeds_needed`` = ceil(k · u / v_seed) and ``images_needed`` = ceil(k · N). With one seed on a side
      the seed noise is unknown: ``seeds_needed`` is None and ``images_needed`` takes v_seed = 0, a
      lower bound. Both are None when resolved or when the difference is 0; they are capped at
      :data:`CAP` + 1 and :data:`IMAGES_CAP` + 1 ("more than").

    The image draw is exact (a multinomial over groups of images with the same pattern of
    correctness across runs). Only when that would take more than 40 million random draws (many
    seeds whose runs disagree on many images) is each replicate's image part drawn instead from the
    normal law with the same mean and covariance, which at that many images is indistinguishable.
    The result is deterministic for a given ``random_seed``.

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> a = {seed: rng.random(2000) < 0.80 for seed in range(3)}
    >>> b = {seed: rng.random(2000) < 0.70 for seed in range(3)}
    >>> verdict = compare_runs(a, b, "wide", "deep", resamples=1000)
    >>> verdict.resolved, verdict.seeds, verdict.images, verdict.paired
    (True, 3, 2000, True)
    >>> round(verdict.difference, 4)
    0.099
    >>> verdict.sentence()
    'wide vs deep: +9.90 points (95 % interval +... to +...; 3 paired seeds × 2000 validation images): resolved.'
    """
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    runs_a = _runs(first, first_name)
    runs_b = _runs(second, second_name)
    lengths = {len(v) for v in runs_a.values()} | {len(v) for v in runs_b.values()}
    if len(lengths) != 1:
        raise ValueError(f"{first_name} and {second_name} were not scored on the same validation images: "
                         f"their runs hold {sorted(lengths)} per-image records")
    images = lengths.pop()
    if images == 0:
        raise ValueError(f"{first_name} and {second_name} have no per-image records (zero validation images)")

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

    difference = float(a.sum(dtype=np.int64) / (n_a * images) - b.sum(dtype=np.int64) / (n_b * images))
    rng = np.random.default_rng(random_seed)
    if paired:
        replicates = _paired_replicates(a - b, resamples, rng)
        per_seed = (a - b).mean(axis=1, dtype=np.float64)
        seed_unit = float(np.var(per_seed, ddof=1)) if n_a > 1 else 0.0
        var_seed = seed_unit / n_a
    else:
        replicates = _unpaired_replicates(a, b, resamples, rng)
        acc_a, acc_b = a.mean(axis=1, dtype=np.float64), b.mean(axis=1, dtype=np.float64)
        var_a = float(np.var(acc_a, ddof=1)) if n_a > 1 else 0.0
        var_b = float(np.var(acc_b, ddof=1)) if n_b > 1 else 0.0
        seed_unit = var_a + var_b
        var_seed = var_a / n_a + var_b / n_b
    per_image = a.mean(axis=0, dtype=np.float64) - b.mean(axis=0, dtype=np.float64)
    var_image = float(np.var(per_image)) / images
    return _verdict(first_name, second_name, difference, replicates, min(n_a, n_b), images, paired, basis,
                    seed_unit=seed_unit, var_seed=var_seed, var_image=var_image, most_seeds=max(n_a, n_b))


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


def _verdict(first: str, second: str, difference: float, replicates: np.ndarray, seeds: int, images: int,
             paired: bool, basis: str, *, seed_unit: float, var_seed: float, var_image: float,
             most_seeds: int) -> Comparison:
    """The Comparison that ``replicates`` (the bootstrap differences) and the variance parts imply."""
    resamples = replicates.size
    low, high = (float(q) for q in np.quantile(replicates, [0.025, 0.975]))
    resolved = low > 0 or high < 0
    below = int(np.count_nonzero(replicates <= 0))
    above = int(np.count_nonzero(replicates >= 0))
    p_value = min(1.0, 2 * (min(below, above) + 1) / (resamples + 1))
    detectable = Z_DETECT * float(np.std(replicates, ddof=1)) if resamples > 1 else 0.0
    seeds_needed = images_needed = None
    if not resolved and difference != 0:
        target = (abs(difference) / Z_DETECT) ** 2
        if seeds < 2:  # the seed noise is unknown: images alone, as a lower bound
            if var_image > 0:
                images_needed = _needed(var_image * images / target, images, IMAGES_CAP)
        elif target > var_image:
            seeds_needed = _needed(seed_unit / (target - var_image), most_seeds, CAP)
        elif target > var_seed:
            images_needed = _needed(var_image * images / (target - var_seed), images, IMAGES_CAP)
        else:  # neither alone: grow both by the factor k that brings the whole variance down to the target
            grow = (var_seed + var_image) / target
            seeds_needed = _needed(grow * seed_unit / var_seed, most_seeds, CAP)
            images_needed = _needed(grow * images, images, IMAGES_CAP)
    return Comparison(first, second, float(difference), (low, high), float(detectable), float(p_value), resolved,
                      int(seeds), int(images), bool(paired), basis, seeds_needed, images_needed)


def _needed(exact: float, have: int, cap: int) -> int:
    """ceil(exact), more than ``have`` (an unresolved comparison needs more than it had), capped at cap + 1."""
    if not math.isfinite(exact) or exact > cap:
        return cap + 1
    return min(max(math.ceil(exact - 1e-9), have + 1), cap + 1)


# --------------------------------------------------------------------------- the bootstrap


def _paired_replicates(diff: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap differences for paired seeds; ``diff`` is S × N of per-image differences (−1, 0, 1)."""
    images = diff.shape[1]
    # Only each image's pattern of differences across seeds matters; images where every seed's two
    # runs agree (pattern all 0) change nothing but the draw count.
    keys = _pattern_keys(diff + 1, 3)
    return _replicates([diff], keys, images, resamples, rng)


def _unpaired_replicates(a: np.ndarray, b: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap differences for two independent sets of seeds (S1 × N and S2 × N correctness)."""
    images = a.shape[1]
    keys = _pattern_keys(np.vstack([a, b]), 2)
    return _replicates([a, -b], keys, images, resamples, rng)


def _pattern_keys(values: np.ndarray, base: int) -> np.ndarray | None:
    """One integer per image naming its column of ``values`` (entries in [0, base)); None when too many rows."""
    rows = values.shape[0]
    if rows * math.log2(base) > 62:
        return None
    weights = (base ** np.arange(rows, dtype=np.int64))[:, None]
    return (values.astype(np.int64) * weights).sum(axis=0)


def _replicates(sides: list[np.ndarray], keys: np.ndarray | None, images: int, resamples: int,
                rng: np.random.Generator) -> np.ndarray:
    """``resamples`` bootstrap differences: Σ over sides of the rescaled, seed-resampled mean of image-resampled parts.

    ``sides`` holds one signed matrix (seeds × images) per independently resampled set of seeds:
    paired, one matrix of per-image differences; unpaired, the first's correctness and minus the
    second's. A replicate depends on the image draw only through how many drawn images fall in
    each group of identical columns, so images are grouped by column (``keys`` names each column;
    None groups them the slow way), and all-zero columns, which add nothing, only take up draws.
    The group counts are drawn exactly (a multinomial over groups, or image indices when there are
    many groups); only when that would take more than :data:`_EXACT_DRAWS` draws is the image part
    of each replicate drawn from the normal law with its exact mean and covariance instead.
    """
    stacked = np.vstack(sides)
    if keys is None:
        _, first_of, inverse, sizes = np.unique(stacked, axis=1, return_index=True, return_inverse=True,
                                                return_counts=True)
    else:
        _, first_of, inverse, sizes = np.unique(keys, return_index=True, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    patterns = stacked[:, first_of]
    informative = patterns.any(axis=0)
    if not informative.any():
        return np.zeros(resamples)  # every run's part is 0 on every image: so is every replicate
    patterns = patterns[:, informative].astype(np.float64)  # rows × G
    sizes = sizes[informative]
    groups = patterns.shape[1]
    useful = int(sizes.sum())  # images outside the all-zero columns
    by_groups = groups <= 64 or groups * 8 <= useful  # ~G binomial draws per replicate vs ~useful cheap ones
    exact = resamples * (8 * groups if by_groups else useful) <= _EXACT_DRAWS
    if exact and not by_groups:
        relabel = np.full(informative.size, -1, dtype=np.int32)
        relabel[informative] = np.arange(groups, dtype=np.int32)
        group_of = relabel[inverse]
        group_of = group_of[group_of >= 0]  # the group of each informative image, in image order
    if not exact:
        mean = patterns @ sizes / images
        covariance = (patterns * sizes) @ patterns.T / images - np.outer(mean, mean)
        values, vectors = np.linalg.eigh(covariance)
        root = vectors * np.sqrt(np.clip(values, 0.0, None)) / math.sqrt(images)
    width = groups if by_groups or not exact else max(groups, useful)
    chunk = max(1, min(resamples, _CELLS_PER_CHUNK // width))
    probabilities = np.append(sizes / images, (images - useful) / images)
    bounds = np.cumsum([0] + [side.shape[0] for side in sides])
    scales = [math.sqrt(side.shape[0] / (side.shape[0] - 1)) if side.shape[0] > 1 else 1.0 for side in sides]
    out = np.empty(resamples)
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        if not exact:
            parts = mean + rng.standard_normal((size, len(mean))) @ root.T
        else:
            if by_groups:
                counts = rng.multinomial(images, probabilities, size=size)[:, :groups]
            else:
                drawn = rng.binomial(images, useful / images, size=size)
                labels = group_of[rng.integers(0, useful, size=int(drawn.sum()), dtype=np.int32)]
                labels += np.repeat(np.arange(size, dtype=np.int32) * groups, drawn)
                counts = np.bincount(labels, minlength=size * groups).reshape(size, groups)
            parts = counts.astype(np.float64) @ patterns.T / images  # size × rows: each run's part
        total = np.zeros(size)
        for side, scale in enumerate(scales):
            part = parts[:, bounds[side]:bounds[side + 1]]
            n_seeds = part.shape[1]
            centre = part.mean(axis=1)
            total += centre
            if n_seeds > 1:
                picks = rng.integers(0, n_seeds, size=(size, n_seeds))
                picks += np.arange(size)[:, None] * n_seeds
                weights = np.bincount(picks.ravel(), minlength=size * n_seeds).reshape(size, n_seeds) / n_seeds
                total += scale * (weights * (part - centre[:, None])).sum(axis=1)
        out[start:start + size] = total
    return out


def accuracy_interval(runs: Mapping[int, ArrayLike], name: str = "candidate", *, resamples: int = 4000,
                      random_seed: int = 0) -> tuple[float, float]:
    """95 % interval of one candidate's mean accuracy over its seeds, by the bootstrap of :func:`compare_runs`.

    ``runs`` maps seed -> 1-D bool correctness on the same validation images. Each replicate draws
    the seeds (rescaled by sqrt(S / (S − 1)) about their mean) and, independently, the images, with
    replacement; with one seed only the images are drawn, so the seed noise is not in the interval.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> low, high = accuracy_interval({seed: rng.random(4000) < 0.7 for seed in range(3)}, resamples=1000)
    >>> 0.67 < low < 0.70 < high < 0.73
    True
    """
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    checked = _runs(runs, name)
    lengths = {len(correct) for correct in checked.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(f"{name}'s runs must each hold the same, non-zero number of per-image records, "
                         f"got {sorted(lengths)}")
    correct = np.stack([checked[seed] for seed in sorted(checked)]).astype(np.int8)
    replicates = _replicates([correct], _pattern_keys(correct, 2), correct.shape[1], resamples,
                             np.random.default_rng(random_seed))
    low, high = np.quantile(replicates, [0.025, 0.975])
    return float(low), float(high)


# --------------------------------------------------------------------------- comparing per-seed scores


def compare_scores(first: Sequence[float], second: Sequence[float], first_name: str, second_name: str,
                   *, resamples: int = 4000, random_seed: int = 0) -> Comparison:
    """Fallback when only per-seed accuracies exist (older studies): a bootstrap over seeds only.

    Each side's values are resampled on their own (unpaired), with the seed part rescaled by
    sqrt(S / (S − 1)) as in :func:`compare_runs`; the interval, p-value, detectable difference and
    ``seeds_needed`` (v_image = 0) follow the same formulas. Fewer than two values on a side, or
    every value the same on both sides, leave no interval (``ci95``, ``detectable`` and ``p_value``
    None, "cannot tell"). ``images`` is 0.

    >>> compare_scores([0.175, 0.175], [0.175, 0.175], "a", "b").sentence()
    'a vs b: +0.00 points: cannot tell: every seed scored the same, so the noise is unknown.'
    """
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    a = finite_scores(first, first_name, "seed")
    b = finite_scores(second, second_name, "seed")
    n_a, n_b = a.size, b.size
    basis = _SCORES if n_a == n_b else f"{_SCORES}; {n_a} and {n_b} seeds"  # the sentence reads the counts
    difference = float(a.mean() - b.mean())
    if n_a < 2 or n_b < 2 or (np.all(a == a[0]) and np.all(b == b[0])):
        return Comparison(first_name, second_name, difference, None, None, None, False, int(min(n_a, n_b)), 0, False,
                          basis, None, None)
    rng = np.random.default_rng(random_seed)
    out = np.full(resamples, difference)
    chunk = max(1, _CELLS_PER_CHUNK // max(n_a, n_b))
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        for sign, values in ((1.0, a), (-1.0, b)):
            if np.all(values == values[0]):
                continue  # no spread: nothing to resample (and no rounding noise from the mean)
            picks = rng.integers(0, values.size, size=(size, values.size))
            deviations = values - values.mean()
            scale = math.sqrt(values.size / (values.size - 1))
            out[start:start + size] += sign * scale * deviations[picks].mean(axis=1)
    var_a, var_b = float(np.var(a, ddof=1)), float(np.var(b, ddof=1))
    return _verdict(first_name, second_name, difference, out, min(n_a, n_b), 0, False, basis,
                    seed_unit=var_a + var_b, var_seed=var_a / n_a + var_b / n_b, var_image=0.0,
                    most_seeds=max(n_a, n_b))


def finite_scores(values: Sequence[float], name: str, kind: str) -> np.ndarray:
    """``name``'s ``kind`` scores (e.g. "seed") as a 1-D float array; ValueError when empty or not finite."""
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size == 0:
        raise ValueError(f"{name} has no {kind} scores")
    if not np.isfinite(array).all():
        raise ValueError(f"{name}'s {kind} scores must be finite numbers, got {list(array)!r}")
    return array

"""How often the verdicts are wrong: simulated studies with a known truth through ``compare_runs``.

Prints, for each regime of :data:`scaling_search.stats.simulation.REGIMES` and each number of seeds,
the share of null studies (no true difference) that ``compare_runs`` calls "resolved" (promised: at
most 5 %), then the share of studies with a true 3-point difference it resolves (power), and the
selection effect: with three equal candidates and the best picked on the validation split, how often
"the winner beats the third" is resolved when judged on the same validation images, and when judged
on the test split (new images). docs/verdicts.md records its output.

    PYTHONPATH=. python benchmarks/interval_calibration.py --studies 1000
    PYTHONPATH=. python benchmarks/interval_calibration.py --studies 300 --json
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

from scaling_search.stats.comparison import compare_runs
from scaling_search.stats.simulation import REGIMES, shift_for, simulate_pair, simulate_study


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=1000, help="simulated studies per setting (default 1000)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 5, 10], help="seeds per candidate")
    parser.add_argument("--random-seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    return parser.parse_args()


def share(hits: int, studies: int) -> dict[str, float]:
    rate = hits / studies
    return {"rate": rate, "mc_se": math.sqrt(max(rate * (1 - rate), 1e-12) / studies)}


def null_and_power(args: argparse.Namespace, rng: np.random.Generator) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for name, regime in REGIMES.items():
        advantage = shift_for(regime, 0.03)
        for seeds in args.seeds:
            verdicts = [compare_runs(*simulate_pair(rng, regime, seeds), "a", "b") for _ in range(args.studies)]
            nulls = sum(verdict.resolved for verdict in verdicts)
            excluded = sum(verdict.ci95 is not None and (verdict.ci95[0] > 0 or verdict.ci95[1] < 0)
                           for verdict in verdicts)
            found = sum(compare_runs(*simulate_pair(rng, regime, seeds, advantage), "a", "b").resolved
                        for _ in range(args.studies))
            rows.append({"regime": name, "seeds": seeds, "false_resolved": share(nulls, args.studies),
                         "null_interval_excludes_0": share(excluded, args.studies),
                         "power_3_points": share(found, args.studies)})
    return rows


def selection(args: argparse.Namespace, rng: np.random.Generator, seeds: int = 3) -> list[dict[str, object]]:
    """Three equal candidates; the best by validation mean 'beats' the last one, judged on validation or on test.

    Each run is one trained network scored on both splits, so the test split removes the luck of the
    validation images that picked the winner, not the luck of its seeds.
    """
    rows: list[dict[str, object]] = []
    for name in ("seed-dominated", "image-dominated"):
        regime = REGIMES[name]
        on_validation = on_test = 0
        for _ in range(args.studies):
            validation, test = simulate_study(rng, regime, seeds, (0.0, 0.0, 0.0), splits=2)
            means = [np.mean([run.mean() for run in runs.values()]) for runs in validation]
            order = np.argsort(means)[::-1]
            best, last = int(order[0]), int(order[-1])
            judged = compare_runs(validation[best], validation[last], "best", "last")
            on_validation += judged.resolved and judged.difference > 0
            judged = compare_runs(test[best], test[last], "best", "last", split="test")
            on_test += judged.resolved and judged.difference > 0
        rows.append({"regime": name, "seeds": seeds, "candidates": 3,
                     "winner_beats_last_on_validation": share(on_validation, args.studies),
                     "winner_beats_last_on_test": share(on_test, args.studies)})
    return rows


def main() -> None:
    args = parse_args()
    rng = np.random.default_rng(args.random_seed)
    started = time.perf_counter()
    rows = null_and_power(args, rng)
    picked = selection(args, rng)
    elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps({"studies": args.studies, "rows": rows, "selection": picked, "seconds": elapsed}, indent=2))
        return
    print(f"{args.studies} simulated studies per setting; false 'resolved' promised <= 5 %")
    print(f"{'regime':<16} {'seeds':>5} {'false resolved':>15} {'interval excl. 0':>17} {'power (3 points)':>17}")
    for row in rows:
        null, wide, power = row["false_resolved"], row["null_interval_excludes_0"], row["power_3_points"]
        assert isinstance(null, dict) and isinstance(wide, dict) and isinstance(power, dict)
        print(f"{row['regime']:<16} {row['seeds']:>5} {null['rate']:>9.1%} ±{null['mc_se']:.1%} "
              f"{wide['rate']:>10.1%} ±{wide['mc_se']:.1%} {power['rate']:>10.1%} ±{power['mc_se']:.1%}")
    for row in picked:
        validation, test = row["winner_beats_last_on_validation"], row["winner_beats_last_on_test"]
        assert isinstance(validation, dict) and isinstance(test, dict)
        print(f"{row['regime']}: the best of 3 equal candidates (3 seeds) 'resolved' better than the last, judged on "
              f"the validation images that picked it {validation['rate']:.1%} ±{validation['mc_se']:.1%}, on the "
              f"test split {test['rate']:.1%} ±{test['mc_se']:.1%} (one-sided; 2.5 % is honest)")
    print(f"{elapsed:.0f} s")


if __name__ == "__main__":
    main()

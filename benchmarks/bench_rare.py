"""Importance sampling against crude Monte Carlo on a slip rate known by arithmetic.

Reviewers approve with probability p = 0.001 whatever the report, and the two-person rule
makes another such reviewer, chosen by the system, agree: a protected trial slips with
probability p^2 = 1e-6. The benchmark times importance sampling to a 95% interval of
+-20% (relative), measures crude Monte Carlo's rate of protected trials in the same run,
and works out how long crude would need for the same precision: (1.96 / 0.2)^2 (1 - r) / r
trials. Aim: under 60 s, and at least 1,000 times less work than crude.

    python benchmarks/bench_rare.py [--p 0.001] [--pilot 50] [--crude-seconds 20] [--jobs N]
"""

from __future__ import annotations

import argparse
import time

from harness.backends.replications import default_jobs, run_replications
from harness.estimate.importance import estimate_importance, slip_through
from harness.experiment.model import validate
from harness.world.environment import Environment

TARGET = 0.2
Z95 = 1.959963984540054


def experiment(p: float, pilot: int, seed: int = 1):
    return validate(
        {
            "experiment": {"name": "rare", "seed": seed, "shift": "2h"},
            "population": {
                "accounts": 300,
                "protected": 5,
                "reports_per_hour": 120,
                "protected_report_share": 0.5,
            },
            "operators": [{"persona": "random_approver", "count": 3, "approve_probability": p}],
            "safeguards": {"two_person_rule": {"enabled": True}},
            "estimate": {"target_relative_error": TARGET, "pilot_replications": pilot},
        },
        "bench_rare",
    )


def crude_rate(env: Environment, seconds: float, jobs: int) -> tuple[float, int, int, int]:
    """Protected trials per second of crude Monte Carlo, measured for about `seconds`:
    (rate, replications, trials, slips)."""
    replications, trials, slips, spent, batch = 0, 0, 0, 0.0, 20 * jobs
    while spent < seconds:
        start = time.perf_counter()
        done = run_replications(env, batch, first=replications, jobs=jobs, keep_histories=0)
        spent += time.perf_counter() - start
        replications += batch
        trials += sum(m.trials for m in done.metrics.values())
        slips += sum(m.slips for m in done.metrics.values())
    return trials / spent, replications, trials, slips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--p", type=float, default=0.001, help="each reviewer's approval")
    parser.add_argument("--pilot", type=int, default=50, help="estimate.pilot_replications")
    parser.add_argument("--crude-seconds", type=float, default=20.0)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    args = parser.parse_args()
    truth = args.p**2
    env = Environment.build(experiment(args.p, args.pilot))

    start = time.perf_counter()
    run = estimate_importance(env, jobs=args.jobs)
    seconds = time.perf_counter() - start
    slip = slip_through(run)
    low, high = slip["ci95"]
    print(f"true slip-through p^2 = {truth:.3g} (p = {args.p:g}), {args.jobs} jobs")
    print(
        f"importance sampling: {slip['estimate']:.4g} [{low:.4g}, {high:.4g}], "
        f"+-{100 * slip['relative_error']:.1f}%, covers the truth: {low <= truth <= high}; "
        f"{run.replications:,} replications ({len(run.untilted):,} untilted, "
        f"{sum(r.replications for r in run.pilot):,} pilot, {run.main:,} main) "
        f"in {seconds:.1f} s ({run.stopped})"
    )

    rate, replications, trials, slips = crude_rate(env, args.crude_seconds, args.jobs)
    needed = (Z95 / TARGET) ** 2 * (1 - truth) / truth
    crude_seconds = needed / rate
    per_replication = trials / replications
    print(
        f"crude Monte Carlo: {rate:,.0f} protected trials/s ({replications:,} replications, "
        f"{trials:,} trials, {slips} slips); +-20% needs {needed:.3g} trials, "
        f"{needed / per_replication:.3g} replications, {crude_seconds / 3600:.1f} h"
    )
    print(
        f"importance sampling is {crude_seconds / seconds:,.0f}x faster and does "
        f"{needed / per_replication / run.replications:,.0f}x fewer replications"
    )


if __name__ == "__main__":
    main()

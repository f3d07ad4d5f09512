"""Simulated operator decisions per second for the incident experiment.

Prints the harness's rate in one process and across all cores, next to a baseline measured
in the same run: a bare discrete-event loop with the same arrivals, service times and heap
operations but no target, personas, history or checker (the floor of any Python simulator
of this queue). Aim: at least 100,000 decisions per second per core.

    python benchmarks/bench_sim.py [EXPERIMENT.toml] [--replications N]
"""

from __future__ import annotations

import argparse
import heapq
import random
import time
from pathlib import Path

from harness.backends.replications import default_jobs, run_chunk, run_replications
from harness.experiment.model import load
from harness.world.environment import Environment

ROOT = Path(__file__).resolve().parent.parent


def bare_loop(experiment, replications: int) -> tuple[int, float]:
    """Decisions and seconds for a minimal event loop of the same shift."""
    spec = experiment.population
    operators = sum(o.count for o in experiment.operators)
    low, high = experiment.operators[0].item_time
    rate = spec.reports_per_hour / 3600.0
    shift = experiment.experiment.shift
    decisions = 0
    start = time.perf_counter()
    for rep in range(replications):
        rng = random.Random(rep)
        events = [(rng.expovariate(rate), 0, None)]
        idle, queue, seq = operators, 0, 1
        while events:
            t, kind, _ = heapq.heappop(events)
            if t > shift:
                break
            if kind == 0:  # arrival
                queue += 1
                heapq.heappush(events, (t + rng.expovariate(rate), 0, seq))
            else:  # an operator finished and decided
                decisions += 1
                rng.random()
                idle += 1
            seq += 1
            while idle and queue:
                idle -= 1
                queue -= 1
                heapq.heappush(events, (t + rng.uniform(low, high), 1, seq))
                seq += 1
    return decisions, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "experiment", nargs="?", default=str(ROOT / "experiments/incident-2017.toml")
    )
    parser.add_argument("--replications", type=int, default=200)
    args = parser.parse_args()
    experiment = load(args.experiment)
    started = time.perf_counter()
    env = Environment.build(experiment)
    built = time.perf_counter() - started
    n = args.replications

    run_chunk(env, range(3), 0)  # warm up
    start = time.perf_counter()
    single = sum(m.decisions for _, m, _ in run_chunk(env, range(n), 0))
    single_s = time.perf_counter() - start

    jobs = default_jobs()
    start = time.perf_counter()
    result = run_replications(env, n * jobs, jobs=jobs, keep_histories=0)
    multi = sum(m.decisions for m in result.ordered())
    multi_s = time.perf_counter() - start

    base, base_s = bare_loop(experiment, n)
    rate, base_rate = single / single_s, base / base_s
    print(
        f"experiment: {experiment.experiment.name} ({n} replications per process; "
        f"population of {experiment.population.accounts:,} built once in {built:.2f}s)"
    )
    print(f"harness, 1 process:      {rate:>12,.0f} decisions/s")
    print(
        f"harness, {jobs} processes:    {multi / multi_s:>12,.0f} decisions/s "
        f"({multi / multi_s / jobs:,.0f} per core, including pool start-up)"
    )
    print(f"baseline bare DES loop:  {base_rate:>12,.0f} decisions/s (same run, 1 process)")
    print(f"harness / baseline:      {rate / base_rate:>12.1%}")
    print(f"aim: >= 100,000 decisions/s per core -> {'met' if rate >= 100_000 else 'NOT met'}")


if __name__ == "__main__":
    main()

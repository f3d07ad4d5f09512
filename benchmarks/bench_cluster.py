"""Replications per second on a local Dask cluster next to the local process pool.

Runs the same replications twice in the same process: on the local pool with two processes,
then on a Dask LocalCluster of two single-threaded worker processes reached by address as
`--scheduler` reaches one (connecting and shipping the environment included), and checks
that both give the same metrics bit for bit. Aim: the cluster at 90% or more of the pool.
Needs the dask extra.

    python benchmarks/bench_cluster.py [EXPERIMENT.toml] [--replications N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from distributed import LocalCluster

from harness.backends.replications import RunResult, run_replications
from harness.experiment.model import load
from harness.world.environment import Environment

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2


def timed(env: Environment, replications: int, **where: object) -> tuple[RunResult, float]:
    start = time.perf_counter()
    result = run_replications(env, replications, keep_histories=0, **where)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", nargs="?", default=ROOT / "experiments/incident-2017.toml")
    parser.add_argument("--replications", type=int, default=2000)
    args = parser.parse_args()
    env = Environment.build(load(args.experiment))
    pool, pool_seconds = timed(env, args.replications, jobs=WORKERS)
    with LocalCluster(
        n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        dask, dask_seconds = timed(env, args.replications, scheduler=cluster.scheduler_address)
    assert dask.ordered() == pool.ordered(), "the cluster's metrics differ from the pool's"
    pool_rate, dask_rate = args.replications / pool_seconds, args.replications / dask_seconds
    print(f"{args.replications} replications of {Path(args.experiment).name}")
    print(f"local pool, {WORKERS} processes:        {pool_rate:8.1f} replications/s")
    print(f"Dask, {WORKERS} single-threaded workers: {dask_rate:8.1f} replications/s")
    print(f"Dask / pool: {dask_rate / pool_rate:.0%} (aim: 90% or more); identical metrics")


if __name__ == "__main__":
    main()

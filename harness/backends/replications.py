"""Run replications of a simulated experiment over all cores or a Dask cluster.

Each replication is independent and seeded from the experiment seed and its index, so the
pooled result does not depend on how work was spread or where (harness/backends).
Results arrive in chunks and are handed to `on_chunk` as they come, so an interrupted run
keeps what it finished. A comparison hands every configuration's replications to the backend
at once (`run_together`): the slots stay busy across configurations, and each
configuration's result is the one it gets alone.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..checker import ReplicationMetrics, check
from ..drivers.sim import simulate
from ..errors import HarnessError
from ..interrupts import stop_requests
from ..world.environment import Environment
from . import open_backend

Completed = list[tuple[int, ReplicationMetrics, list | None]]
"""(replication index, its metrics, its history ops when kept) for a finished chunk."""

Chunk = tuple[int, Sequence[int]]
"""Replication indices to run together, of the run (environment) numbered first."""


@dataclass
class RunResult:
    requested: int
    metrics: dict[int, ReplicationMetrics] = field(default_factory=dict)
    interrupted: bool = False
    error: str | None = None  # why the machinery stopped the run (a harness error)

    def ordered(self) -> list[ReplicationMetrics]:
        return [self.metrics[i] for i in sorted(self.metrics)]


YOUNG_COLLECTION_THRESHOLD = 10_000


@contextmanager
def collecting_less() -> Iterator[None]:
    """Run the cyclic garbage collector less often while replications run.

    A replication allocates hundreds of thousands of small, short-lived objects (history
    entries, answers) and makes almost no reference cycles, yet by default the collector
    runs every 700 allocations and now and then walks the whole population built before.
    Freezing what exists and collecting the youngest generation every 10,000 allocations
    gives about a fifth more decisions a second (benchmarks/bench_sim.py).
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def run_chunk(env: Environment, indices: Sequence[int], keep: int) -> Completed:
    """Simulate and check replications; keep the history of those with index < keep."""
    done = []
    with collecting_less():
        for index in indices:
            history = simulate(env, index)
            done.append(
                (index, check(history, env.operator_hours), history.ops if index < keep else None)
            )
    return done


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def chunked(todos: Sequence[Sequence[int]], slots: int) -> list[Chunk]:
    """Every run's indices in chunks of one size: about eight chunks per slot in all, of at
    most 50 replications (a few seconds of work), so the slots stay busy to the end and a
    lost chunk costs little. Chunks keep the runs' order (a comparison's baseline first)."""
    total = sum(len(todo) for todo in todos)
    size = max(1, min(50, total // (min(slots, total) * 8) or 1))
    return [
        (which, todo[i : i + size])
        for which, todo in enumerate(todos)
        for i in range(0, len(todo), size)
    ]


@dataclass(frozen=True)
class Replications:
    """One run's share of the work: `count` replications of `env`, indices `first` onwards,
    those in `finished` (a resumed run's) not run again; each finished chunk goes to
    `on_chunk`."""

    env: Environment
    count: int
    first: int = 0
    finished: Mapping[int, ReplicationMetrics] | None = None
    on_chunk: Callable[[Completed], None] = lambda done: None

    def start(self) -> tuple[RunResult, list[int]]:
        """The result so far (what `finished` holds in range) and the indices still to run."""
        stop = self.first + self.count
        result = RunResult(self.count)
        result.metrics.update(
            {i: m for i, m in (self.finished or {}).items() if self.first <= i < stop}
        )
        return result, [i for i in range(self.first, stop) if i not in result.metrics]


def run_replications(
    env: Environment,
    replications: int,
    *,
    first: int = 0,
    jobs: int | None = None,
    scheduler: str | None = None,
    keep_histories: int = 1,
    finished: Mapping[int, ReplicationMetrics] | None = None,
    on_chunk: Callable[[Completed], None] = lambda done: None,
) -> RunResult:
    """Run `replications` replications, indices `first` onwards, on `jobs` local processes
    (default: all cores) or on the Dask cluster at `scheduler`. Batches that continue where
    the last one stopped continue the same seed sequence, so they add up to exactly the run
    that did them all at once. Replications in `finished` (a resumed run's) are not run again.
    """
    work = Replications(env, replications, first, finished, on_chunk)
    return run_together([work], jobs=jobs, scheduler=scheduler, keep_histories=keep_histories)[0]


def run_together(
    runs: Sequence[Replications],
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    keep_histories: int = 1,
) -> list[RunResult]:
    """Run several runs' replications (a comparison's configurations) on one backend at
    once, each run's chunks submitted together so every slot stays busy across runs; one
    result per run, the same as running each alone.

    Ctrl-C stops handing out work, lets running chunks finish and returns what completed,
    each unfinished run marked interrupted. A failure of the machinery returns what
    completed, each unfinished run with the reason.
    """
    started = [work.start() for work in runs]
    results = [result for result, _ in started]
    todos = [todo for _, todo in started]

    def take(which: int, done: Completed) -> None:
        for index, metrics, _ in done:
            results[which].metrics[index] = metrics
        runs[which].on_chunk(done)

    if not any(todos):
        return results
    error = None
    with stop_requests() as stopping, open_backend(jobs, scheduler) as backend:
        try:
            chunks = chunked(todos, backend.slots)
            backend.run([work.env for work in runs], chunks, keep_histories, take, stopping)
        except HarnessError as exc:
            error = str(exc)
    for result, todo in zip(results, todos, strict=True):
        if not result.metrics.keys() >= set(todo):
            result.error, result.interrupted = error, error is None
    return results

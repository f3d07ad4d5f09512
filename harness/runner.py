"""Run replications of a simulated experiment over all cores.

Each replication is independent and seeded from the experiment seed and its index, so the
pooled result does not depend on how work was spread. Results arrive in chunks and are
handed to `on_chunk` as they come, so an interrupted run keeps what it finished.
"""

from __future__ import annotations

import gc
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field

from .checker import ReplicationMetrics, check
from .drivers.sim import simulate
from .environment import Environment
from .interrupts import stop_requests

Completed = list[tuple[int, ReplicationMetrics, list | None]]
"""(replication index, its metrics, its history ops when kept) for a finished chunk."""


@dataclass
class RunResult:
    requested: int
    metrics: dict[int, ReplicationMetrics] = field(default_factory=dict)
    interrupted: bool = False

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


_worker_env: Environment | None = None


def _init_worker(env: Environment) -> None:
    global _worker_env
    _worker_env = env
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides how to stop


def _worker_chunk(indices: Sequence[int], keep: int) -> Completed:
    assert _worker_env is not None
    return run_chunk(_worker_env, indices, keep)


POLL_SECONDS = 0.2


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_replications(
    env: Environment,
    replications: int,
    *,
    first: int = 0,
    jobs: int | None = None,
    keep_histories: int = 1,
    on_chunk: Callable[[Completed], None] = lambda done: None,
) -> RunResult:
    """Run `replications` replications, indices `first` onwards, on `jobs` processes
    (default: all cores). Batches that continue where the last one stopped continue the
    same seed sequence, so they add up to exactly the run that did them all at once.

    Ctrl-C stops handing out work, lets running chunks finish and returns what completed,
    marked interrupted.
    """
    jobs = max(1, min(jobs or default_jobs(), replications))
    result = RunResult(replications)

    def take(done: Completed) -> None:
        for index, metrics, _ in done:
            result.metrics[index] = metrics
        on_chunk(done)

    size = max(1, min(50, replications // (jobs * 8) or 1))
    stop = first + replications
    chunks = [range(i, min(i + size, stop)) for i in range(first, stop, size)]
    if jobs == 1:
        try:
            for chunk in chunks:
                take(run_chunk(env, chunk, keep_histories))
        except KeyboardInterrupt:
            result.interrupted = True
        return result

    with (
        stop_requests() as stopping,
        ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(env,)) as pool,
    ):
        pending: set[Future] = {pool.submit(_worker_chunk, c, keep_histories) for c in chunks}
        while pending and not stopping.is_set():
            finished, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for future in finished:
                take(future.result())
        if pending:
            result.interrupted = True
            for future in pending:
                future.cancel()
            for future in pending:
                if not future.cancelled():
                    take(future.result())
    return result

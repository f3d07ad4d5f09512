"""Importance sampling of a simulated experiment: untilted, pilot and main stages.

1. Untilted: `pilot_replications` ordinary replications (the first ones a crude run would
   make), for the mean number of protected trials per shift and a first tilt.
2. Pilot: rounds of `pilot_replications` replications under a tilt the cross-entropy
   method tunes between rounds (`tilt`), until it settles or the rounds run out; rounds
   under a tuned tilt count in the estimate.
3. Main: replications under the tuned tilt, in batches, until the slip-through's 95%
   half-width is within the target relative error, or the budget is spent.

Each stage has replication indices of its own, so its seeds differ from every other
stage's, and the whole run is reproducible bit for bit from the experiment's seed (unless
the time budget is what ended a stage).
"""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import NamedTuple

from ..backends.replications import collecting_less, default_jobs
from ..checker import check
from ..drivers.sim import Simulation
from ..interrupts import stop_requests
from ..world.environment import Environment
from .draws import Tilt, TiltedDraws
from .spec import EstimateSpec
from .tilt import MIN_ELITE, converged, cross_entropy_update, escalate, initial_tilt
from .weighted import Weighted, mean_estimate, ratio_estimate, weighted_values

STAGE = 10**9  # replication indices of stage k start at k * STAGE
MAIN_STAGE = 100
MAX_PILOT_ROUNDS = 5
PILOT_SHARE = 0.4  # of the time budget the untilted and pilot stages may take
MIN_MAIN_BATCH = 200
POLL_SECONDS = 0.2


def weighted_replication(env: Environment, index: int, tilt: Tilt, record: bool) -> Weighted:
    """Replication `index` with every tiltable draw made under `tilt`."""
    draws = TiltedDraws(tilt, record)
    sim = Simulation(env, index)
    for agent in sim.agents.values():
        agent.persona.chance = draws.chance
    sim.target.chance = draws.chance  # type: ignore[attr-defined]
    m = check(sim.run(), env.operator_hours)
    return Weighted(index, m.slips, m.trials, sum(m.exposures), draws.log_weight, draws.draws)


def _chunk(env: Environment, indices: Sequence[int], tilt: Tilt, record: bool) -> list[Weighted]:
    with collecting_less():
        return [weighted_replication(env, i, tilt, record) for i in indices]


_worker_env: Environment | None = None


def _init_worker(env: Environment) -> None:
    global _worker_env
    _worker_env = env
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides how to stop


def _worker_chunk(indices: Sequence[int], tilt: Tilt, record: bool) -> list[Weighted]:
    assert _worker_env is not None
    return _chunk(_worker_env, indices, tilt, record)


class Workers(AbstractContextManager):
    """Replications in this process (one job) or over a process pool kept for every stage.
    Over the pool, Ctrl-C and SIGTERM set a flag (see `interrupts`) that ends the batch
    as a KeyboardInterrupt; in this process Ctrl-C raises one anyway."""

    def __init__(self, env: Environment, jobs: int) -> None:
        self.env = env
        self.jobs = jobs
        self.pool: ProcessPoolExecutor | None = None
        self.flag = stop_requests()
        if jobs > 1:
            self.stopping = self.flag.__enter__()
            self.pool = ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(env,))

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.flag.__exit__(None, None, None)

    def run(self, indices: Sequence[int], tilt: Tilt, record: bool = False) -> list[Weighted]:
        if self.pool is None:
            return _chunk(self.env, indices, tilt, record)
        size = max(1, min(50, len(indices) // (self.jobs * 4) or 1))
        chunks = [indices[i : i + size] for i in range(0, len(indices), size)]
        futures = [self.pool.submit(_worker_chunk, c, tilt, record) for c in chunks]
        pending = set(futures)
        while pending:
            if self.stopping.is_set():
                for future in pending:
                    future.cancel()
                raise KeyboardInterrupt
            _, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_EXCEPTION)
        return [r for f in futures for r in f.result()]


class PilotRound(NamedTuple):
    tilt: Tilt
    replications: int
    slipped: int  # replications with at least one slip
    kept: bool  # run under a tuned tilt, so its replications count in the estimate


@dataclass
class ImportanceRun:
    """Everything the stages produced, for the estimates and the run folder. `sample` is
    what the weighted estimates use: the pilot rounds run under a tuned tilt, then the
    main stage (each replication is unbiased under its own tilt, so they pool)."""

    untilted: list[Weighted] = field(default_factory=list)
    pilot: list[PilotRound] = field(default_factory=list)
    tilt: Tilt = field(default_factory=initial_tilt)
    sample: list[Weighted] = field(default_factory=list)
    main: int = 0  # replications of the main stage
    stopped: str = "running"
    seconds: float = 0.0

    @property
    def replications(self) -> int:
        return len(self.untilted) + sum(r.replications for r in self.pilot) + self.main


def slip_through(run: ImportanceRun) -> dict:
    """Slip-through per protected trial: weighted slips per shift over the untilted
    replications' protected trials per shift."""
    slips = mean_estimate(weighted_values(run.sample, "slips"))
    return ratio_estimate(slips, [r.trials for r in run.untilted])


def estimate_importance(
    env: Environment,
    jobs: int | None = None,
    on_progress: Callable[[str, int], None] = lambda stage, n: None,
    clock: Callable[[], float] = time.monotonic,
) -> ImportanceRun:
    """Run the three stages within the experiment's `[estimate]` budget. Ctrl-C (a
    KeyboardInterrupt) stops between batches and keeps what finished."""
    spec = env.experiment.estimate
    started = clock()

    def elapsed() -> float:
        return clock() - started

    run = ImportanceRun()
    with Workers(env, max(1, jobs or default_jobs())) as workers:
        try:
            n = spec.pilot_replications
            untilted = workers.run(range(n), Tilt(), record=True)
            run.untilted = [r._replace(draws=None) for r in untilted]
            run.tilt = initial_tilt(untilted)
            on_progress("untilted", n)
            _tune(workers, spec, run, elapsed, on_progress)
            _main(workers, spec, run, elapsed, on_progress)
        except KeyboardInterrupt:
            run.stopped = "interrupted"
    run.seconds = elapsed()
    return run


def _tune(
    workers: Workers,
    spec: EstimateSpec,
    run: ImportanceRun,
    elapsed: Callable[[], float],
    on_progress: Callable[[str, int], None],
) -> None:
    """Pilot rounds: escalate the tilt until slips show, then cross-entropy updates, while
    the rounds, the replication budget and the pilot's share of the time budget last."""
    n = spec.pilot_replications
    tuned = False
    for round_ in range(1, MAX_PILOT_ROUNDS + 1):
        over = run.replications + n > spec.max_replications
        if over or elapsed() > PILOT_SHARE * spec.max_seconds:
            break
        indices = range(round_ * STAGE, round_ * STAGE + n)
        pilot = workers.run(indices, run.tilt, record=True)
        slipped = sum(1 for r in pilot if r.slips)
        run.pilot.append(PilotRound(run.tilt, n, slipped, tuned))
        if tuned:
            run.sample += [r._replace(draws=None) for r in pilot]
        on_progress("pilot", n)
        if slipped < MIN_ELITE:
            run.tilt = escalate(run.tilt)
            continue
        updated = cross_entropy_update(pilot, run.tilt)
        settled, tuned = converged(run.tilt, updated), True
        run.tilt = updated
        if settled:
            break


def _main(
    workers: Workers,
    spec: EstimateSpec,
    run: ImportanceRun,
    elapsed: Callable[[], float],
    on_progress: Callable[[str, int], None],
) -> None:
    """Tilted batches until the target relative error is reached or the budget is spent.
    The estimate stops only once a batch under the tuned tilt is in: a pilot round's
    sample is small and its tilt still moving, and an interval from it alone can look
    tighter than it is."""
    batch = max(MIN_MAIN_BATCH, spec.pilot_replications)
    per_replication = max(1e-9, elapsed() / max(1, run.replications))
    while True:
        estimate = slip_through(run)
        error = estimate["relative_error"]
        if run.main and estimate["reliable"] and error <= spec.target_relative_error:
            run.stopped = "target reached"
            return
        if run.main:
            batch = _next_batch(len(run.sample), error, spec.target_relative_error)
        left = spec.max_replications - run.replications
        affordable = int((spec.max_seconds - elapsed()) / per_replication)
        size = min(batch, left, affordable)
        if size < 1:
            run.stopped = "replication budget spent" if left < 1 else "time budget spent"
            return
        first = MAIN_STAGE * STAGE + run.main
        before = elapsed()
        run.sample += workers.run(range(first, first + size), run.tilt)
        run.main += size
        per_replication = max(1e-9, (elapsed() - before) / size)
        on_progress("main", size)


def _next_batch(done: int, error: float | None, target: float) -> int:
    """Replications to add so the error would reach the target (it falls as 1/sqrt(n)),
    at most as many again as done, at least `MIN_MAIN_BATCH`."""
    if error is None:
        return done
    needed = math.ceil(done * (error / target) ** 2) - done
    return max(MIN_MAIN_BATCH, min(done, needed))

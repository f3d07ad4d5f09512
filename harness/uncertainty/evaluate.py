"""The inner loop: replications of each parameter set, spread over processes by set.

Every set runs the same replication seeds (common random numbers), so two sets differ by
their parameters, not by luck."""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

from ..backends.replications import default_jobs, run_chunk
from ..experiment.model import Experiment
from ..statistics.intervals import design_effect
from ..world.environment import Environment

RATES = ("protected_slip_through.rate", "shift_incident_probability.rate")
"""The metrics followed under uncertainty: the rates reported with an interval."""

Outcome = dict[str, tuple[float, float]]
"""Each rate of a parameter set with the sampling variance of its estimate."""


def outcome(experiment: Experiment, replications: int, first: int = 0) -> Outcome:
    """Run the set's replications (seeds `first` onwards); its rates and their sampling
    variances."""
    env = Environment.build(experiment)  # the population is built once per process
    chosen = range(first, first + replications)
    results = [metrics for _, metrics, _ in run_chunk(env, chosen, 0)]
    pairs = [(r.slips, r.trials) for r in results]
    slips, trials = sum(s for s, _ in pairs), sum(n for _, n in pairs)
    incidents = sum(1 for r in results if r.slips)
    return {
        RATES[0]: _rate(slips, trials, design_effect(pairs)),
        RATES[1]: _rate(incidents, len(results), 1.0),
    }


def _rate(events: int, trials: int, clustering: float) -> tuple[float, float]:
    if not trials:
        return 0.0, 0.0
    rate = events / trials
    return rate, rate * (1 - rate) / trials * clustering


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides how to stop


def _outcomes(batch: Sequence[tuple[Experiment, int]], replications: int) -> list[Outcome]:
    return [outcome(e, replications, first) for e, first in batch]


def evaluate(
    experiments: Sequence[Experiment],
    replications: int,
    *,
    jobs: int | None = None,
    on_progress: Callable[[int], None] = lambda n: None,
    common_seeds: bool = True,
) -> list[Outcome]:
    """Each experiment's outcome, in order, on `jobs` processes (default: all cores).
    `common_seeds`: every set runs replications 0 .. R-1; otherwise set i runs its own,
    i R .. (i + 1) R - 1, so that the sets' sampling noise is independent."""
    jobs = max(1, min(jobs or default_jobs(), len(experiments)))
    size = max(1, min(16, len(experiments) // (jobs * 4) or 1))
    work = [(e, 0 if common_seeds else i * replications) for i, e in enumerate(experiments)]
    batches = [work[i : i + size] for i in range(0, len(work), size)]
    done: list[Outcome] = []
    if jobs == 1:
        for batch in batches:
            done.extend(_outcomes(batch, replications))
            on_progress(len(batch))
        return done
    with ProcessPoolExecutor(jobs, initializer=_ignore_interrupts) as pool:
        futures = [pool.submit(_outcomes, batch, replications) for batch in batches]
        try:
            for future, batch in zip(futures, batches, strict=True):
                done.extend(future.result())
                on_progress(len(batch))
        except KeyboardInterrupt:
            pool.shutdown(wait=True, cancel_futures=True)  # running batches finish quickly
            raise
    return done

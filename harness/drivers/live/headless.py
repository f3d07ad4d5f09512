"""What a live run shows while it runs without Locust's web UI: a line of request
statistics every few seconds (as `locust --headless` prints its table, but one line a
person or a CI log can follow), and the history Locust's HTML report charts.

The command line sets the interval (`HARNESS_PROGRESS_SECONDS`, as for the simulator's
progress lines).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

import gevent
from locust.env import Environment
from locust.stats import stats_history


def watch(
    env: Environment, where: Callable[[], str], interval: float | None, out: TextIO = sys.stderr
) -> list[gevent.Greenlet]:
    """Start the watchers of `env`'s runner: the report's history always, a stats line
    every `interval` seconds unless None; `where()` says which shift the run is in. Kill
    them when the run ends."""
    watchers = [gevent.spawn(stats_history, env.runner)]
    if interval is not None:
        watchers.append(gevent.spawn(_lines, env, where, interval, out))
    return watchers


def _lines(env: Environment, where: Callable[[], str], interval: float, out: TextIO) -> None:
    while True:
        gevent.sleep(interval)
        print(stats_line(env, where()), file=out, flush=True)


def stats_line(env: Environment, where: str) -> str:
    """'live: shift 2 of 4: 1,234 requests, 0 failed, 45.2/s now, p50 12 ms, p95 40 ms,
    8 users' (the shift's requests so far: Locust counts each shift afresh)."""
    total = env.stats.total
    p50 = total.get_response_time_percentile(0.5) or 0
    p95 = total.get_response_time_percentile(0.95) or 0
    return (
        f"live: {where}: {total.num_requests:,} requests, {total.num_failures:,} failed, "
        f"{total.current_rps or 0:.1f}/s now, p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
        f"{env.runner.user_count:,} users"
    )

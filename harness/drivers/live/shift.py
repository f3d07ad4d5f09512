"""One live shift: from a reset target to the shift's merged history.

Reset the target with the replication's seed, check that every protected account is
active (and record those probes, as the simulator does at the start of a shift), start the
users, let the nemesis and the observer work until the shift's end in simulated time, stop
everything, probe every protected account once more and close the history. A stop asked
ends the shift early (see `stopping`). Every wait has a bound: the observer and the nemesis
are killed (the connection pool survives a kill mid-request: see `transport`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import gevent

from ...history import OK, Op
from ...world.environment import Environment
from ..client import HttpTarget
from .clock import ShiftClock
from .nemesis import Nemesis
from .observe import Observer
from .record import Recorder
from .server import ServerProcess
from .steady import protected_problems
from .stopping import Stopping

NEMESIS_GRACE = 90.0  # wall seconds for the nemesis to finish (a restart may be under way)
KILL_SECONDS = 5.0  # wall seconds for the observer and the nemesis to die when killed


class Crew(Protocol):
    def begin(self, replication: int, clock: ShiftClock) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> list[Op]: ...

    def close(self) -> None: ...


class SteadyStateLost(Exception):
    """The target was not in its steady state at a shift's start."""


@dataclass
class Stage:
    """What every shift of a run uses."""

    env: Environment
    target: HttpTarget  # the harness's own client (admin, probes)
    crew: Crew
    server: ServerProcess | None
    stopping: Stopping  # Ctrl-C and SIGTERM


@dataclass
class ShiftResult:
    ops: list[Op]
    finished: bool  # False: interrupted before the shift's end
    reached: float  # shift seconds when it stopped
    wall_seconds: float  # of load


def run_shift(stage: Stage, replication: int) -> ShiftResult:
    env, target, stopping = stage.env, stage.target, stage.stopping
    protected = env.population.protected_ids
    target.reset(env.target_seed(replication))
    clock = ShiftClock.of(target)
    problems = protected_problems(target, protected)
    if problems:
        raise SteadyStateLost(f"replication {replication}: {problems[0]}")
    recorder = Recorder(clock, env.shift, f"h{replication}")
    observer = Observer(target, recorder, clock, protected, env.experiment.live)
    observer.probe_all()
    stage.crew.begin(replication, clock)
    started = clock.now()
    stage.crew.start()
    nemesis = gevent.spawn(Nemesis(env.experiment, target, recorder, clock, stage.server).run)
    watching = gevent.spawn(observer.run, env.shift)
    try:
        interrupted = stopping.wait(clock.wall_seconds(env.shift - clock.now()))
        reached = min(clock.now(), env.shift)
        ops = stage.crew.stop()
        if watching.ready() and not watching.successful():
            raise RuntimeError(f"the observer failed: {watching.exception!r}")
        interrupted = interrupted or not _last_switches(nemesis, stopping)
    finally:
        gevent.killall([watching, nemesis], timeout=KILL_SECONDS)
    recorder.close()
    observer.probe_all(until=lambda: stopping.hurry)
    ops += recorder.take()
    ops.sort(key=lambda op: op[0])
    end = max(env.shift if not interrupted else reached, ops[-1][0] if ops else 0.0)
    ops.append((end, "harness", OK, "shift_end", {}))
    return ShiftResult(ops, not interrupted, reached, (reached - started) / clock.scale)


def _last_switches(nemesis: gevent.Greenlet, stopping: Stopping) -> bool:
    """Let the nemesis make its last switches, due at the shift's end; False when a stop
    was asked first (it is then killed with them unmade)."""
    if not stopping.is_set():
        gevent.wait([nemesis, stopping.asked], timeout=NEMESIS_GRACE, count=1)
    if nemesis.ready():
        if not nemesis.successful():
            raise RuntimeError(f"the nemesis failed: {nemesis.exception!r}")
        return True
    if stopping.is_set():
        return False
    raise RuntimeError(f"the nemesis failed: no answer within {NEMESIS_GRACE:g}s")

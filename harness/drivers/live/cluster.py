"""The users' side of a live run: in this process (Locust's local runner) or on workers
(Locust's master and workers, on this machine or others).

Locust's own protocol starts and stops the users; custom messages carry the rest:

  master -> workers  harness:setup   the resolved experiment, the target's URL and the
                                     operators' credentials (each worker builds its users)
                     harness:shift   replication i begins: calibrate the clock, reset
                     harness:drain   the shift is over: let requests in flight come back
                     harness:news    the board's news from another worker
  workers -> master  harness:ready   (after setup and after each harness:shift)
                     harness:news    board news, for the other workers
                     harness:ops     a batch of this worker's history records
                     harness:done    the shift's records are all sent

Each operator is pinned to one worker (all K sessions of it), so one identity lives in one
process; histories reach the master in batches while the shift runs and in full when it
stops, and the master merges them by time. When a worker is lost or a new one joins, Locust
hands the users out again round-robin, which would split an operator's sessions across
processes: the run fails instead (`WorkersChanged`).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from locust.dispatch import UsersDispatcher
from locust.env import Environment as LocustEnvironment
from locust.runners import STATE_MISSING, MasterRunner, WorkerRunner

from ...errors import BadInput
from ...experiment.model import from_raw
from ...history import Op
from ...world.environment import Environment
from ..client import HttpTarget
from .board import Board
from .clock import ShiftClock
from .server import child, stop
from .users import World, user_classes

# for workers to connect, build their users and answer: their imports alone take 0.7 s of
# CPU and over 10 s of wall time with two cores at load 13
CONNECT_SECONDS = 120.0
WATCH_SECONDS = 0.25  # between looks at the workers while a shift runs
FLUSH_SECONDS = 0.25  # between batches of history records from a worker
DRAIN_SECONDS = 2.0  # for requests in flight at the shift's end to come back
logger = logging.getLogger(__name__)


class PinnedDispatcher(UsersDispatcher):
    """Locust's dispatcher, but every user of one class goes to the same worker (classes
    spread round-robin in name order), so each operator's sessions share one process."""

    def _home(self, user: str) -> Any:
        names = [u.__name__ for u in self._original_user_classes]
        return self._worker_nodes[names.index(user) % len(self._worker_nodes)]

    def _add_users_on_workers(self) -> dict[str, dict[str, int]]:
        target = min(
            self._current_user_count + self._user_count_per_dispatch_iteration,
            self._target_user_count,
        )
        for user in self._user_generator:
            if not user:
                self._no_user_to_spawn = True
                break
            node = self._home(user)
            self._users_on_workers[node.id][user] += 1
            self._current_user_count += 1
            self._active_users.append((node, user))
            if self._current_user_count >= target:
                break
        return self._users_on_workers


class WorkersChanged(Exception):
    """A worker was lost or joined during a live run: the operators are no longer pinned."""


def total_users(world: World) -> int:
    return len(world.env.roster) * world.live.users_per_operator + world.live.reporters


class LocalCrew:
    """The users in this process."""

    def __init__(self, locust_env: LocustEnvironment, world: World) -> None:
        self.locust_env = locust_env
        self.world = world
        self.runner = locust_env.create_local_runner()

    def begin(self, replication: int, clock: ShiftClock) -> None:
        self.world.begin(replication, clock, "u")

    def start(self) -> None:
        users = total_users(self.world)
        self.runner.start(users, spawn_rate=users)

    def stop(self) -> list[Op]:
        drain(self.world)
        self.runner.stop()
        shift = self.world.shift
        assert shift is not None
        shift.recorder.close()
        return shift.recorder.take()

    def close(self) -> None:
        self.runner.quit()


class MasterCrew:
    """The users on workers: `workers` local worker processes started here, plus `expect`
    more joining from other machines (`harness worker --master HOST`)."""

    def __init__(
        self,
        locust_env: LocustEnvironment,
        world: World,
        setup: dict[str, Any],
        *,
        workers: int,
        expect: int,
        bind: str,
        port: int,
        log: Path,
        stopping: Event,
    ) -> None:
        self.locust_env = locust_env
        self.world = world
        self.count = workers + expect
        self.runner: MasterRunner = locust_env.create_master_runner(bind, port)
        self.ops: list[Op] = []
        self.answered: set[str] = set()
        self.failure: str | None = None
        self.members: frozenset[str] = frozenset()  # the workers the users are pinned to
        self.change: str | None = None  # the first change to them (Locust rebalanced then)
        self.stopping = stopping  # set to end a shift early
        self.watcher: gevent.Greenlet | None = None
        for kind, handler in {
            "harness:ready": self._ready,
            "harness:news": self._news,
            "harness:ops": self._ops,
            "harness:done": self._ready,
        }.items():
            self.runner.register_message(kind, handler)
        master = "127.0.0.1" if bind in ("*", "0.0.0.0") else bind
        command = [sys.executable, "-m", "harness.drivers.live", "worker"]
        command += ["--master", master, "--master-port", str(port)]
        self.processes = [child(command, log) for _ in range(workers)]
        try:
            self._await(lambda: len(self.runner.clients.ready) >= self.count, "connect")
            self.members = frozenset(self.runner.clients)
            self._ask("harness:setup", setup)
        except BaseException:
            self.close()
            raise

    def begin(self, replication: int, clock: ShiftClock) -> None:
        self._ask("harness:shift", {"replication": replication})

    def start(self) -> None:
        users = total_users(self.world)
        self.runner.start(users, spawn_rate=users)
        self.watcher = gevent.spawn(self._watch)

    def stop(self) -> list[Op]:
        if self.watcher is not None:
            self.watcher.kill()
        self._check_workers()
        self._ask("harness:drain", {})
        self.answered.clear()
        self.runner.stop()
        self._await(lambda: len(self.answered) >= self.count, "send their records")
        self._await(lambda: len(self.runner.clients.ready) >= self.count, "be ready")
        ops, self.ops = self.ops, []
        return ops

    def close(self) -> None:
        self.runner.quit()
        for process in self.processes:
            stop(process)

    # --- messages -------------------------------------------------------------------------

    def _ask(self, kind: str, data: dict[str, Any]) -> None:
        """Send to every worker and wait until each has answered harness:ready."""
        self.answered.clear()
        self.runner.send_message(kind, data)
        self._await(lambda: len(self.answered) >= self.count, f"answer {kind}")

    def _ready(self, environment: Any, msg: Any) -> None:
        if msg.data and msg.data.get("error"):
            self.failure = msg.data["error"]
        self.answered.add(msg.node_id)

    def _news(self, environment: Any, msg: Any) -> None:
        for client_id in list(self.runner.clients):
            if client_id != msg.node_id:
                self.runner.send_message("harness:news", msg.data, client_id)

    def _ops(self, environment: Any, msg: Any) -> None:
        self.ops.extend(tuple(op) for op in msg.data)

    def _await(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + CONNECT_SECONDS
        while not done():
            self._check_workers()
            if self.failure:
                raise BadInput(f"a worker failed: {self.failure}")
            if time.monotonic() > deadline:
                raise BadInput(
                    f"workers did not {what} within {CONNECT_SECONDS:g}s "
                    f"({len(self.answered)} of {self.count})"
                )
            gevent.sleep(0.02)

    # --- the workers the users are pinned to ----------------------------------------------

    def _watch(self) -> None:
        """While a shift runs: end it at once when the workers change; stop() says why."""
        while self.change is None:
            gevent.sleep(WATCH_SECONDS)
            self.change = self._changed()
        self.stopping.set()

    def _check_workers(self) -> None:
        """Raise once the workers changed, even if a lost one has come back since: Locust
        rebalanced the users when it was lost."""
        self.change = self.change or self._changed()
        if self.change is not None:
            raise WorkersChanged(
                f"{self.change}: Locust hands the users out again round-robin when the workers "
                "change, which would split operators' sessions across processes, so the run "
                "stops here (a live run needs the same workers from start to end)"
            )

    def _changed(self) -> str | None:
        """Which worker was lost or joined since the users were pinned, if one was."""
        clients = self.runner.clients
        for node_id in sorted(self.members):
            if node_id not in clients or clients[node_id].state == STATE_MISSING:
                index = self.runner.get_worker_index(node_id)
                return f"worker {index} ({node_id}) was lost: it quit or stopped answering"
        joined = sorted(set(clients) - self.members) if self.members else []
        if joined:
            return f"worker {self.runner.get_worker_index(joined[0])} ({joined[0]}) joined"
        return None


def run_worker(master: str, port: int) -> int:
    """`harness worker`: join a master, run the users it assigns until it quits."""
    worker = _Worker(master, port)
    try:
        worker.runner.greenlet.join()
    except KeyboardInterrupt:
        worker.runner.quit()
    return 0


class _Worker:
    """A worker's answers to the master's messages: set up the world, begin a shift, drain
    it, and send its records as they are written and when the users stop."""

    def __init__(self, master: str, port: int) -> None:
        self.locust_env = LocustEnvironment(user_classes=[], dispatcher_class=PinnedDispatcher)
        self.runner: WorkerRunner = self.locust_env.create_worker_runner(master, port)
        self.world: World | None = None
        self.target: HttpTarget | None = None
        self.flusher: gevent.Greenlet | None = None
        self.runner.register_message("harness:setup", self.setup)
        self.runner.register_message("harness:shift", self.shift)
        self.runner.register_message("harness:drain", self.drained)
        self.runner.register_message("harness:news", self.news)
        self.locust_env.events.test_stop.add_listener(self.stopped)

    def send(self, kind: str, data: Any) -> None:
        self.runner.send_message(kind, data)

    def setup(self, environment: Any, msg: Any) -> None:
        try:
            experiment = from_raw(msg.data["experiment"], "the master's experiment")
            env = Environment.build(experiment)
            world = World(env, msg.data["url"], msg.data["tokens"], Board(share_news(self.send)))
            self.locust_env.user_classes[:] = user_classes(world)
            self.locust_env.host = msg.data["url"]
            self.world, self.target = world, HttpTarget(msg.data["url"])
            self.send("harness:ready", {})
        except Exception as exc:  # the master must learn why, not wait for a timeout
            self.send("harness:ready", {"error": f"{exc.__class__.__name__}: {exc}"})

    def shift(self, environment: Any, msg: Any) -> None:
        assert self.world is not None and self.target is not None
        clock = ShiftClock.of(self.target)
        self.world.begin(msg.data["replication"], clock, f"w{self.runner.worker_index}:")
        self.flusher = gevent.spawn(self.flush_while_running)
        self.send("harness:ready", {})

    def drained(self, environment: Any, msg: Any) -> None:
        assert self.world is not None
        drain(self.world)
        self.send("harness:ready", {})

    def news(self, environment: Any, msg: Any) -> None:
        assert self.world is not None
        self.world.board.take(msg.data)

    def flush_while_running(self) -> None:
        while True:
            gevent.sleep(FLUSH_SECONDS)
            self.flush()

    def flush(self) -> None:
        if self.world is not None and self.world.shift is not None:
            ops = self.world.shift.recorder.take()
            if ops:
                self.send("harness:ops", ops)

    def stopped(self, environment: Any, **kwargs: Any) -> None:
        if self.world is None or self.world.shift is None:
            return
        if self.flusher is not None:
            self.flusher.kill()
            self.flusher = None
        self.world.shift.recorder.close()
        self.flush()
        self.runner._send_stats()  # Locust's own final report, as on quit, before harness:done
        self.send("harness:done", {})


def drain(world: World) -> None:
    """Before the users are stopped at the shift's end (they start nothing new after it),
    let the requests still in flight come back, so few end indeterminate."""
    shift = world.shift
    deadline = time.monotonic() + DRAIN_SECONDS
    while shift is not None and shift.recorder.in_flight and time.monotonic() < deadline:
        gevent.sleep(0.01)


def share_news(send: Callable[[str, Any], None]) -> Callable[[list], None]:
    return lambda news: send("harness:news", news)

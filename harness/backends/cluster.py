"""Dask distributed: replications on an existing cluster (`dask scheduler` and `dask worker`
on machines that have the project installed), reached with --scheduler tcp://HOST:8786.

Each run's environment is shipped to every worker once; each task is a chunk of
replications (a few seconds of work).

A worker lost while a task is assigned to it: the scheduler runs the task again elsewhere,
as often as its `distributed.scheduler.allowed-failures` setting allows (3 by default; a
task's own `retries` only count exceptions it raises, never a lost worker). So that a chunk
is retried exactly once whatever the cluster's setting, the backend listens to the
scheduler's `remove-worker` events, which name the tasks the worker held, and stops the run
with a HarnessError when a chunk loses its worker a second time. A task that fails, or a
cluster left without workers for WORKERLESS_SECONDS, stops the run the same way.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..errors import BadInput, HarnessError
from .replications import Chunk, Completed, run_chunk

if TYPE_CHECKING:
    from distributed import Client, Future

    from ..world.environment import Environment

POLL_SECONDS = 0.2
CONNECT_SECONDS = 10
WORKERLESS_SECONDS = 10.0
LOSSES = 2  # the loss of a chunk's worker that stops the run: the first one is retried


class DaskBackend:
    def __init__(self, address: str) -> None:
        self.address = address
        self.client = _connect(address)
        self.slots = max(1, sum(self.client.nthreads().values()))

    def __enter__(self) -> DaskBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def run(
        self,
        envs: Sequence[Environment],
        chunks: Sequence[Chunk],
        keep: int,
        take: Callable[[int, Completed], None],
        stopping: threading.Event,
    ) -> bool:
        shipped = [self.client.scatter(env, broadcast=True, hash=False) for env in envs]
        losses = _Losses(self.client)
        pending: dict[Future, Chunk] = {}
        for which, indices in chunks:
            future = self.client.submit(run_chunk, shipped[which], list(indices), keep, pure=False)
            pending[future] = (which, indices)
        watch = _Watchdog(self.client)
        try:
            while pending and not stopping.is_set():
                finished = [future for future in pending if future.done()]
                # a chunk's second loss is heard before any cancelling it caused (losing the
                # last copy of the environment cancels every chunk): check it first
                losses.check(pending)
                for future in finished:
                    which, indices = pending.pop(future)
                    take(which, _result(future, indices, lambda: losses.check(pending)))
                watch.check()
                if not finished:
                    stopping.wait(POLL_SECONDS)
        finally:
            self.client.cancel(list(pending))
            losses.close()
        return not pending


def _connect(address: str) -> Client:
    try:
        from distributed import Client
    except ImportError:
        raise BadInput("--scheduler needs Dask distributed: pip install -e '.[dask]'") from None
    try:
        return Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BadInput(
            f"--scheduler {address}: no Dask scheduler answers there ({exc}); "
            "give tcp://HOST:PORT of a running `dask scheduler`"
        ) from None


def _result(future: Future, indices: Sequence[int], first: Callable[[], None]) -> Completed:
    """A finished task's replications; a task that failed is a harness error, told by
    `first` when a lost worker explains it (a result held by a worker that dies before
    it is fetched is lost with it)."""
    try:
        return future.result()
    except Exception as exc:
        first()
        raise HarnessError(
            f"replications {indices[0]}-{indices[-1]} failed on the Dask cluster "
            f"({type(exc).__name__}: {exc})"
        ) from None


class _Losses:
    """How often each task lost its worker, from the scheduler's `remove-worker` events
    (a worker retired on purpose does not count): the scheduler retries such a task as its
    `allowed-failures` says, this stops the run at a chunk's second loss."""

    TOPIC = "all"  # the scheduler logs every worker's removal here too

    def __init__(self, client: Client) -> None:
        self.client = client
        self.heard: list[str] = []  # appended from the client's event loop thread
        client.subscribe_topic(self.TOPIC, self._hear)

    def _hear(self, event: tuple[float, object]) -> None:
        _, message = event
        if (
            isinstance(message, dict)
            and message.get("action") == "remove-worker"
            and not message.get("expected")
        ):
            self.heard.extend(message.get("processing-tasks", ()))

    def check(self, pending: dict[Future, Chunk]) -> None:
        counts = Counter(self.heard)
        for future, (_, indices) in pending.items():
            if counts[future.key] >= LOSSES:
                raise HarnessError(
                    f"replications {indices[0]}-{indices[-1]} lost their Dask worker "
                    f"{LOSSES} times (killed, out of memory?)"
                )

    def close(self) -> None:
        if self.client.status == "running":  # else the subscription went with the connection
            self.client.unsubscribe_topic(self.TOPIC)


class _Watchdog:
    """Stops a run whose cluster has had no worker (or no scheduler) for too long: its
    tasks would otherwise wait for good."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.last_seen = time.monotonic()
        self.next_look = 0.0

    def check(self) -> None:
        now = time.monotonic()
        if now < self.next_look:
            return
        self.next_look = now + 1.0
        try:
            workers = len(self.client.nthreads())
        except Exception:  # the scheduler is gone: no worker will come back through it
            workers = 0
        if workers:
            self.last_seen = now
        elif now - self.last_seen > WORKERLESS_SECONDS:
            raise HarnessError(f"the Dask cluster has had no worker for {WORKERLESS_SECONDS:.0f} s")

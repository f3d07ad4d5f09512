"""Dask distributed: replications on an existing cluster (`dask scheduler` and `dask worker`
on machines that have the project installed), reached with --scheduler tcp://HOST:8786.

The environment is shipped to every worker once; each task is a chunk of replications
(a few seconds of work). A task whose worker is lost is run again on another worker by the
scheduler (its `allowed-failures` setting says how often); a task the scheduler gives up
on, or a cluster left without workers for WORKERLESS_SECONDS, stops the run with a
HarnessError.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..errors import BadInput, HarnessError
from .replications import Completed, run_chunk

if TYPE_CHECKING:
    from distributed import Client, Future

    from ..world.environment import Environment

POLL_SECONDS = 0.2
CONNECT_SECONDS = 10
WORKERLESS_SECONDS = 10.0


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
        env: Environment,
        chunks: Sequence[Sequence[int]],
        keep: int,
        take: Callable[[Completed], None],
        stopping: threading.Event,
    ) -> bool:
        from distributed import wait

        shipped = self.client.scatter(env, broadcast=True, hash=False)
        pending: dict[Future, Sequence[int]] = {
            self.client.submit(run_chunk, shipped, list(chunk), keep, pure=False, retries=1): chunk
            for chunk in chunks
        }
        watch = _Watchdog(self.client)
        try:
            while pending and not stopping.is_set():
                try:
                    with self.client.as_current():
                        finished, _ = wait(
                            list(pending), timeout=POLL_SECONDS, return_when="FIRST_COMPLETED"
                        )
                except TimeoutError:
                    finished = set()
                for future in finished:
                    take(_result(future, pending.pop(future)))
                watch.check()
        finally:
            self.client.cancel(list(pending))
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


def _result(future: Future, chunk: Sequence[int]) -> Completed:
    """A finished task's replications; a task that failed is a harness error."""
    try:
        return future.result()
    except Exception as exc:
        raise HarnessError(
            f"replications {chunk[0]}-{chunk[-1]} failed on the Dask cluster "
            f"({type(exc).__name__}: {exc})"
        ) from None


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

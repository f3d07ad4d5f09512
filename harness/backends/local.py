"""The local process pool: replications over this machine's cores."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from ..errors import HarnessError
from .replications import Chunk, Completed, default_jobs, run_chunk

if TYPE_CHECKING:
    from ..world.environment import Environment

POLL_SECONDS = 0.2
ATTEMPTS = 2  # a pool that loses a worker is rebuilt once for the chunks left


_worker_envs: Sequence[Environment] = ()


def _init_worker(envs: Sequence[Environment]) -> None:
    """A pool worker leaves stopping to the parent (SIGINT ignored) and dies on SIGTERM.

    Workers are forked with the parent's handlers, which turn SIGTERM into a flag or a
    KeyboardInterrupt. When a worker is killed, the pool terminates the others with SIGTERM
    and joins them; a worker that survives it blocks writing its result to a pipe nobody
    reads any more, and the run hangs for good."""
    global _worker_envs
    _worker_envs = envs
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _worker_chunk(chunk: Chunk, keep: int) -> Completed:
    which, indices = chunk
    return run_chunk(_worker_envs[which], indices, keep)


class LocalPool:
    """`jobs` processes (default: all cores); one runs in this process, without a pool."""

    def __init__(self, jobs: int | None = None) -> None:
        self.slots = max(1, jobs or default_jobs())

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(
        self,
        envs: Sequence[Environment],
        chunks: Sequence[Chunk],
        keep: int,
        take: Callable[[int, Completed], None],
        stopping: threading.Event,
    ) -> bool:
        if self.slots == 1 or len(chunks) == 1:
            return self._serial(envs, chunks, keep, take, stopping)
        left = dict(enumerate(chunks))
        for _ in range(ATTEMPTS):
            try:
                self._pool_pass(envs, left, keep, take, stopping)
                return not left
            except BrokenProcessPool:
                continue
        raise HarnessError(
            f"a pool worker process died twice ({len(left)} chunk(s) of replications not "
            "run); was it killed, out of memory?"
        )

    @staticmethod
    def _serial(
        envs: Sequence[Environment],
        chunks: Sequence[Chunk],
        keep: int,
        take: Callable[[int, Completed], None],
        stopping: threading.Event,
    ) -> bool:
        for which, indices in chunks:
            if stopping.is_set():
                return False
            take(which, run_chunk(envs[which], indices, keep))
        return True

    def _pool_pass(
        self,
        envs: Sequence[Environment],
        left: dict[int, Chunk],
        keep: int,
        take: Callable[[int, Completed], None],
        stopping: threading.Event,
    ) -> None:
        """Run the chunks in `left` on a fresh pool, removing each as it is taken. On Ctrl-C
        hand out no more work, let running chunks finish and take them."""
        workers = min(self.slots, len(left))
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(envs,)) as pool:
            pending: dict[Future, int] = {
                pool.submit(_worker_chunk, chunk, keep): key for key, chunk in left.items()
            }
            while pending and not stopping.is_set():
                finished, _ = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in finished:
                    done = future.result()
                    take(left.pop(pending.pop(future))[0], done)
            for future in pending:
                future.cancel()
            for future, key in pending.items():
                if not future.cancelled():
                    done = future.result()
                    take(left.pop(key)[0], done)

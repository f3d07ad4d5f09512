"""Where replications run: the local process pool (default) or a Dask cluster.

A backend takes the environments of one or more runs (a comparison's configurations) and
chunks of replication indices, each of one run, and hands each finished chunk to `take` as
it arrives. Every replication is seeded from the experiment seed and its index alone, so the
results are the same bit for bit whatever the backend and however many workers it has.
A backend that loses a worker runs the chunk again once; when that fails too it raises
`HarnessError`, and the runner keeps what finished as a partial result.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from ..errors import BadInput

if TYPE_CHECKING:
    from ..world.environment import Environment
    from .replications import Chunk, Completed

SCHEDULER_VARIABLE = "HARNESS_SCHEDULER"


class Backend(Protocol):
    slots: int
    """How many chunks can run at once (processes, or the cluster's worker threads)."""

    def __enter__(self) -> Backend: ...

    def __exit__(self, *exc: object) -> None: ...

    def run(
        self,
        envs: Sequence[Environment],
        chunks: Sequence[Chunk],
        keep: int,
        take: Callable[[int, Completed], None],
        stopping: threading.Event,
    ) -> bool:
        """Run every chunk (`(which, indices)`: replications of `envs[which]`), handing each
        result to `take(which, done)`; False when `stopping` was set before all finished.
        Raises HarnessError when the machinery failed."""
        ...


def scheduler_address(given: str | None) -> str | None:
    """The Dask scheduler to use: --scheduler, else $HARNESS_SCHEDULER, else none (local)."""
    return given or os.environ.get(SCHEDULER_VARIABLE) or None


def open_backend(jobs: int | None, scheduler: str | None = None) -> Backend:
    """The Dask backend when a scheduler address is given, else the local process pool."""
    if scheduler:
        if jobs is not None:
            raise BadInput("--jobs sets local processes: leave it out with a Dask scheduler")
        from .cluster import DaskBackend

        return DaskBackend(scheduler)
    from .local import LocalPool

    return LocalPool(jobs)

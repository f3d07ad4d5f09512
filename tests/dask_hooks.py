"""Preloaded (`dask worker --preload`) by the workers tests/test_backends.py starts: a worker
given the chunk that holds replication $HARNESS_TEST_DIE_AT dies on the spot, as the
out-of-memory killer makes it. Every time, or only the first time when
$HARNESS_TEST_DIE_ONCE names a file to create as the mark that it happened."""

from __future__ import annotations

import os
from collections.abc import Sequence

from harness.backends import replications
from harness.backends.cluster import run_chunk as _run_chunk  # bound before any patching
from harness.backends.replications import Completed
from harness.world.environment import Environment


def _dying_run_chunk(env: Environment, indices: Sequence[int], keep: int) -> Completed:
    once = os.environ.get("HARNESS_TEST_DIE_ONCE")
    if int(os.environ["HARNESS_TEST_DIE_AT"]) in indices:
        try:
            if once:
                open(once, "x").close()
            os._exit(1)
        except FileExistsError:
            pass
    return _run_chunk(env, indices, keep)


if "HARNESS_TEST_DIE_AT" in os.environ:
    # the client ships run_chunk by name: workers look it up here, and find this one (Dask
    # may import this file twice: the original stays the one harness.backends.cluster holds)
    replications.run_chunk = _dying_run_chunk

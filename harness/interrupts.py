"""Stopping on Ctrl-C and SIGTERM by flag, not by exception.

A KeyboardInterrupt raised from a signal handler lands wherever the main thread happens to
be. Inside concurrent.futures, while a future's lock is held, it leaves the pool's manager
thread waiting for that lock forever; inside a garbage-collector callback (Hypothesis
registers one) it is printed and dropped, and the run goes on as if nothing was asked.
Long loops (replications over a process pool, the adversarial search) therefore poll a
flag and stop between units of work.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_requests() -> Iterator[threading.Event]:
    """Within the block, Ctrl-C and SIGTERM only set a flag the caller polls where it is
    safe to stop. Off the main thread signals cannot be caught, so the flag is never set
    there. Processes forked inside the block inherit the handlers: a pool worker must reset
    SIGTERM to its default, or it survives the pool's terminate (harness/backends/local.py)."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

"""Stopping on Ctrl-C and SIGTERM by flag, not by exception.

A KeyboardInterrupt raised from a signal handler lands wherever the main thread happens to
be. Inside concurrent.futures, while a future's lock is held, it leaves the pool's manager
thread waiting for that lock forever; inside a garbage-collector callback (Hypothesis
registers one) it is printed and dropped, and the run goes on as if nothing was asked.
Long loops (replications over a process pool, the adversarial search) therefore poll a
flag and stop between units of work.

While the command line is still importing, nothing has started that a signal could leave
half done, so Ctrl-C and SIGTERM end the process at once, in one line
(`exit_at_once_on_signals`), instead of a traceback from inside an import.

A program that replaces itself (the live-mode process) holds these signals across the
exec until it can take them (`exec_holding_signals`, `release_signals`): one pressed then
is neither lost nor raised in the middle of an import.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

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


@contextmanager
def exit_at_once_on_signals(line: str) -> Iterator[None]:
    """Within the block, Ctrl-C and SIGTERM print `line` and end the process with exit
    code 130, running nothing else (no cleanup is due). Off the main thread, and for a
    signal held (blocked) across an exec, the block changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def leave(signum: int, frame: object) -> None:
        os.write(2, f"{line}\n".encode())
        os._exit(130)

    previous = {sig: signal.signal(sig, leave) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def exec_holding_signals(argv: Sequence[str]) -> NoReturn:
    """Replace this process with `python ARGV`, Ctrl-C and SIGTERM blocked: they wait,
    pending, until the new program calls `release_signals` (POSIX)."""
    sys.stdout.flush()
    sys.stderr.flush()
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        os.execv(sys.executable, [sys.executable, *argv])
    finally:  # reached only when the exec failed
        release_signals()


def release_signals() -> None:
    """Take Ctrl-C and SIGTERM again; one held since the exec reaches the handler now
    installed."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

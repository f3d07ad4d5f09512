"""Ctrl-C and SIGTERM in a live run, in two steps.

The first Ctrl-C asks the run to stop: the shift under way ends at once (its records
finished, the protected accounts probed once more; faults not yet switched stay unswitched),
the faults are switched off, the users, workers and target stopped, and the partial result
written, marked interrupted. A second Ctrl-C, or SIGTERM (what a supervisor sends before it
kills), hurries: the final probes are skipped, and a target the harness started is killed
instead of switched back and asked to stop, so the run ends within seconds even when the
target stopped answering; its partial result is still written.

gevent's signal handlers, not Python's: the callback runs in its own greenlet at once,
where a Python handler would wait for the event loop to come back to Python.
"""

from __future__ import annotations

import signal

import gevent
from gevent.event import Event

from ...interrupts import STOP_SIGNALS, release_signals


class Stopping:
    def __init__(self) -> None:
        self.asked = Event()
        self.hurry = False

    @classmethod
    def on_signals(cls) -> Stopping:
        """Ctrl-C and SIGTERM from now on only ask the run to stop (a signal held since
        the process started arrives now)."""
        stopping = cls()
        for signum in STOP_SIGNALS:
            gevent.signal_handler(signum, stopping.take, signum)
        release_signals()
        return stopping

    def take(self, signum: int) -> None:
        if signum == signal.SIGINT and not self.asked.is_set():
            print(
                "stopping: finishing the shift's records and cleaning up "
                "(Ctrl-C again to stop at once)",
                flush=True,
            )
        elif not self.hurry:
            self.hurry = True
            print(
                "stopping at once: no final probes; a target the harness started is killed",
                flush=True,
            )
        self.asked.set()

    def is_set(self) -> bool:
        return self.asked.is_set()

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` wall seconds for a stop; whether one was asked."""
        return self.asked.wait(max(0.0, timeout))

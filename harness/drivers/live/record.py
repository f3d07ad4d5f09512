"""One process's share of a live shift's history (see `harness.history`).

Every request is recorded when invoked and again when it completes: ok with the answer,
fail with the refusal (a 4xx: certainly no effect) or info (a 5xx, a timeout, a lost
connection: it may or may not have taken effect). An indeterminate write is tried again
with the same idempotency key, so the target gives the first answer if the first attempt
took effect and does it now if it did not; each attempt is its own pair of records.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

import gevent

from targets.moderation import ModerationError

from ...history import FAIL, INFO, INVOKE, OK, Op
from ..client import HttpTarget, Indeterminate
from .clock import ShiftClock

T = TypeVar("T")
RETRY_WALL_SECONDS = (0.05, 0.1, 0.2, 0.4) + (0.5,) * 6
"""Pauses before trying an indeterminate write again: doubling at first, then capped at
half a second, so that an operator whose target comes back loses at most that much of its
shift (at time scale 600, five simulated minutes); long enough together (3.75 s of wall
time) to outlast a restart of the served target."""


class Refused(Exception):
    """The target refused the request (recorded as fail)."""


class Unknown(Exception):
    """The request stayed indeterminate (recorded as info)."""


class Recorder:
    def __init__(self, clock: ShiftClock, end: float, prefix: str) -> None:
        self.clock = clock
        self.end = end  # shift second after which nothing is tried again
        self.prefix = prefix  # makes idempotency keys unique to this process and shift
        self.ops: list[Op] = []
        self.in_flight: dict[str, tuple[str, dict]] = {}  # process -> what it invoked
        self.count = 0

    def record(self, process: str, type_: str, f: str, value: dict[str, Any]) -> None:
        if type_ == INVOKE:
            self.in_flight[process] = (f, value)
        else:
            self.in_flight.pop(process, None)
        self.ops.append((self.clock.now(), process, type_, f, value))

    def observed(self, t: float, process: str, f: str, value: dict[str, Any]) -> None:
        """Something seen happen at shift second `t` that no request of the harness did
        (a timer of the target)."""
        self.ops.append((t, process, OK, f, value))

    def key(self) -> str:
        """A fresh idempotency key."""
        self.count += 1
        return f"{self.prefix}:{self.count}"

    def attempt(
        self,
        process: str,
        f: str,
        value: dict[str, Any],
        call: Callable[[], T],
        merge: Callable[[dict[str, Any], T], dict[str, Any]],
    ) -> T:
        """Invoke `call` and record how it ended (`merge` adds the answer to the value);
        returns the answer or raises `Refused` or `Unknown`. A write (its value has a
        "key") that stays indeterminate is tried again while the shift lasts."""
        pauses = iter(RETRY_WALL_SECONDS if "key" in value else ())
        while True:
            self.record(process, INVOKE, f, value)  # never changed: answers go to copies
            try:
                answer = call()
            except ModerationError as exc:
                self.record(process, FAIL, f, {**value, "error": exc.code, "message": str(exc)})
                raise Refused(str(exc)) from None
            except Indeterminate as exc:
                failed = {**value, "error": "indeterminate", "message": str(exc)[:200]}
                self.record(process, INFO, f, failed)
                pause = next(pauses, None)
                if pause is None or self.clock.now() >= self.end:
                    raise Unknown(str(exc)) from None
                gevent.sleep(pause)
                continue
            self.record(process, OK, f, merge(dict(value), answer))
            return answer

    def close(self) -> None:
        """End the shift's records: an operation still in flight (its user was stopped)
        may or may not have taken effect."""
        for process, (f, value) in list(self.in_flight.items()):
            self.record(process, INFO, f, {**value, "error": "stopped"})

    def take(self) -> list[Op]:
        """The records so far, handed over once."""
        ops, self.ops = self.ops, []
        return ops


def probe(recorder: Recorder, target: HttpTarget, process: str, account_id: int) -> None:
    """Look at an account's status, recorded as a `status` operation."""
    with contextlib.suppress(Refused, Unknown):
        recorder.attempt(
            process,
            "status",
            {"account": account_id},
            lambda: target.account_status(account_id),
            lambda value, status: {**value, "status": status},
        )

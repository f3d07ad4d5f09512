"""Shift time in live mode: the served target's clock, read once per shift and carried on
by this process's own monotonic clock at the target's time scale."""

from __future__ import annotations

import time

import gevent

from ..client import HttpTarget


class ShiftClock:
    def __init__(self, now: float, scale: float, wall: float) -> None:
        self.origin = now  # shift seconds at monotonic time `wall`
        self.scale = scale
        self.wall = wall

    @classmethod
    def of(cls, target: HttpTarget) -> ShiftClock:
        """Calibrated against the target: its time, taken halfway through the request."""
        sent = time.monotonic()
        clock = target.clock()
        received = time.monotonic()
        return cls(clock["now"], clock["scale"], (sent + received) / 2)

    def now(self) -> float:
        return self.origin + (time.monotonic() - self.wall) * self.scale

    def wall_seconds(self, simulated: float) -> float:
        return simulated / self.scale

    def sleep_until(self, t: float) -> None:
        """Wait (cooperatively) until shift second `t`."""
        wait = (t - self.now()) / self.scale
        if wait > 0:
            gevent.sleep(wait)

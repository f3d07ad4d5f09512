"""Injected clocks: the core never reads wall time itself, so the simulator can run a
virtual shift in milliseconds and the HTTP service can run it faster than real time."""

from __future__ import annotations

import time
from typing import Protocol

MAX_TIME_SCALE = 10_000_000.0
"""Simulated seconds per wall second at most (a wall second is then 16 weeks, more than any
shift needs); far beyond it a running clock soon leaves the range of a float."""


class Clock(Protocol):
    """Seconds since the start of the shift."""

    def now(self) -> float: ...


class ManualClock:
    """A virtual clock that only moves when the driver moves it."""

    __slots__ = ("_now",)

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def set(self, t: float) -> None:
        if t < self._now:
            raise ValueError(f"clock cannot move backwards from {self._now} to {t}")
        self._now = t


class ScaledClock:
    """Wall time multiplied by `scale`: at scale 600 one wall second is ten simulated minutes.

    `origin` is the wall time (time.time()) of simulated second `offset`, so a restarted
    service that keeps its origin continues the same shift.
    """

    def __init__(self, scale: float = 1.0, origin: float | None = None, offset: float = 0.0):
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.scale = scale
        self.origin = time.time() if origin is None else origin
        self.offset = offset

    def now(self) -> float:
        return self.offset + (time.time() - self.origin) * self.scale

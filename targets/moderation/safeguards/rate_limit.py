"""Rate limit: at most so many destructive actions (and restores) per operator per window."""

from __future__ import annotations

from collections import deque
from collections.abc import Set

from pydantic import Field

from ..config import Settings
from ..durations import Duration
from ..model import OperatorRecord
from .base import OperatorSafeguard, Safeguard


class RateLimitConfig(Settings):
    """At most `max_actions` destructive actions per operator per `window`."""

    enabled: bool = False
    max_actions: int = Field(20, ge=1)
    window: Duration = Field(3600.0, gt=0)


class RateLimit(OperatorSafeguard):
    name = "rate_limit"
    title = "rate limit"
    settings = RateLimitConfig
    consulted = 30
    listed = 40
    config: RateLimitConfig

    def __init__(self, config: RateLimitConfig, faults: Set[str]) -> None:
        super().__init__(config, faults)
        self._actions: dict[str, deque[float]] = {}

    def state_key(self) -> tuple:
        return tuple(sorted((k, tuple(v)) for k, v in self._actions.items() if v))

    def copy_state_into(self, twin: Safeguard) -> None:
        assert isinstance(twin, RateLimit)
        twin._actions = {k: deque(v) for k, v in self._actions.items()}

    def check(self, op: OperatorRecord, now: float) -> bool:
        """True when `op` used up its actions in the window; otherwise counts this one."""
        cfg = self.config
        recent = self._actions.setdefault(op.id, deque())
        horizon = now - cfg.window
        while recent and recent[0] <= horizon:
            recent.popleft()
        if len(recent) >= cfg.max_actions:
            return True
        recent.append(now)
        return False


SAFEGUARD = RateLimit

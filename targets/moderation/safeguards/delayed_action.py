"""Delayed action: a destructive action on a high-reach account takes effect after a delay,
during which a monitor (or a senior) can cancel it."""

from __future__ import annotations

from pydantic import Field

from ..config import Settings
from ..durations import Duration
from ..model import AccountProfile, OperatorRecord
from .base import AccountSafeguard

DELAYED_ACTION = "delayed_action"


class DelayedActionConfig(Settings):
    """Destructive actions on high-reach accounts wait `delay`; a monitor cancels wrongful ones
    with `cancel_probability` before they take effect."""

    enabled: bool = False
    min_followers: int = Field(1_000_000, ge=0)
    delay: Duration = Field(1800.0, gt=0)
    cancel_probability: float = Field(0.9, ge=0.0, le=1.0)


class DelayedAction(AccountSafeguard):
    name = DELAYED_ACTION
    title = "delayed action"
    settings = DelayedActionConfig
    consulted = 60
    listed = 50
    config: DelayedActionConfig

    def check(self, op: OperatorRecord, account: AccountProfile) -> float | None:
        """Seconds a destructive action on `account` waits before taking effect, if any."""
        cfg = self.config
        if cfg.enabled and (account.protected or account.followers >= cfg.min_followers):
            return cfg.delay
        return None


SAFEGUARD = DelayedAction

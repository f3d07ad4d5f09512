"""Delayed action: a destructive action on a high-reach account takes effect after a delay,
during which a monitor (or a senior) can cancel it."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import Field

from ..config import Settings
from ..durations import Duration
from ..model import DELAYED, AccountProfile
from .base import AccountSafeguard, Request, Verdict


class DelayedActionConfig(Settings):
    """Destructive actions on high-reach accounts wait `delay`; a monitor cancels wrongful ones
    with `cancel_probability` before they take effect."""

    enabled: bool = False
    min_followers: int = Field(1_000_000, ge=0)
    delay: Duration = Field(1800.0, gt=0)
    cancel_probability: float = Field(0.9, ge=0.0, le=1.0)


class DelayedAction(AccountSafeguard):
    name = "delayed_action"
    title = "delayed action"
    settings = DelayedActionConfig
    consulted = 60
    listed = 50
    monitor = "delay_monitor"
    config: DelayedActionConfig

    def check(self, request: Request) -> Verdict | None:
        """Delay an action on a protected or high-reach account."""
        cfg, account = self.config, request.account
        if account.protected or account.followers >= cfg.min_followers:
            return Verdict(DELAYED, delay=cfg.delay)
        return None

    def cancels(self, account: AccountProfile, draw: Callable[[str, float], bool]) -> bool:
        kind = "cancel_protected" if account.protected else "cancel"
        return draw(kind, self.config.cancel_probability)


SAFEGUARD = DelayedAction

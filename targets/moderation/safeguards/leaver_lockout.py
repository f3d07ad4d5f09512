"""Leaver lockout: operators within `days_before_exit` of their exit date lose destructive
permissions (CERT/SEI: most leaver misuse falls within 30-60 days of exit)."""

from __future__ import annotations

from collections.abc import Set

from pydantic import Field

from ..config import FailMode, Settings
from ..durations import DAY, format_duration
from ..model import OperatorRecord
from .base import Dependency, OperatorSafeguard


class LeaverLockoutConfig(Settings):
    """Operators within `days_before_exit` of their exit date lose destructive permissions."""

    enabled: bool = False
    days_before_exit: float = Field(1.0, ge=0)
    # while the HR feed is stale: open = nobody counts as leaving, closed = anybody might be
    fail: FailMode = "open"

    def locks_from(self, exit_at: float) -> float:
        """When an operator leaving at `exit_at` loses destructive permissions (a fresh HR
        feed assumed)."""
        return exit_at - self.days_before_exit * DAY


class LeaverLockout(OperatorSafeguard):
    name = "leaver_lockout"
    title = "leaver lockout"
    settings = LeaverLockoutConfig
    consulted = 10
    listed = 30
    dependency = Dependency("hr_feed_stale", "the HR feed goes stale", "the HR feed is fresh again")
    guards_approvals = True  # a leaver's second approval is as dangerous as its request
    config: LeaverLockoutConfig

    def check(self, op: OperatorRecord, now: float) -> bool:
        """True when the HR feed says `op` leaves within the lockout horizon.

        A stale HR feed does not know who is leaving: failing open lets everyone through,
        failing closed locks everyone out until the feed is fresh again.
        """
        if self.fault in self.faults:
            return self.config.fail == "closed"
        return op.exit_at is not None and now >= self.config.locks_from(op.exit_at)

    def why_passed(
        self, op: OperatorRecord, at: float, faults: Set[str], second_approval: bool
    ) -> str | None:
        cfg, exit_at = self.config, op.exit_at
        if not cfg.enabled or exit_at is None or at < cfg.locks_from(exit_at):
            return None
        if self.fault not in faults:
            return None
        return (
            f"the HR feed is stale, so the leaver lockout does not know {op.id} leaves "
            f"at {format_duration(exit_at)}"
        )


SAFEGUARD = LeaverLockout

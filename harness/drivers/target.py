"""What the harness may ask of a moderation service, in-process or over the network.

`targets.moderation.ModerationService` satisfies this protocol directly (the simulator and
in-process search call it); an HTTP client of `harness serve` implements the same methods,
arguments and return types and raises the same `ModerationError` subclasses from the
service's 4xx answers, so drivers and the checker do not care which one they hold. This is
also the surface a real moderation service would need to speak for the harness to measure it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from targets.moderation import AccountView, AuditEntry, Outcome, PendingView, ReportView


class Target(Protocol):
    # --- operator calls: `token` is the calling operator's own credential ----------------

    def file_report(
        self,
        reporter: str,
        account_id: int,
        violating: bool = False,
        *,
        idempotency_key: str | None = None,
    ) -> int: ...

    def claim(self, token: str, *, idempotency_key: str | None = None) -> ReportView | None: ...

    def decide(
        self,
        token: str,
        report_id: int,
        decision: str,
        action: str | None = None,
        second_approver: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Outcome: ...

    def second_approve(
        self, token: str, pending_id: int, approve: bool, *, idempotency_key: str | None = None
    ) -> Outcome: ...

    def direct_action(
        self,
        token: str,
        account_id: int,
        action: str,
        second_approver: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Outcome: ...

    def cancel(
        self, token: str, pending_id: int, *, idempotency_key: str | None = None
    ) -> Outcome: ...

    def restore(
        self, token: str, account_id: int, *, idempotency_key: str | None = None
    ) -> Outcome: ...

    def pending_approvals(self, token: str) -> list[PendingView]: ...

    # --- reads -------------------------------------------------------------------------

    def account(self, account_id: int) -> AccountView: ...

    def account_status(self, account_id: int) -> str: ...

    def audit(self, cursor: int = 0, limit: int = 1000) -> list[AuditEntry]: ...

    # --- admin (chaos) -------------------------------------------------------------------

    def set_fault(self, kind: str, active: bool) -> frozenset[str]: ...


class Timeline(Protocol):
    """A target whose clock the driver moves (the simulator's virtual time)."""

    def advance(self, t: float) -> Sequence[Outcome]:
        """Move the target's clock to `t`, firing each timer due meanwhile at its own
        instant; returns what the timers did, in order."""
        ...


class TimedTarget(Target, Timeline, Protocol):
    """A target the simulator can drive: `ModerationService` on a `ManualClock`, or a
    served target in manual-clock mode through the HTTP client."""


Connect = Callable[[str], tuple[TimedTarget, Mapping[str, str]]]
"""Given the target's seed, a fresh target at the start of a shift and every operator's
credentials (operator id -> token)."""

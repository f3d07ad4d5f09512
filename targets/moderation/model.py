"""Domain entities of the moderation service.

Ground truth lives on the report (`violating`) so the target can model a monitor that
recognises wrongful actions, but it is never part of what operators are shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

Role = Literal["reviewer", "senior"]
Decision = Literal["approve", "dismiss", "escalate"]
Action = Literal["suspend", "deactivate"]
ACTIONS: tuple[str, ...] = Action.__args__
DECISIONS: tuple[str, ...] = Decision.__args__
ROLES: tuple[str, ...] = Role.__args__
ACTIVE = "active"
STATUS_AFTER: dict[str, str] = {"suspend": "suspended", "deactivate": "deactivated"}
"""The account status each destructive action leaves."""
DOWN_STATUSES = frozenset(STATUS_AFTER.values())

# Outcome statuses: what an operator call (or a timer) did.
APPLIED = "applied"  # the action took effect
DISMISSED = "dismissed"
ESCALATED = "escalated"  # the report now waits in the senior queue
BLOCKED = "blocked"  # a safeguard refused the action
REQUEUED = "requeued"  # a safeguard refused this operator; the report went back to the queue
PENDING_APPROVAL = "pending_approval"  # waits for a second approver
DELAYED = "delayed"  # takes effect at `due_at` unless cancelled
REJECTED = "rejected"  # the second approver said no
CANCELLED = "cancelled"  # a delayed action was stopped before taking effect
RESTORED = "restored"
FINAL_STATUSES = frozenset({APPLIED, DISMISSED, BLOCKED, REJECTED, CANCELLED})


@dataclass(frozen=True, slots=True)
class AccountProfile:
    """An account as the platform knows it; status is kept by the service."""

    id: int
    handle: str
    name: str
    followers: int
    protected: bool = False


@dataclass(frozen=True, slots=True)
class OperatorRecord:
    """A human reviewer with credentials. `exit_at` is the exit time in shift seconds."""

    id: str
    role: Role
    token: str
    exit_at: float | None = None

    def departed(self, now: float) -> bool:
        return self.exit_at is not None and now >= self.exit_at


@dataclass(slots=True)
class Report:
    id: int
    account_id: int
    reporter: str
    violating: bool
    filed_at: float
    queue: str = "ordinary"  # ordinary | senior
    state: str = "queued"  # queued | claimed | decided
    claimed_by: str | None = None
    outcome: str | None = None
    refused: set[str] | None = None  # operators a safeguard stopped from acting on it


@dataclass(slots=True)
class PendingAction:
    """A destructive action waiting for a second approver or for its delay to pass."""

    id: int
    account_id: int
    action: str
    requested_by: str
    report_id: int | None
    wrongful: bool
    state: str  # awaiting_approval | scheduled | applied | rejected | cancelled | blocked
    approver: str | None = None
    due_at: float | None = None
    held_by: str | None = None  # the safeguard that last held it (second approval, delay)


class Outcome(NamedTuple):
    """What a call did. `safeguard` names the control that stopped or diverted the action."""

    status: str
    account_id: int | None = None
    action: str | None = None
    report_id: int | None = None
    safeguard: str | None = None
    pending_id: int | None = None
    approver: str | None = None
    due_at: float | None = None
    at: float | None = None


class ReportView(NamedTuple):
    """A queue item as an operator sees it: no ground truth."""

    id: int
    account_id: int
    handle: str
    followers: int
    queue: str
    filed_at: float


class PendingView(NamedTuple):
    """A pending action as its assigned second approver sees it."""

    id: int
    account_id: int
    handle: str
    action: str
    requested_by: str
    report_id: int | None
    state: str
    due_at: float | None


class AccountView(NamedTuple):
    id: int
    handle: str
    name: str
    followers: int
    protected: bool
    status: str


class AuditEntry(NamedTuple):
    seq: int
    at: float
    actor: str
    event: str
    account_id: int | None = None
    report_id: int | None = None
    pending_id: int | None = None
    action: str | None = None
    detail: str | None = None

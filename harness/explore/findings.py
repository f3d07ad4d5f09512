"""What counts as a way past, read from the target's answers, audit log and account status.

Never from the target's counters (the black-box rule), so the same checks hold against a
live target:

- `protected_down`: a protected account went down (an `applied` audit entry on it, or its
  status read back as suspended or deactivated);
- `own_second_approver`: an operator was assigned, or gave, the second approval of its own
  request (`approval_requested` names the requester as approver, or `approved` comes from
  the requester);
- `departed_acting`: a request made with a departed operator's credentials was answered
  instead of refused;
- `replay_counted_twice`: a request retried with the same idempotency key got a different
  answer, or changed the audit log;
- `approver_redrawn`: where the system chooses second approvers, a requester asking again
  for the same account was assigned another approver than before, though that one had not
  left (`approval_requested` entries); asking again must not re-draw;
- `applied_twice`: one report took effect twice (two `applied` entries name it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from targets.moderation import STATUS_AFTER, AuditEntry

PROTECTED_DOWN = "protected_down"
OWN_SECOND_APPROVER = "own_second_approver"
DEPARTED_ACTING = "departed_acting"
REPLAY_COUNTED_TWICE = "replay_counted_twice"
APPROVER_REDRAWN = "approver_redrawn"
APPLIED_TWICE = "applied_twice"
KINDS = {
    PROTECTED_DOWN: "a protected account went down",
    OWN_SECOND_APPROVER: "an operator was its own second approver",
    DEPARTED_ACTING: "a departed operator acted",
    REPLAY_COUNTED_TWICE: "a replayed request counted twice",
    APPROVER_REDRAWN: "a requester re-drew its second approver",
    APPLIED_TWICE: "a report took effect twice",
}
PRECEDENCE = (
    DEPARTED_ACTING,
    OWN_SECOND_APPROVER,
    REPLAY_COUNTED_TWICE,
    APPROVER_REDRAWN,
    APPLIED_TWICE,
    PROTECTED_DOWN,
)
"""A broken security rule is the cause when a protected account goes down in the same step."""


@dataclass
class Seen:
    """What earlier audit entries of an attempt said, for the checks of later ones."""

    requesters: dict[int, str] = field(default_factory=dict)  # pending id -> requester
    drawn: dict[tuple[str, int], str] = field(default_factory=dict)  # (requester, account)
    applied: set[int] = field(default_factory=set)  # reports that took effect


@dataclass(frozen=True)
class Finding:
    kind: str
    step: int  # 1-based position of the step in the trace
    detail: str  # one sentence a person can read
    account: int | None = None


def audit_findings(
    entries: Iterable[AuditEntry],
    step: int,
    protected: frozenset[int],
    seen: Seen,
    handles: Mapping[int, str],
    exits: Mapping[str, float | None] | None,
) -> list[Finding]:
    """Findings in new audit entries; `seen` is kept up to date across calls. `exits`
    (operator -> exit time) when the system chooses second approvers, else None."""
    found = []
    for e in entries:
        if e.event == "approval_requested":
            seen.requesters[e.pending_id] = e.actor
            if e.detail == e.actor:
                found.append(
                    Finding(
                        OWN_SECOND_APPROVER,
                        step,
                        f"{e.actor} was made the second approver of its own request",
                        e.account_id,
                    )
                )
            if exits is not None:
                found += _redrawn(e, step, seen, handles, exits)
        elif e.event == "approved" and seen.requesters.get(e.pending_id) == e.actor:
            found.append(
                Finding(
                    OWN_SECOND_APPROVER,
                    step,
                    f"{e.actor} gave the second approval to its own request",
                    e.account_id,
                )
            )
        elif e.event == "applied":
            if e.report_id in seen.applied:
                detail = f"report {e.report_id} took effect a second time"
                found.append(Finding(APPLIED_TWICE, step, detail, e.account_id))
            if e.report_id is not None:
                seen.applied.add(e.report_id)
            if e.account_id in protected:
                status = STATUS_AFTER.get(e.action, e.action)
                detail = f"@{handles[e.account_id]} was {status}"
                found.append(Finding(PROTECTED_DOWN, step, detail, e.account_id))
    return found


def _redrawn(
    e: AuditEntry,
    step: int,
    seen: Seen,
    handles: Mapping[int, str],
    exits: Mapping[str, float | None],
) -> list[Finding]:
    """A requester asking again for an account got another approver, the first still there."""
    key = (e.actor, e.account_id)
    before = seen.drawn.get(key)
    seen.drawn[key] = e.detail
    if before is None or before == e.detail:
        return []
    left = exits.get(before)
    if left is not None and e.at >= left:
        return []
    where = f"@{handles[e.account_id]}" if e.account_id in handles else f"account {e.account_id}"
    detail = f"{e.actor} asked again for {where} and got {e.detail} instead of {before}"
    return [Finding(APPROVER_REDRAWN, step, detail, e.account_id)]


def status_finding(account: int, status: str, step: int, handle: str) -> Finding:
    return Finding(PROTECTED_DOWN, step, f"@{handle} reads back as {status}", account)


def departed_finding(operator: str, left_at: str, method: str, at: str, step: int) -> Finding:
    return Finding(
        DEPARTED_ACTING,
        step,
        f"{operator} left at {left_at}, yet its {method} request at {at} was answered",
    )


def retry_finding(
    caller: str, method: str, same_answer: bool, new_entries: int, step: int
) -> Finding | None:
    if same_answer and not new_entries:
        return None
    what = f"added {new_entries} audit entries" if new_entries else "got a different answer"
    return Finding(REPLAY_COUNTED_TWICE, step, f"the retried {method} request by {caller} {what}")

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
  answer, or changed the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from targets.moderation import STATUS_AFTER, AuditEntry

PROTECTED_DOWN = "protected_down"
OWN_SECOND_APPROVER = "own_second_approver"
DEPARTED_ACTING = "departed_acting"
REPLAY_COUNTED_TWICE = "replay_counted_twice"
KINDS = {
    PROTECTED_DOWN: "a protected account went down",
    OWN_SECOND_APPROVER: "an operator was its own second approver",
    DEPARTED_ACTING: "a departed operator acted",
    REPLAY_COUNTED_TWICE: "a replayed request counted twice",
}
PRECEDENCE = (DEPARTED_ACTING, OWN_SECOND_APPROVER, REPLAY_COUNTED_TWICE, PROTECTED_DOWN)
"""A broken security rule is the cause when a protected account goes down in the same step."""


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
    requesters: dict[int, str],
    handles: Mapping[int, str],
) -> list[Finding]:
    """Findings in new audit entries; `requesters` (pending id -> requester) is kept
    up to date across calls."""
    found = []
    for e in entries:
        if e.event == "approval_requested":
            requesters[e.pending_id] = e.actor
            if e.detail == e.actor:
                found.append(
                    Finding(
                        OWN_SECOND_APPROVER,
                        step,
                        f"{e.actor} was made the second approver of its own request",
                        e.account_id,
                    )
                )
        elif e.event == "approved" and requesters.get(e.pending_id) == e.actor:
            found.append(
                Finding(
                    OWN_SECOND_APPROVER,
                    step,
                    f"{e.actor} gave the second approval to its own request",
                    e.account_id,
                )
            )
        elif e.event == "applied" and e.account_id in protected:
            status = STATUS_AFTER.get(e.action, e.action)
            found.append(
                Finding(
                    PROTECTED_DOWN, step, f"@{handles[e.account_id]} was {status}", e.account_id
                )
            )
    return found


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

"""A trace told as numbered steps a person can read.

Each step says who did what, why they would (a mistake, collusion, an attacker), what the
target answered and, when an action took effect, which safeguard let it through and why
("the approval service is down; fail-open lets the action through"). The explanations
come from the experiment's settings, the faults active at that moment and the operator's
exit time; what happened comes from the target's answers and audit log.
"""

from __future__ import annotations

from targets.moderation import (
    APPLIED,
    BLOCKED,
    CANCELLED,
    DELAYED,
    ESCALATED,
    PENDING_APPROVAL,
    REJECTED,
    REQUEUED,
    RESTORE_MONITOR,
    RESTORED,
    STATUS_AFTER,
    AuditEntry,
    Outcome,
)
from targets.moderation.durations import format_duration
from targets.moderation.safeguards import DEPENDENCIES, MONITORS, SAFEGUARDS, Safeguards

from .behaviour import Conduct
from .findings import KINDS, Finding
from .play import Attempt, Call, Step
from .space import SearchSpace
from .steps import Approve, Cancel, DirectAction, Fault, Restore, Retry, SecondApprove, Wait
from .trace import TraceFinding

NOUN = {"suspend": "suspension", "deactivate": "deactivation"}
DEPENDENCY = {d.fault: (d.fails, d.recovers) for d in DEPENDENCIES}
TITLES = {s.name: s.title for s in SAFEGUARDS}
DECISIVE = ("decide", "second_approve", "direct_action", "cancel", "restore")


class Narrator:
    def __init__(self, space: SearchSpace, conduct: Conduct) -> None:
        self.space = space
        self.conduct = conduct
        self.roster = {spec.id: spec for spec in space.env.roster}
        self.safeguards = Safeguards(space.env.target_safeguards)

    def lines(self, attempt: Attempt) -> list[str]:
        taken = [s for s in attempt.steps if s.taken]
        return [f"{n}. {self.step(s)}" for n, s in enumerate(taken, start=1)]

    # --- one step ------------------------------------------------------------------------

    def step(self, step: Step) -> str:
        move = step.move
        if isinstance(move, Fault):
            parts = [DEPENDENCY[move.fault][0 if move.active else 1]]
        elif isinstance(move, Wait):
            parts = [f"{format_duration(move.minutes * 60.0)} pass"]
        elif isinstance(move, Retry):
            parts = [self._retry(step)]
        else:
            parts = [self._act(step)]
        parts += self._timers(step)
        when = f"at {format_duration(step.at)}: " if step.at else ""
        return when + "; ".join(p for p in parts if p)

    def _act(self, step: Step) -> str:
        move = step.move
        attacker = isinstance(move, DirectAction) or move.attacker
        who = self._who(step.actor, attacker)
        decisive = next((c for c in step.calls if c.method in DECISIVE), None)
        refused = next((c for c in step.calls if c.error is not None), None)
        if isinstance(move, Approve):
            what = self._approval(step, move, who, refused)
        elif isinstance(move, SecondApprove):
            what = self._second_approval(step, move, who)
        elif isinstance(move, Cancel):
            what = self._cancel(step, who)
        elif isinstance(move, Restore):
            what = f"{who} restores @{self.space.handle(move.account)}"
        else:
            action = self.conduct.action(move.actor, True)
            what = f"{who} orders the {NOUN[action]} of @{self.space.handle(move.account)}"
            what += " directly in the admin tool" + _naming(move.second)
        intent = step.intent
        if intent is not None and not attacker:
            what += f" ({intent.why})"
        if refused is not None:
            return f"{what}; the target refuses: {refused.error}"
        if decisive is None:
            return what
        return f"{what}; {self._answer(step, decisive)}"

    def _approval(self, step: Step, move: Approve, who: str, refused: Call | None) -> str:
        """What an operator's approval of a report was."""
        action = NOUN[self.conduct.action(move.actor, move.attacker)]
        if move.again:
            return f"{who} decides its report again, approving the {action} once more" + _naming(
                move.second
            )
        claim = next((c for c in step.calls if c.method == "claim"), None)
        view = claim.answer if claim is not None else None
        if view is None and refused is None:
            return f"{who} takes the next report in the queue, but there is none"
        account = view.handle if view else self.space.handle(move.account)
        source = "" if move.account is not None else "the next report in the queue: "
        escalated = " (escalated)" if view is not None and view.queue == "senior" else ""
        return f"{who} approves {source}{action} of @{account}{escalated}" + _naming(move.second)

    def _second_approval(self, step: Step, move: SecondApprove, who: str) -> str:
        read = next((c for c in step.calls if c.method == "pending_approvals"), None)
        if move.own:
            return f"{who} tries to give the second approval to its own request"
        if move.unasked:
            call = next(c for c in step.calls if c.method == "second_approve")
            return (
                f"{who} gives the second approval to pending action {call.args[1]} out of "
                "turn, though the target did not ask it to"
            )
        if read is not None and read.answer:
            w = read.answer[0]
            return (
                f"{who} gives the second approval to {w.requested_by}'s "
                f"{NOUN.get(w.action, w.action)} of @{w.handle}"
            )
        return f"{who} opens its second approvals"

    def _cancel(self, step: Step, who: str) -> str:
        call = next(c for c in step.calls if c.method == "cancel")
        pending = call.args[1]
        if call.answer is not None:
            action = NOUN.get(call.answer.action, call.answer.action)
            handle = self.space.handle(call.answer.account_id)
            return f"{who} cancels pending action {pending}, the {action} of @{handle}"
        return f"{who} tries to cancel pending action {pending}"

    def _answer(self, step: Step, call: Call) -> str:
        out: Outcome = call.answer
        handle = "@" + self.space.handle(out.account_id) if out.account_id else "the account"
        if out.status == APPLIED:
            reasons = self._let_through(step, call)
            return "; ".join([*reasons, f"{handle} is {STATUS_AFTER.get(out.action, out.action)}"])
        if out.status == ESCALATED:
            return f"the {_name(out.safeguard)} sends it to the senior queue"
        if out.status == PENDING_APPROVAL:
            named = getattr(step.move, "second", None) is not None
            by = "named by the requester" if named else "chosen by the system"
            return f"the {_name(out.safeguard)} asks {out.approver} ({by}) for a second approval"
        if out.status == DELAYED:
            return f"it is delayed until {format_duration(out.due_at)} and can be cancelled"
        if out.status == REQUEUED:
            return (
                f"the {_name(out.safeguard)} refuses {call.caller}; the report goes back "
                "to the queue"
            )
        if out.status in (BLOCKED, REJECTED):
            return f"the {_name(out.safeguard)} stops it ({out.status})"
        if out.status == CANCELLED:
            return "it will not take effect"
        if out.status == RESTORED:
            if any(e.event == "restored" for e in step.events):
                return f"{handle} is active again"
            return f"{handle} was not down: nothing changes"
        return out.status

    def _let_through(self, step: Step, call: Call) -> list[str]:
        """Why each safeguard that could have stopped this action did not."""
        op = self.roster[call.caller].record
        second = call.method == "second_approve"
        reasons = self.safeguards.why_passed(op, step.at, step.faults, second)
        return reasons or ["no safeguard stands in its way"]

    def _retry(self, step: Step) -> str:
        call = step.calls[0]
        what = f"{call.caller}'s last request ({call.method}) is sent again with the same key"
        if call.error is not None:
            return f"{what}; the target refuses: {call.error}"
        return f"{what}; the target answers"

    def _timers(self, step: Step) -> list[str]:
        """What the target's own timers did meanwhile (delayed actions, restores)."""
        said = []
        for e in step.events:
            if e.actor == RESTORE_MONITOR:
                said.append(f"the restore monitor brings @{self._handle(e)} back")
            elif e.event == "cancelled" and e.actor in MONITORS:
                monitor = e.actor.replace("_", " ")
                said.append(f"the {monitor} cancels the {NOUN[e.action]} of @{self._handle(e)}")
            elif e.event == "applied" and isinstance(step.move, Wait):
                said.append(
                    f"the delay monitor lets the {NOUN[e.action]} of @{self._handle(e)} take effect"
                )
        return said

    # --- helpers -------------------------------------------------------------------------

    def _who(self, actor: str, attacker: bool) -> str:
        spec = self.roster[actor]
        if attacker:
            return f"an attacker holding {spec.record.role} {actor}'s credentials"
        return f"{spec.record.role} {actor}"

    def _handle(self, e: AuditEntry) -> str:
        return self.space.handle(e.account_id)


def _name(safeguard: str | None) -> str:
    return TITLES.get(safeguard or "", "target")


def headline(finding: Finding | TraceFinding) -> str:
    """The finding in one line: what broke, and where."""
    return f"{KINDS[finding.kind]}: {finding.detail} (step {finding.step})"


def _naming(second: str | None) -> str:
    """How a move names the second approver the requester chose, if it does."""
    return "" if second is None else f", naming {second} as second approver"

"""Playing a sequence of moves against a fresh target, and what each step did.

The same player runs every attempt of a search and every replay of a trace, so a trace
reproduces exactly what the search saw. A move the operator's persona would not make at
that moment (see `behaviour`) is not taken and has no effect. After each step the player
reads the new audit entries and the status of the searched accounts and checks them and
the answers for findings; the first step with a finding ends the attempt.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from targets.moderation import DOWN_STATUSES, PENDING_APPROVAL, AuditEntry, ModerationError
from targets.moderation.durations import format_duration

from ..drivers.target import Target
from .behaviour import MISTAKE, Conduct, Intent
from .control import Control
from .findings import (
    PRECEDENCE,
    PROTECTED_DOWN,
    Finding,
    Seen,
    audit_findings,
    departed_finding,
    retry_finding,
    status_finding,
)
from .space import SearchSpace
from .steps import Approve, DirectAction, Fault, Move, Retry, SecondApprove, Wait

AUDIT_PAGE = 1000


@dataclass
class Call:
    """One request to the target and what came back."""

    method: str
    caller: str  # operator id, "reporter", or "nemesis" for faults
    args: tuple
    key: str | None = None  # idempotency key
    answer: Any = None
    error: ModerationError | None = None


@dataclass
class Step:
    """What one move did."""

    move: Move
    at: float  # shift seconds when it started
    faults: frozenset[str]  # faults active when it started
    actor: str | None = None  # the operator whose credentials were used
    intent: Intent | None = None  # why the operator made it
    taken: bool = False
    calls: list[Call] = field(default_factory=list)
    events: list[AuditEntry] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass
class Attempt:
    steps: list[Step]

    @property
    def finding(self) -> Finding | None:
        for step in self.steps:
            if step.findings:
                return step.findings[0]
        return None

    @property
    def moves(self) -> list[Move]:
        """The moves played, up to the finding if there is one."""
        return [s.move for s in self.steps]

    @property
    def taken(self) -> list[Move]:
        return [s.move for s in self.steps if s.taken]


class Player:
    def __init__(self, space: SearchSpace, control: Control) -> None:
        self.space = space
        self.control = control
        self.conduct = Conduct(space.env)
        self.roster = {spec.id: spec for spec in space.env.roster}
        self.handles = {a: space.handle(a) for a in space.accounts}
        # whose second approver the system draws: a re-draw is then a finding
        self.exits = (
            None
            if space.requester_names_second
            else {spec.id: spec.record.exit_at for spec in space.env.roster}
        )

    def play(self, moves: list[Move]) -> Attempt:
        """Run `moves` from a fresh target until the first finding."""
        run = _Run(self, self.control.reset())
        steps = []
        for index, move in enumerate(moves, start=1):
            step = run.step(index, move)
            steps.append(step)
            if step.findings:
                break
        return Attempt(steps)


class _Run:
    """One attempt: the target, the audit cursor, the mistakes made so far."""

    def __init__(self, player: Player, target: Target) -> None:
        self.player = player
        self.conduct = player.conduct
        self.control = player.control
        self.target = target
        self.cursor = 0
        self.mistakes = 0
        self.faults: frozenset[str] = frozenset()
        self.seen = Seen()  # what the audit log said so far
        self.own: dict[str, int] = {}  # operator -> the pending id of its latest request
        self.decided: dict[str, int] = {}  # operator -> the report it last approved
        self.asked: str | None = None  # the last operator asked for a second approval
        self.last: Call | None = None  # the last acknowledged request
        self.keys = itertools.count(1)
        self.index = 0
        self.current: Step | None = None

    def step(self, index: int, move: Move) -> Step:
        self.index = index
        step = self.current = Step(move, self.control.now(), self.faults)
        if isinstance(move, Approve):
            self._approve(move)
        elif isinstance(move, SecondApprove):
            self._second_approve(move)
        elif isinstance(move, DirectAction):
            self._direct_action(move)
        elif isinstance(move, Fault):
            self._fault(move)
        elif isinstance(move, Wait):
            self._wait(move)
        else:
            self._retry()
        if step.taken:
            self._check(step)
        return step

    # --- moves ---------------------------------------------------------------------------

    def _approve(self, move: Approve) -> None:
        now = self.control.now()
        self.current.actor = move.actor
        if not self.conduct.may_name(move.actor, move.attacker, move.second):
            return
        if move.again and move.actor not in self.decided:
            return  # nothing to decide again
        if not self._take(self.conduct.approving(move.actor, move.attacker, now)):
            return
        token = self.control.tokens[move.actor]
        if move.again:
            report = self.decided[move.actor]
        else:
            if move.account is not None:
                self._call("reporter", "file_report", "reporter", move.account, False)
            claim = self._call(move.actor, "claim", token)
            if claim.answer is None:
                return
            report = self.decided[move.actor] = claim.answer.id
        action = self.conduct.action(move.actor, move.attacker)
        self._request(move.actor, "decide", token, report, "approve", action, move.second)

    def _second_approve(self, move: SecondApprove) -> None:
        now = self.control.now()
        actor = move.actor or self.asked
        if actor is None or not self.conduct.acts(actor, move.attacker, now):
            return
        self.current.actor = actor
        token = self.control.tokens[actor]
        if move.own:
            pending = self.own.get(actor)
            intent = self.conduct.second_approving(actor, move.attacker, actor, now)
            if pending is not None and self._take(intent):
                self._request(actor, "second_approve", token, pending, True)
            return
        read = Call("pending_approvals", actor, (token,))
        self._send(read)
        if read.error is not None:  # refused: still an attempt to act
            self.current.taken = True
            self.current.calls.append(read)
            return
        if not read.answer:
            return
        waiting = read.answer[0]
        intent = self.conduct.second_approving(actor, move.attacker, waiting.requested_by, now)
        if self._take(intent):
            self.current.calls.append(read)
            self._request(actor, "second_approve", token, waiting.id, True)

    def _direct_action(self, move: DirectAction) -> None:
        now = self.control.now()
        self.current.actor = move.actor
        if not self.conduct.may_name(move.actor, True, move.second):
            return
        if not self._take(self.conduct.approving(move.actor, True, now)):
            return
        token = self.control.tokens[move.actor]
        action = self.conduct.action(move.actor, True)
        self._request(move.actor, "direct_action", token, move.account, action, move.second)

    def _fault(self, move: Fault) -> None:
        if (move.fault in self.faults) == move.active:
            return
        self.current.taken = True
        call = Call("set_fault", "nemesis", (move.fault, move.active))
        self._send(call)
        self.current.calls.append(call)
        if call.error is None:
            self.faults = frozenset(call.answer)

    def _wait(self, move: Wait) -> None:
        left = self.player.space.env.shift - self.control.now()
        if left > 0:
            self.current.taken = True
            self.control.advance(min(move.minutes * 60.0, left))

    def _retry(self) -> None:
        first = self.last
        if first is not None:
            self.current.taken = True
            again = Call(first.method, first.caller, first.args, first.key)
            self._send(again)
            self.current.calls.append(again)

    # --- checks --------------------------------------------------------------------------

    def _check(self, step: Step) -> None:
        step.events = self._new_events()
        step.findings += audit_findings(
            step.events,
            self.index,
            self.player.space.protected,
            self.seen,
            self.player.handles,
            self.player.exits,
        )
        if isinstance(step.move, Retry) and step.calls and step.calls[0].error is None:
            again, first = step.calls[0], self.last
            same = again.answer == first.answer
            found = retry_finding(again.caller, again.method, same, len(step.events), self.index)
            if found is not None:
                step.findings.append(found)
        if not any(f.kind == PROTECTED_DOWN for f in step.findings):
            for account in self.player.space.accounts:
                status = self.target.account_status(account)
                if status in DOWN_STATUSES:
                    step.findings.append(
                        status_finding(account, status, self.index, self.player.handles[account])
                    )
        step.findings.sort(key=lambda f: PRECEDENCE.index(f.kind))

    def _new_events(self) -> list[AuditEntry]:
        events: list[AuditEntry] = []
        while True:
            page = self.target.audit(self.cursor, AUDIT_PAGE)
            events += page
            self.cursor += len(page)
            if len(page) < AUDIT_PAGE:
                return events

    # --- helpers -------------------------------------------------------------------------

    def _take(self, intent: Intent | None) -> bool:
        """Whether the move is made: the persona could, and a mistake is still allowed."""
        if intent is None:
            return False
        if intent.kind == MISTAKE and self.mistakes >= self.player.space.mistakes:
            return False
        self.current.intent = intent
        self.current.taken = True
        return True

    def _request(self, caller: str, method: str, *args: Any) -> None:
        """The approval itself: the moment a mistake is made. A request that waits for a
        second approver is remembered as the caller's own."""
        self.mistakes += self.current.intent.kind == MISTAKE
        answer = self._call(caller, method, *args).answer
        if answer is not None and answer.status == PENDING_APPROVAL:
            self.own[caller] = answer.pending_id
            self.asked = answer.approver

    def _call(self, caller: str, method: str, *args: Any) -> Call:
        """An operator (or reporter) request with a fresh idempotency key."""
        call = Call(method, caller, args, f"k{next(self.keys)}")
        self._send(call)
        self.current.calls.append(call)
        if call.error is None:
            self.last = call
        return call

    def _send(self, call: Call) -> None:
        now = self.control.now()
        keyed = {} if call.key is None else {"idempotency_key": call.key}
        try:
            call.answer = getattr(self.target, call.method)(*call.args, **keyed)
        except ModerationError as exc:
            call.error = exc.with_traceback(None)  # its frames would tie the target in a cycle
            return
        spec = self.player.roster.get(call.caller)
        if spec is not None and spec.record.departed(now):
            left = format_duration(spec.record.exit_at)
            self.current.findings.append(
                departed_finding(call.caller, left, call.method, format_duration(now), self.index)
            )

"""Playing a sequence of moves against a fresh target, and what each step did.

The same player runs every attempt of a search and every replay of a trace, so a trace
reproduces exactly what the search saw. A move the operator's persona would not make at
that moment (see `behaviour`) is not taken and has no effect. After each step the player
reads the new audit entries and the status of the searched accounts and checks them and
the answers for findings; the first step with a finding ends the attempt.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from targets.moderation import (
    DOWN_STATUSES,
    PENDING_APPROVAL,
    AuditEntry,
    ModerationError,
    OperatorRecord,
    Outcome,
)
from targets.moderation.durations import format_duration

from ..drivers.moves import Acts, Follow, Send
from ..drivers.target import Target
from ..personas import Item, Persona
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
from .steps import Approve, Cancel, DirectAction, Fault, Move, Restore, Retry, SecondApprove, Wait

AUDIT_PAGE = 1000
OPENED = ("approval_requested", "scheduled")  # audit events of an action that now waits
ENDED = ("applied", "cancelled", "rejected", "blocked")  # ... and of one that no longer does


class Pending(NamedTuple):
    """A pending action as the audit log tells of it."""

    id: int
    account: int
    report: int | None
    requester: str
    approver: str | None


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
        self.rule = space.env.experiment.safeguards.two_person_rule
        self.operators = [
            (spec.id, spec.collude, spec.record, spec.record.role, self.conduct.personas[spec.id])
            for spec in space.env.roster
        ]

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

    def acts(self, target: Target, send: Send, follow: Follow) -> Acts:
        """The move layer on `target`, with the search's own `send` and `follow`."""
        return Acts(target, send, follow, self.rule, self.operators, _at_work)


class _Agent(NamedTuple):
    """An operator as the move layer sees it; the search's records name it by its id."""

    id: str
    process: str
    token: str
    persona: Persona


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
        # operator -> (pending id, account) of its latest request, and (report, account)
        # of the report it last approved
        self.own: dict[str, tuple[int, int]] = {}
        self.decided: dict[str, tuple[int, int]] = {}
        self.asked: str | None = None  # the last operator asked for a second approval
        self.latest: Pending | None = None  # the latest action still pending, by the audit log
        self.last: Call | None = None  # the last acknowledged request
        self.keys = itertools.count(1)
        self.index = 0
        self.current: Step | None = None

    @property
    def acts(self) -> Acts:
        """The move layer on this run's target, made for each use: kept, its hooks (this
        run's methods) would tie the run in a reference cycle, and the exhaustive search
        holds its states with the cycle collector off."""
        return self.player.acts(self.target, self._sent, self._followed)

    def step(self, index: int, move: Move) -> Step:
        self.index = index
        step = self.current = Step(move, self.control.now(), self.faults)
        if isinstance(move, Approve):
            self._approve(move)
        elif isinstance(move, SecondApprove):
            self._second_approve(move)
        elif isinstance(move, DirectAction):
            self._direct_action(move)
        elif isinstance(move, Cancel | Restore):
            self._override(move)
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
        agent = self._agent(move.actor)
        queue = "ordinary"
        if move.again:
            report, account = self.decided[move.actor]
        else:
            if move.account is not None:
                self._call("reporter", "file_report", "reporter", move.account, False)
            claim = self._call(move.actor, "claim", agent.token)
            if claim.answer is None:
                return
            report, account, queue = claim.answer.id, claim.answer.account_id, claim.answer.queue
            self.decided[move.actor] = (report, account)
        choice = ("approve", self.conduct.action(move.actor, move.attacker), move.second)
        self._count_mistake()
        self.acts.verdict(agent, report, self._item(account), choice, now, queue)

    def _second_approve(self, move: SecondApprove) -> None:
        now = self.control.now()
        actor = move.actor or self.asked
        if actor is None or not self.conduct.acts(actor, move.attacker, now):
            return
        self.current.actor = actor
        if move.own:
            own = self.own.get(actor)
            intent = self.conduct.second_approving(actor, move.attacker, actor, now)
            if own is not None and self._take(intent):
                self._answer(actor, (own[0], None, actor), own[1])
            return
        if move.unasked:
            self._out_of_turn(actor, move.attacker, now)
            return
        read = Call("pending_approvals", actor, (self.control.tokens[actor],))
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
            pending = (waiting.id, waiting.report_id, waiting.requested_by)
            self._answer(actor, pending, waiting.account_id)

    def _out_of_turn(self, actor: str, attacker: bool, now: float) -> None:
        """Approve the latest pending action though the target asked someone else."""
        latest = self.latest
        if latest is None or actor in (latest.requester, latest.approver):
            return  # nothing pending, or its own turn or request: the other moves
        if self._take(self.conduct.out_of_turn(actor, attacker, latest.requester, now)):
            self._answer(actor, (latest.id, latest.report, latest.requester), latest.account)

    def _answer(self, actor: str, pending: tuple[int, int | None, str], account: int) -> None:
        self._count_mistake()
        self.acts.answer(self._agent(actor), pending, self._item(account), True, self.control.now())

    def _direct_action(self, move: DirectAction) -> None:
        now = self.control.now()
        self.current.actor = move.actor
        if not self.conduct.may_name(move.actor, True, move.second):
            return
        if not self._take(self.conduct.approving(move.actor, True, now)):
            return
        self._count_mistake()
        protected = move.account in self.player.space.protected
        self.acts.attack(self._agent(move.actor), move.account, protected, now, move.second)

    def _override(self, move: Cancel | Restore) -> None:
        """A call no persona's work asks for: cancel the latest pending action, or restore
        an account."""
        now = self.control.now()
        self.current.actor = move.actor
        latest = self.latest
        if isinstance(move, Cancel) and latest is None:
            return  # nothing pending to cancel
        if not self.conduct.acts(move.actor, move.attacker, now):
            return
        if not self._take(self.conduct.overriding(move.actor, move.attacker, now)):
            return
        agent = self._agent(move.actor)
        if isinstance(move, Cancel):
            self.acts.cancel(agent, latest.id, self._item(latest.account), latest.requester, now)
        else:
            self.acts.restore(agent, self._item(move.account), now)

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
        self._track(step.events)
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

    def _track(self, events: list[AuditEntry]) -> None:
        """The latest action still pending, which a cancel or an approval out of turn
        aims at."""
        for e in events:
            if e.event in OPENED:
                approver = e.detail if e.event == "approval_requested" else None
                if self.latest is not None and self.latest.id == e.pending_id:
                    approver = self.latest.approver  # approved, now scheduled
                self.latest = Pending(e.pending_id, e.account_id, e.report_id, e.actor, approver)
            elif e.event in ENDED and self.latest is not None and e.pending_id == self.latest.id:
                self.latest = None

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

    def _count_mistake(self) -> None:
        """The request itself is the moment a mistake is made."""
        self.mistakes += self.current.intent.kind == MISTAKE

    def _agent(self, actor: str) -> _Agent:
        return _Agent(actor, actor, self.control.tokens[actor], self.conduct.personas[actor])

    def _item(self, account: int) -> Item:
        """A report's account as the move layer records it (never violating)."""
        return Item(account, account in self.player.space.protected, False)

    def _sent(self, now: float, process: str, f: str, value: dict, method, *args) -> Any:
        """The move layer's `send`: one operator request with a fresh idempotency key,
        recorded as a `Call` of the current step; the answer, or None if refused."""
        call = Call(method.__name__, self.current.actor, args, f"k{next(self.keys)}")
        self._send(call, method)
        self.current.calls.append(call)
        if call.error is not None:
            return None
        self.last = call
        return call.answer

    def _followed(
        self, now: float, out: Outcome, item: Item, requester: str, process: str, queue: str
    ) -> None:
        """The move layer's `follow`: a request that waits for a second approver is
        remembered as the requester's own, and its approver as the one last asked."""
        if out.status == PENDING_APPROVAL:
            self.own[requester] = (out.pending_id, out.account_id)
            self.asked = out.approver

    def _call(self, caller: str, method: str, *args: Any) -> Call:
        """An operator (or reporter) request with a fresh idempotency key."""
        call = Call(method, caller, args, f"k{next(self.keys)}")
        self._send(call)
        self.current.calls.append(call)
        if call.error is None:
            self.last = call
        return call

    def _send(self, call: Call, method: Callable[..., Any] | None = None) -> None:
        now = self.control.now()
        keyed = {} if call.key is None else {"idempotency_key": call.key}
        method = method or getattr(self.target, call.method)
        try:
            call.answer = method(*call.args, **keyed)
        except ModerationError as exc:
            call.error = exc.with_traceback(None)  # its frames would tie the target in a cycle
            return
        spec = self.player.roster.get(call.caller)
        if spec is not None and spec.record.departed(now):
            left = format_duration(spec.record.exit_at)
            self.current.findings.append(
                departed_finding(call.caller, left, call.method, format_duration(now), self.index)
            )


def _at_work(record: OperatorRecord, now: float) -> bool:
    return not record.departed(now)

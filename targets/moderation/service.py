"""The moderation core: the one library the simulator calls directly and the HTTP app wraps.

Every public method that changes state is a *command*: it runs at one frozen instant, first
lets due timers (delayed actions, restores) fire, honours an idempotency key, and is appended
to the journal when it succeeds. Commands validate before they change anything, so a refused
call (a `ModerationError`) has no effect. Given the same settings, seed and journal, the
service reaches the same state: that is how the durable store recovers after a crash.

The service is a single-writer object: callers that run it from several threads serialise
their calls (the HTTP app through `ServedTarget.call`, which holds one lock), so concurrent
requests take effect one at a time. The simulator calls it from one thread and pays nothing
for locking.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import random
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from .clock import Clock
from .config import RestoreConfig
from .errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthorized
from .forked_random import fork_random, random_key
from .model import (
    ACTIONS,
    ACTIVE,
    APPLIED,
    BLOCKED,
    CANCELLED,
    DECISIONS,
    DELAYED,
    DISMISSED,
    DOWN_STATUSES,
    ESCALATED,
    PENDING_APPROVAL,
    REJECTED,
    REQUEUED,
    RESTORED,
    STATUS_AFTER,
    AccountProfile,
    AccountView,
    AuditEntry,
    OperatorRecord,
    Outcome,
    PendingAction,
    PendingView,
    Report,
    ReportView,
)
from .safeguards import (
    MONITORS,
    TARGET_FAULTS,
    AccountSafeguard,
    Request,
    Safeguards,
    SafeguardsConfig,
)

RESTORE_MONITOR = "restore_monitor"
SYSTEM_ACTORS = frozenset({RESTORE_MONITOR, *MONITORS, "admin"})
"""Names the audit log uses for the service's own entries; no reporter may take them."""
IDEMPOTENCY_KEYS = 100_000  # keyed answers remembered (about 60 MB at most)
_FIRE = 0  # timer kinds; ints keep heap comparisons cheap
_RESTORE = 1

T = TypeVar("T")


def bernoulli(rng: random.Random, kind: str, p: float) -> bool:
    """A yes/no draw that is yes with probability `p`. The service makes such draws through
    its replaceable `chance` attribute (same signature), so a caller can draw them another
    way, e.g. from a biased distribution while it weighs each run (importance sampling)."""
    return rng.random() < p


class Journal(Protocol):
    """Where successful commands are appended (in order) before they are acknowledged."""

    def append(self, at: float, command: str, args: tuple, kwargs: dict) -> None: ...


def command(method: Callable[..., T]) -> Callable[..., T]:
    """Make `method` an atomic, idempotent, journaled command of the service.

    The first positional argument names the caller (an operator token or a reporter id) and
    scopes `idempotency_key`: the same key from the same caller returns the first answer
    without a second effect; reusing it for a different request is a conflict. An operator's
    token is checked again on a repeat, so a departed operator cannot fetch answers either.
    The last `IDEMPOTENCY_KEYS` keyed answers are remembered (oldest forgotten first).

    A command answers None only when it changed nothing (an empty claim): such a call is
    neither journaled nor remembered under its key, so repeating it simply asks again.
    """
    name = method.__name__
    takes_token = method.__code__.co_varnames[1] == "token"

    @functools.wraps(method)
    def run(self: ModerationService, *args: Any, idempotency_key: str | None = None, **kw: Any):
        now = self._at = self.clock.now()  # one instant for the whole command
        if self._timers and self._timers[0][0] <= now:
            self._run_due(now)
        if idempotency_key is not None:
            slot = (name, args[0] if args else None, idempotency_key)
            seen = self._idempotent.get(slot)
            if seen is not None:
                if seen[0] != (args, kw):
                    raise Conflict(
                        f"idempotency key {idempotency_key!r} was already used for a "
                        "different request"
                    )
                if takes_token:
                    self._authenticate(args[0], now)
                return seen[1]
        result = method(self, *args, **kw)
        if result is None:
            return result
        if idempotency_key is not None:
            remembered = self._idempotent
            remembered[slot] = ((args, kw), result)
            if len(remembered) > IDEMPOTENCY_KEYS:
                del remembered[next(iter(remembered))]
        if self._journal is not None:
            self._journal.append(now, name, args, _with_key(kw, idempotency_key))
        return result

    run.is_command = True  # type: ignore[attr-defined]
    return run


def _with_key(kw: dict, key: str | None) -> dict:
    return kw if key is None else {**kw, "idempotency_key": key}


class ReplayError(Exception):
    """A journal entry the service refuses on replay: the journal does not belong to this
    service (another server wrote to it too, or it was edited)."""

    def __init__(self, position: int, name: str, at: float, cause: Exception) -> None:
        self.position = position
        self.detail = f"({name} at {at:g}s) cannot be replayed: {type(cause).__name__}: {cause}"
        super().__init__(f"journal entry {position} {self.detail}")


class _ReplayClock:
    at = 0.0

    def now(self) -> float:
        return self.at


class ModerationService:
    """Accounts, a protected list, a review queue, operators and switchable safeguards.

    Whatever the calls and their order: a report takes effect at most once, an account has
    at most one pending destructive action (a second request while one waits for its second
    approval or its delay is refused with a `Conflict`), and a requester asking again for
    the same account gets the same system-chosen second approver (a new one is drawn only
    when that one can no longer approve), so nobody re-draws the two-person rule's approver.
    """

    guard_repeats = True
    """Refuse a second destructive request on an account with one pending, and keep each
    requester's drawn approver. Switched off only by tests, to show that the search and the
    invariants find the re-drawn approver without it; never a setting of an experiment."""

    def __init__(
        self,
        accounts: Iterable[AccountProfile] | Mapping[int, AccountProfile],
        operators: Iterable[OperatorRecord],
        *,
        clock: Clock,
        safeguards: SafeguardsConfig | None = None,
        restore: RestoreConfig | None = None,
        seed: int | str = 0,
        journal: Journal | None = None,
    ) -> None:
        self.clock = clock
        self.safeguards = Safeguards(safeguards or SafeguardsConfig())
        self.restore_config = restore or RestoreConfig()
        self._rng = random.Random(seed)
        self.chance: Callable[[random.Random, str, float], bool] = bernoulli
        self._journal = journal
        self._at = 0.0  # the instant of the command being run
        self._accounts: Mapping[int, AccountProfile] = (
            accounts if isinstance(accounts, Mapping) else {a.id: a for a in accounts}
        )
        self._status: dict[int, str] = {}  # only accounts that are not active
        self._operators: dict[str, OperatorRecord] = {}
        self._by_token: dict[str, OperatorRecord] = {}
        for op in operators:
            if op.id in self._operators or op.token in self._by_token:
                raise ValueError(f"operator {op.id} is not unique (id and token must be)")
            self._operators[op.id] = op
            self._by_token[op.token] = op
        self._approver_order = sorted(self._operators)
        self._reports: dict[int, Report] = {}
        self._queues: dict[str, deque[int]] = {"senior": deque(), "ordinary": deque()}
        self._pending: dict[int, PendingAction] = {}
        self._open: dict[int, int] = {}  # account id -> its pending id awaiting effect
        self._drawn: dict[tuple[str, int], str] = {}  # (requester, account) -> approver
        self._inbox: dict[str, dict[int, None]] = {}
        self._timers: list[tuple[float, int, int, int]] = []
        self._audit: list[tuple] = []  # AuditEntry fields; built into entries when read
        self._idempotent: dict[tuple, tuple] = {}
        self._report_ids = itertools.count(1)
        self._pending_ids = itertools.count(1)
        self._timer_ids = itertools.count(1)

    # --- reads ---------------------------------------------------------------------------

    def account(self, account_id: int) -> AccountView:
        profile = self._profile(account_id)
        return AccountView(
            profile.id,
            profile.handle,
            profile.name,
            profile.followers,
            profile.protected,
            self._status.get(account_id, ACTIVE),
        )

    def account_status(self, account_id: int) -> str:
        self._profile(account_id)
        return self._status.get(account_id, ACTIVE)

    def pending_approvals(self, token: str) -> list[PendingView]:
        """Pending actions waiting for the calling operator's second approval."""
        op = self._authenticate(token)
        return [self._pending_view(self._pending[i]) for i in self._inbox.get(op.id, ())]

    def audit(self, cursor: int = 0, limit: int = 1000) -> list[AuditEntry]:
        """Audit entries with sequence number greater than `cursor`, oldest first."""
        if cursor < 0 or limit < 1:
            raise InvalidRequest("cursor must be >= 0 and limit >= 1")
        return [AuditEntry._make(row) for row in self._audit[cursor : cursor + limit]]

    def whoami(self, token: str) -> OperatorRecord:
        return self._authenticate(token)

    def operators(self) -> list[OperatorRecord]:
        return [self._operators[i] for i in self._approver_order]

    def protected_accounts(self) -> list[AccountView]:
        return [self.account(a.id) for a in self._accounts.values() if a.protected]

    def queue_lengths(self) -> dict[str, int]:
        return {name: len(q) for name, q in self._queues.items()}

    def waiting_actions(self) -> dict[str, int]:
        """How many destructive actions wait, by what for: `awaiting_approval` (a second
        approver) or `scheduled` (a delay). At most one per account, so this stays cheap."""
        waiting = {"awaiting_approval": 0, "scheduled": 0}
        for pending_id in self._open.values():
            waiting[self._pending[pending_id].state] += 1
        return waiting

    @property
    def faults(self) -> frozenset[str]:
        return frozenset(self.safeguards.faults)

    def next_due(self) -> float | None:
        """When the earliest timer (delayed action, restore) fires, if any."""
        return self._timers[0][0] if self._timers else None

    # --- commands ------------------------------------------------------------------------

    @command
    def file_report(self, reporter: str, account_id: int, violating: bool = False) -> int:
        """A user's complaint about an account; returns the report id."""
        if reporter in SYSTEM_ACTORS or reporter in self._operators:
            raise InvalidRequest(
                f"reporter {reporter!r} is the name of an operator or of the service itself "
                "in the audit log; choose another"
            )
        self._profile(account_id)
        now = self._at
        report = Report(next(self._report_ids), account_id, reporter, bool(violating), now)
        self._reports[report.id] = report
        self._queues["ordinary"].append(report.id)
        self._log(now, reporter, "report_filed", account_id, report.id)
        return report.id

    @command
    def claim(self, token: str) -> ReportView | None:
        """The next queue item for the calling operator; seniors take escalations first."""
        op = self._authenticate(token, self._at)
        queues = ("senior", "ordinary") if op.role == "senior" else ("ordinary",)
        for name in queues:
            report = self._take(self._queues[name], op.id)
            if report is not None:
                report.state = "claimed"
                report.claimed_by = op.id
                self._log(self._at, op.id, "claimed", report.account_id, report.id)
                profile = self._accounts[report.account_id]
                return ReportView(
                    report.id,
                    report.account_id,
                    profile.handle,
                    profile.followers,
                    report.queue,
                    report.filed_at,
                )
        return None

    @command
    def decide(
        self,
        token: str,
        report_id: int,
        decision: str,
        action: str | None = None,
        second_approver: str | None = None,
    ) -> Outcome:
        """An operator's verdict on a report it has claimed."""
        op = self._authenticate(token, self._at)
        report = self._reports.get(report_id)
        if report is None:
            raise NotFound(f"report {report_id} does not exist")
        if report.state == "decided":
            raise Conflict(f"report {report_id} is already decided ({report.outcome})")
        if report.claimed_by != op.id:
            raise Forbidden(f"report {report_id} is not claimed by operator {op.id}")
        if decision not in DECISIONS:
            raise InvalidRequest(f"decision must be one of {', '.join(DECISIONS)}")
        if decision == "approve":
            if action not in ACTIONS:
                raise InvalidRequest(f"approve needs an action: one of {', '.join(ACTIONS)}")
        elif action is not None:
            raise InvalidRequest(f"{decision} takes no action")
        if decision == "escalate" and report.queue == "senior":
            raise Conflict(f"report {report_id} is already in the senior queue")
        self._check_chosen_approver(op, second_approver)
        if decision == "approve":
            self._check_none_pending(report.account_id)
        now = self._at
        if decision == "dismiss":
            self.safeguards.note_decision(op.id, now, False)
            self._settle(report, DISMISSED)
            self._log(now, op.id, "dismissed", report.account_id, report.id)
            return Outcome(DISMISSED, report.account_id, None, report.id, at=now)
        if decision == "escalate":
            return self._escalate(op, report.account_id, report, now, None)
        self.safeguards.note_decision(op.id, now, True)
        account = self._accounts[report.account_id]
        return self._request(op, account, action, report, not report.violating, second_approver)

    @command
    def direct_action(
        self, token: str, account_id: int, action: str, second_approver: str | None = None
    ) -> Outcome:
        """The admin-tool path: act on an account without a report (the 2020 takeover path)."""
        op = self._authenticate(token, self._at)
        account = self._profile(account_id)
        if action not in ACTIONS:
            raise InvalidRequest(f"action must be one of {', '.join(ACTIONS)}")
        self._check_chosen_approver(op, second_approver)
        self._check_none_pending(account_id)
        self.safeguards.note_decision(op.id, self._at, True)
        return self._request(op, account, action, None, True, second_approver)

    @command
    def second_approve(self, token: str, pending_id: int, approve: bool) -> Outcome:
        """The assigned second approver's verdict on a pending action."""
        op = self._authenticate(token, self._at)
        pending = self._pending.get(pending_id)
        if pending is None:
            raise NotFound(f"pending action {pending_id} does not exist")
        if pending.requested_by == op.id:
            raise Forbidden("an operator cannot be its own second approver")
        if pending.approver != op.id:
            raise Forbidden(f"pending action {pending_id} is assigned to {pending.approver}")
        if pending.state != "awaiting_approval":
            raise Conflict(f"pending action {pending_id} is already {pending.state}")
        now = self._at
        self._inbox.get(op.id, {}).pop(pending_id, None)
        held_by = pending.held_by or ""
        if not approve:
            return self._close(pending, REJECTED, op.id, held_by, now)
        stop = self.safeguards.approval_stop(op, now)
        if stop is not None:
            return self._close(pending, BLOCKED, op.id, stop, now)
        self._log(now, op.id, "approved", pending.account_id, pending.report_id, pending.id)
        requester = self._operators[pending.requested_by]
        request = self._ask(requester, self._accounts[pending.account_id], None)
        return self._consult(pending, request, self.safeguards.steps_after(held_by), now)

    @command
    def cancel(self, token: str, pending_id: int) -> Outcome:
        """A senior stops a pending or delayed action before it takes effect."""
        op = self._authenticate(token, self._at)
        if op.role != "senior":
            raise Forbidden("only seniors can cancel pending actions")
        pending = self._pending.get(pending_id)
        if pending is None:
            raise NotFound(f"pending action {pending_id} does not exist")
        if pending.state not in ("awaiting_approval", "scheduled"):
            raise Conflict(f"pending action {pending_id} is already {pending.state}")
        if pending.approver is not None:
            self._inbox.get(pending.approver, {}).pop(pending_id, None)
        return self._close(pending, CANCELLED, op.id, None, self._at)

    @command
    def restore(self, token: str, account_id: int) -> Outcome:
        """Bring an account back to active.

        Restoring a rightly suspended account harms too, so an operator's restore passes the
        operator-level safeguards like any destructive action; the restore monitor, a system
        actor, does not ask.
        """
        op = self._authenticate(token, self._at)
        self._profile(account_id)
        stop = self.safeguards.operator_stop(op, self._at)
        if stop is not None:
            return self._block(op, account_id, "restore", None, stop, self._at)
        return self._restore(account_id, op.id, self._at)

    @command
    def set_fault(self, kind: str, active: bool) -> frozenset[str]:
        """Switch a safeguard dependency fault on or off (admin)."""
        if kind not in TARGET_FAULTS:
            raise InvalidRequest(f"unknown fault {kind!r}; the core supports {TARGET_FAULTS}")
        faults = self.safeguards.faults
        if active:
            faults.add(kind)
        else:
            faults.discard(kind)
        self._log(self._at, "admin", "fault_on" if active else "fault_off", detail=kind)
        return frozenset(faults)

    def run_due(self) -> list[Outcome]:
        """Fire every timer due by now; returns what they did, in order.

        Not journaled: timers always fire, in due order, before any later command, so a
        replay of the journal fires them at the same points.
        """
        return self._run_due(self.clock.now())

    def advance(self, t: float) -> Sequence[Outcome]:
        """On a `ManualClock`: move the clock to `t`, firing every timer due meanwhile at its
        own instant, as a running clock would; returns what they did, in order.

        How a driver that owns the clock (the simulator, a served target in manual-clock
        mode) moves time. Not journaled, for the reason given in `run_due`.
        """
        clock: Any = self.clock
        timers = self._timers
        if not timers or timers[0][0] > t:
            clock.set(t)
            return ()
        fired: list[Outcome] = []
        while timers and timers[0][0] <= t:
            due = timers[0][0]
            clock.set(due)
            fired += self._run_due(due)
        clock.set(t)
        return tuple(fired)

    def replay(self, entries: Iterable[tuple[float, str, tuple, dict]]) -> int:
        """Re-run journaled commands on a fresh service built with the same settings and seed.

        The service's clock is held at each entry's time meanwhile; returns the count.
        """
        live_clock, journal = self.clock, self._journal
        virtual = _ReplayClock()
        self.clock, self._journal = virtual, None
        count = 0
        try:
            for at, name, args, kw in entries:
                method = getattr(self, name, None)
                virtual.at = at
                try:
                    if not getattr(method, "is_command", False):
                        raise ValueError("no command of that name")
                    method(*args, **kw)
                except Exception as exc:
                    raise ReplayError(count + 1, name, at, exc) from None
                count += 1
        finally:
            self.clock, self._journal = live_clock, journal
        return count

    def fork(self, clock: Clock) -> ModerationService:
        """An independent copy of this service's state on `clock`, for an exhaustive search
        that expands many continuations of one state without replaying its history. Shares
        only what never changes (accounts, operators, settings); the random stream is
        copied, so the copy draws what this service would draw next. Not journaled."""
        twin = _shallow(self)
        twin.clock, twin._journal = clock, None
        twin._rng = fork_random(self._rng)
        twin.safeguards = self.safeguards.fork()
        twin._status, twin._open, twin._drawn = (
            dict(self._status),
            dict(self._open),
            dict(self._drawn),
        )
        twin._reports = {i: _copy_report(r) for i, r in self._reports.items()}
        twin._queues = {name: deque(q) for name, q in self._queues.items()}
        twin._pending = {i: _copy_pending(p) for i, p in self._pending.items()}
        twin._inbox = {k: dict(v) for k, v in self._inbox.items()}
        twin._timers, twin._audit = list(self._timers), list(self._audit)
        twin._idempotent = dict(self._idempotent)
        for name in ("_report_ids", "_pending_ids", "_timer_ids"):
            following = next(getattr(self, name))
            setattr(self, name, itertools.count(following))
            setattr(twin, name, itertools.count(following))
        return twin

    def state_key(self) -> tuple:
        """What decides this service's future answers, as a hashable value: two services
        with equal keys (and equal clocks) answer every later call alike. The audit log and
        the idempotency cache are history, not state, and are left out."""
        return (
            tuple(sorted(self._status.items())),
            tuple(
                (
                    r.id,
                    r.account_id,
                    r.queue,
                    r.state,
                    r.claimed_by,
                    r.outcome,
                    frozenset(r.refused or ()),
                )
                for r in self._reports.values()
            ),
            tuple(tuple(q) for q in self._queues.values()),
            tuple(
                (
                    p.id,
                    p.account_id,
                    p.action,
                    p.requested_by,
                    p.report_id,
                    p.state,
                    p.approver,
                    p.due_at,
                    p.held_by,
                )
                for p in self._pending.values()
            ),
            tuple(sorted(self._drawn.items())),
            tuple(sorted((k, tuple(v)) for k, v in self._inbox.items() if v)),
            tuple((due, kind, ref) for due, _, kind, ref in sorted(self._timers)),
            self.safeguards.state_key(),
            random_key(self._rng),  # the next draws (second approvers, monitors)
        )

    # --- the safeguard pipeline ----------------------------------------------------------

    def _request(
        self,
        op: OperatorRecord,
        account: AccountProfile,
        action: str,
        report: Report | None,
        wrongful: bool,
        chosen: str | None,
    ) -> Outcome:
        """Consult the safeguards in order: the operator-level ones (a refusal sends a
        report back to the queue, or blocks a direct action), then the account-level ones
        asked about the request, then those asked about the pending action it becomes."""
        now = self._at
        sg = self.safeguards
        stop = sg.operator_stop(op, now)
        if stop is not None:
            if report is None:
                return self._block(op, account.id, action, None, stop, now)
            return self._requeue(op, report, action, stop, now)
        request = self._ask(op, account, chosen)
        for step in sg.request_steps:
            verdict = step.check(request)
            if verdict is None:
                continue
            if verdict.status == ESCALATED:
                return self._escalate(op, account.id, report, now, step.name)
            return self._block(op, account.id, action, report, step.name, now)
        report_id = report.id if report is not None else None
        pending = PendingAction(
            next(self._pending_ids), account.id, action, op.id, report_id, wrongful, "new"
        )
        return self._consult(pending, request, sg.pending_steps, now)

    def _ask(self, op: OperatorRecord, account: AccountProfile, chosen: str | None) -> Request:
        pick = functools.partial(self._pick_approver, op, account.id)
        return Request(op, account, chosen, pick)

    def _consult(
        self,
        pending: PendingAction,
        request: Request,
        steps: Sequence[AccountSafeguard],
        now: float,
    ) -> Outcome:
        """Ask `steps` in order about `pending`: the first verdict holds it for a second
        approval, delays it or (any other verdict) blocks it; an action none of them stops
        takes effect."""
        for step in steps:
            verdict = step.check(request)
            if verdict is None:
                continue
            if verdict.status not in (PENDING_APPROVAL, DELAYED):
                return self._stop(pending, request.op, step.name, now)
            self._pending[pending.id] = pending
            pending.held_by = step.name
            if verdict.status == PENDING_APPROVAL:
                return self._await_approval(pending, verdict.approver or "", now)
            return self._delay(pending, verdict.delay, now)
        self._pending[pending.id] = pending
        return self._apply(pending, pending.requested_by, now)

    def _stop(self, pending: PendingAction, op: OperatorRecord, name: str, now: float) -> Outcome:
        """A safeguard blocks the pending action: end it if it already waited, else refuse
        the request."""
        if self._pending.get(pending.id) is pending:
            return self._close(pending, BLOCKED, op.id, name, now)
        report = self._reports.get(pending.report_id) if pending.report_id else None
        return self._block(op, pending.account_id, pending.action, report, name, now)

    def _await_approval(self, pending: PendingAction, approver: str, now: float) -> Outcome:
        """Hold the action until `approver` gives the second approval."""
        pending.state = "awaiting_approval"
        pending.approver = approver
        self._open[pending.account_id] = pending.id
        self._inbox.setdefault(approver, {})[pending.id] = None
        self._log(
            now,
            pending.requested_by,
            "approval_requested",
            pending.account_id,
            pending.report_id,
            pending.id,
            pending.action,
            approver,
        )
        return Outcome(
            PENDING_APPROVAL,
            pending.account_id,
            pending.action,
            pending.report_id,
            pending.held_by,
            pending.id,
            approver,
            at=now,
        )

    def _delay(self, pending: PendingAction, delay: float, now: float) -> Outcome:
        """Schedule the action to take effect `delay` seconds from now, unless cancelled."""
        pending.state = "scheduled"
        pending.due_at = now + delay
        self._open[pending.account_id] = pending.id
        self._schedule(pending.due_at, _FIRE, pending.id)
        self._log(
            now,
            pending.requested_by,
            "scheduled",
            pending.account_id,
            pending.report_id,
            pending.id,
            pending.action,
        )
        return Outcome(
            DELAYED,
            pending.account_id,
            pending.action,
            pending.report_id,
            pending.held_by,
            pending.id,
            pending.approver,
            pending.due_at,
            now,
        )

    def _apply(self, pending: PendingAction, actor: str, now: float) -> Outcome:
        account_id = pending.account_id
        self._status[account_id] = STATUS_AFTER[pending.action]
        pending.state = APPLIED
        self._release(pending)
        report = self._reports.get(pending.report_id) if pending.report_id else None
        if report is not None:
            self._settle(report, APPLIED)
        self._log(now, actor, "applied", account_id, pending.report_id, pending.id, pending.action)
        restore = self.restore_config
        if restore.enabled and self._accounts[account_id].protected:
            wait = restore.detect_after
            if restore.distribution == "exponential":
                wait = self._rng.expovariate(1.0 / wait) if wait > 0 else 0.0
            self._schedule(now + wait, _RESTORE, account_id)
        return Outcome(
            APPLIED,
            account_id,
            pending.action,
            pending.report_id,
            None,
            pending.id,
            pending.approver,
            at=now,
        )

    def _block(
        self,
        op: OperatorRecord,
        account_id: int,
        action: str,
        report: Report | None,
        safeguard: str,
        now: float,
    ) -> Outcome:
        report_id = None
        if report is not None:
            self._settle(report, BLOCKED)
            report_id = report.id
        self._log(now, op.id, "blocked", account_id, report_id, None, action, safeguard)
        return Outcome(BLOCKED, account_id, action, report_id, safeguard, at=now)

    def _requeue(
        self, op: OperatorRecord, report: Report, action: str, safeguard: str, now: float
    ) -> Outcome:
        """The operator may not act; the report goes back to its queue for someone else."""
        report.state = "queued"
        report.claimed_by = None
        if report.refused is None:
            report.refused = set()
        report.refused.add(op.id)
        self._queues[report.queue].append(report.id)
        self._log(now, op.id, "requeued", report.account_id, report.id, None, action, safeguard)
        return Outcome(REQUEUED, report.account_id, action, report.id, safeguard, at=now)

    def _take(self, queue: deque[int], op_id: str) -> Report | None:
        """The oldest report in `queue` this operator was not refused on."""
        if not queue:
            return None
        head = self._reports[queue[0]]
        if head.refused is None:
            queue.popleft()
            return head
        for position, report_id in enumerate(queue):
            report = self._reports[report_id]
            if report.refused is None or op_id not in report.refused:
                if position == 0:
                    queue.popleft()
                else:
                    del queue[position]
                return report
        return None

    def _close(
        self, pending: PendingAction, status: str, actor: str, safeguard: str | None, now: float
    ) -> Outcome:
        """End a pending action without effect (rejected, blocked or cancelled)."""
        pending.state = status
        self._release(pending)
        report = self._reports.get(pending.report_id) if pending.report_id else None
        if report is not None:
            self._settle(report, status)
        self._log(
            now,
            actor,
            status,
            pending.account_id,
            pending.report_id,
            pending.id,
            pending.action,
            safeguard,
        )
        return Outcome(
            status,
            pending.account_id,
            pending.action,
            pending.report_id,
            safeguard,
            pending.id,
            pending.approver,
            at=now,
        )

    def _escalate(
        self,
        op: OperatorRecord,
        account_id: int,
        report: Report | None,
        now: float,
        safeguard: str | None,
    ) -> Outcome:
        if report is None:  # a direct action: the escalation becomes a report of its own
            report = Report(next(self._report_ids), account_id, op.id, False, now)
            self._reports[report.id] = report
        report.queue = "senior"
        report.state = "queued"
        report.claimed_by = None
        self._queues["senior"].append(report.id)
        self._log(now, op.id, "escalated", account_id, report.id, detail=safeguard)
        return Outcome(ESCALATED, account_id, None, report.id, safeguard, at=now)

    def _restore(self, account_id: int, actor: str, now: float) -> Outcome:
        was = self._status.pop(account_id, ACTIVE)
        if was in DOWN_STATUSES:
            self._log(now, actor, "restored", account_id, detail=was)
        return Outcome(RESTORED, account_id, "restore", at=now)

    # --- timers --------------------------------------------------------------------------

    def _schedule(self, due: float, kind: int, ref: int) -> None:
        heapq.heappush(self._timers, (due, next(self._timer_ids), kind, ref))

    def _run_due(self, now: float) -> list[Outcome]:
        done: list[Outcome] = []
        timers = self._timers
        while timers and timers[0][0] <= now:
            due, _, kind, ref = heapq.heappop(timers)
            if kind == _RESTORE:
                if self._status.get(ref, ACTIVE) in DOWN_STATUSES:
                    done.append(self._restore(ref, RESTORE_MONITOR, due))
                continue
            pending = self._pending[ref]
            if pending.state != "scheduled":
                continue
            held_by = self.safeguards.held_by(pending.held_by or "")
            account = self._accounts[pending.account_id]
            if pending.wrongful and held_by.cancels(account, self._draw):
                monitor = held_by.monitor or held_by.name
                done.append(self._close(pending, CANCELLED, monitor, held_by.name, due))
            else:
                done.append(self._apply(pending, pending.requested_by, due))
        return done

    def _draw(self, kind: str, p: float) -> bool:
        """A yes/no draw of a safeguard's monitor, through the replaceable `chance`."""
        return self.chance(self._rng, kind, p)

    # --- helpers -------------------------------------------------------------------------

    def _authenticate(self, token: str, now: float | None = None) -> OperatorRecord:
        """The operator holding `token`, at the command's instant (or now, for reads)."""
        op = self._by_token.get(token)
        if op is None:
            raise Unauthorized("unknown operator credentials")
        if op.exit_at is not None and (self.clock.now() if now is None else now) >= op.exit_at:
            raise Forbidden(f"operator {op.id} has departed")
        return op

    def _profile(self, account_id: int) -> AccountProfile:
        profile = self._accounts.get(account_id)
        if profile is None:
            raise NotFound(f"account {account_id} does not exist")
        return profile

    def _check_chosen_approver(self, op: OperatorRecord, chosen: str | None) -> None:
        if chosen is not None:
            self.safeguards.vet_second_approver(op, chosen, self._operators, self._at)

    def _check_none_pending(self, account_id: int) -> None:
        """Refuse a destructive request on an account that already has one pending: asking
        again would otherwise draw another second approver, and let one report (or one
        intent) take effect twice."""
        pending_id = self._open.get(account_id)
        if pending_id is not None and self.guard_repeats:
            pending = self._pending[pending_id]
            waits = "its second approval" if pending.state == "awaiting_approval" else "its delay"
            raise Conflict(
                f"account {account_id} already has a destructive action pending (pending "
                f"action {pending_id}: {pending.action} requested by {pending.requested_by}, "
                f"waiting for {waits}); "
                "a new request can follow once it is approved, rejected or cancelled"
            )

    def _release(self, pending: PendingAction) -> None:
        """The account's pending action took effect or ended: a new request may follow."""
        if self._open.get(pending.account_id) == pending.id:
            del self._open[pending.account_id]

    def _pick_approver(self, op: OperatorRecord, account_id: int, senior_only: bool) -> str | None:
        """The system's random choice of a distinct, present second approver (a senior if
        `senior_only`). A requester asking again for the same account gets the approver
        drawn for it before, while that one is still in the pool: asking again must not
        re-draw."""
        now = self._at
        pool = [
            i
            for i in self._approver_order
            if i != op.id
            and not self._operators[i].departed(now)
            and (not senior_only or self._operators[i].role == "senior")
        ]
        if not pool:
            return None
        key = (op.id, account_id)
        drawn = self._drawn.get(key)
        if drawn in pool and self.guard_repeats:
            return drawn
        drawn = self._drawn[key] = self._rng.choice(pool)
        return drawn

    def _pending_view(self, p: PendingAction) -> PendingView:
        handle = self._accounts[p.account_id].handle
        return PendingView(
            p.id, p.account_id, handle, p.action, p.requested_by, p.report_id, p.state, p.due_at
        )

    def _settle(self, report: Report, outcome: str) -> None:
        report.state = "decided"
        report.outcome = outcome

    def _log(
        self,
        at: float,
        actor: str,
        event: str,
        account_id: int | None = None,
        report_id: int | None = None,
        pending_id: int | None = None,
        action: str | None = None,
        detail: str | None = None,
    ) -> None:
        self._audit.append(
            (
                len(self._audit) + 1,
                at,
                actor,
                event,
                account_id,
                report_id,
                pending_id,
                action,
                detail,
            )
        )


def _shallow(obj: T) -> T:
    """A copy sharing every attribute (faster than `copy.copy` for plain objects)."""
    twin = object.__new__(type(obj))
    twin.__dict__.update(obj.__dict__)
    return twin


def _copy_report(r: Report) -> Report:
    refused = None if r.refused is None else set(r.refused)
    return Report(
        r.id,
        r.account_id,
        r.reporter,
        r.violating,
        r.filed_at,
        r.queue,
        r.state,
        r.claimed_by,
        r.outcome,
        refused,
    )


def _copy_pending(p: PendingAction) -> PendingAction:
    return PendingAction(
        p.id,
        p.account_id,
        p.action,
        p.requested_by,
        p.report_id,
        p.wrongful,
        p.state,
        p.approver,
        p.due_at,
        p.held_by,
    )

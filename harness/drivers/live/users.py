"""The experiment's people as Locust users: each operator, with its own credentials, and the
reporter (user reports and report floods).

An operator makes its moves through the simulator's move layer (`drivers.moves`): approvals
first, then the queue; it spends its per-item time (scaled to wall time) between claiming
and deciding; it tells the board what its answers mean for others (a second approver
chosen, an escalation, a requeue). A compromised operator's attacker acts with the same
credentials at the persona's planned attack times. With `live.users_per_operator` K > 1,
each operator is K concurrent sessions of the same identity and token (K times the work
capacity, one operator to the target and its safeguards); the first session draws the
simulator's random stream for that operator, the others their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

import gevent
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

from targets.moderation import APPLIED, ESCALATED, PENDING_APPROVAL, REQUEUED, Outcome

from ...experiment.model import LiveSpec
from ...history import add_answer
from ...personas import Item, Persona, operator_persona
from ...world.environment import Environment
from ...world.roster import OperatorSpec
from ..arrivals import shift_reports
from ..client import HttpTarget
from ..moves import Acts
from .board import Board
from .clock import ShiftClock
from .record import Recorder, Refused, Unknown, probe
from .transport import LocustTransport, connections

ITEM_WAIT = 1.0  # wall seconds to wait for the news of a claimed report's filing


@dataclass
class Shift:
    replication: int
    clock: ShiftClock
    recorder: Recorder
    end: float  # shift seconds
    reports: Iterator[tuple[float, Item, str]]  # the reporters' shared stream


@dataclass
class World:
    """What the users of one process share: the experiment's environment, the target and
    its credentials, the board and the shift under way."""

    env: Environment
    url: str
    tokens: dict[str, str]
    board: Board
    shift: Shift | None = None
    sessions: Counter = field(default_factory=Counter)  # operator id or "reporter" -> started

    @property
    def live(self) -> LiveSpec:
        return self.env.experiment.live

    def begin(self, replication: int, clock: ShiftClock, prefix: str) -> Shift:
        self.board.reset()
        self.sessions.clear()
        end = self.env.shift
        recorder = Recorder(clock, end, f"{prefix}{replication}")
        reports = shift_reports(self.env, replication)
        self.shift = Shift(replication, clock, recorder, end, reports)
        return self.shift


class ShiftUser(FastHttpUser):
    """What operators and reporters share: the world, the shift, the target, records."""

    abstract = True
    world: ClassVar[World]
    wait_time = constant(0)
    concurrency = 2  # the user's own requests and a compromised operator's attacker's
    max_retries = 0  # what is tried again, and how, is the history's business

    def __init__(self, environment) -> None:
        self.client_pool = connections(self.concurrency)  # every wait bounded
        super().__init__(environment)

    def on_start(self) -> None:
        shift = self.world.shift
        assert shift is not None, "users start only inside a shift"
        self.shift = shift
        self.clock, self.recorder = shift.clock, shift.recorder
        self.target = HttpTarget(self.world.url, transport=LocustTransport(self.client))
        self.protected = frozenset(self.world.env.population.protected_ids)

    def idle_until_stopped(self) -> None:
        """The shift is over for this user: wait until the run stops it."""
        while True:
            gevent.sleep(60)


class Operator(ShiftUser):
    abstract = True
    spec: ClassVar[OperatorSpec]

    def on_start(self) -> None:
        super().on_start()
        world, spec = self.world, self.spec
        session = world.sessions[spec.id]
        world.sessions[spec.id] += 1
        self.process = spec.id if session == 0 else f"{spec.id}#{session + 1}"
        seed = world.env.replication_seed(self.shift.replication)
        self.persona: Persona = operator_persona(spec, seed, session)
        self.token = world.tokens[spec.id]
        rule = world.env.experiment.safeguards.two_person_rule
        self.approvals = rule.enabled
        names = rule.chooser == "requester"  # the others' personas tell whom it would name
        operators = (
            (s.id, s.collude, s.record, s.record.role, operator_persona(s, seed) if names else None)
            for s in world.env.roster
        )
        self.acts = Acts(self.target, self.send, self.follow, rule, operators, _at_work)
        self.handled: set[int] = set()  # pending approvals this session answered
        plan = self.persona.attack_plan(world.env.shift, world.env.population.protected_ids)
        self.attacker = gevent.spawn(self.attack, plan) if plan and session == 0 else None

    def on_stop(self) -> None:
        if self.attacker is not None:
            self.attacker.kill(block=True)

    @task
    def work(self) -> None:
        board, clock, end = self.world.board, self.clock, self.shift.end
        idle = clock.wall_seconds(self.world.live.idle_poll)
        look_at_approvals = False
        started: float | None = None  # of the next item: when the last decision was sent
        while clock.now() < end and not self.spec.record.departed(clock.now()):
            if self.approvals and (look_at_approvals or board.approval_waiting(self.spec.id)):
                look_at_approvals = False
                if self.work_on_approvals():
                    started = None
                    continue
            started = clock.now() if started is None else started
            view = self.claim()
            if view is not None:
                started = self.work_on_report(view, started)
            else:
                started = None
                if not board.wait(self.spec.id, self.spec.record.role == "senior", idle):
                    look_at_approvals = True  # nothing heard for a while: look anyway
        self.idle_until_stopped()

    # --- the queue ----------------------------------------------------------------------

    def claim(self):
        key = self.recorder.key()
        try:
            return self.recorder.attempt(
                self.process,
                "claim",
                {"key": key},
                lambda: self.target.claim(self.token, idempotency_key=key),
                lambda value, view: {**value, "report": None if view is None else view.id},
            )
        except (Refused, Unknown):
            return None

    def work_on_report(self, view, started: float) -> float | None:
        """Spend the item's time from `started`, then decide; returns when the decision
        was sent (None: no decision). As in the simulator, where answers take no time, an
        item's time runs from the previous decision to this one: the tool's answers to
        the decision and to the claim are part of it, not added to it, so the operator
        keeps the simulator's pace as long as they take less than the item's time."""
        item = self.world.board.item(view.id, ITEM_WAIT)
        self.clock.sleep_until(started + self.persona.item_seconds())
        now = self.clock.now()
        if now >= self.shift.end or item is None:
            return None  # the shift ended first, or the report was not filed by this run
        self.acts.decide(self, view.id, item, now, view.queue)
        return now

    # --- second approvals ---------------------------------------------------------------

    def work_on_approvals(self) -> bool:
        """Answer every approval waiting for this operator; False when there was none."""
        try:
            waiting = self.recorder.attempt(
                self.process,
                "pending_approvals",
                {},
                lambda: self.target.pending_approvals(self.token),
                lambda value, views: {**value, "pending_ids": [v.id for v in views]},
            )
        except (Refused, Unknown):
            return False
        fresh = [view for view in waiting if view.id not in self.handled]
        for view in fresh:
            self.handled.add(view.id)
            self.second_approve(view)
            if self.clock.now() >= self.shift.end:
                break
        return bool(fresh)

    def second_approve(self, view) -> None:
        started = self.clock.now()
        item = self.item_for(view.report_id, view.account_id)
        self.clock.sleep_until(started + self.persona.item_seconds())
        now = self.clock.now()
        if now >= self.shift.end:
            return
        self.acts.second_approve(self, view.id, view.report_id, item, view.requested_by, now)

    def item_for(self, report_id: int | None, account_id: int) -> Item:
        """What a pending action is about: its report's ground truth, or (a direct action,
        or a report this run did not file) an action without merit on that account."""
        item = None if report_id is None else self.world.board.item(report_id, ITEM_WAIT)
        return item or Item(account_id, account_id in self.protected, False)

    # --- the attacker -------------------------------------------------------------------

    def attack(self, plan: list[tuple[float, int]]) -> None:
        """An attacker holding this operator's credentials uses the direct admin action."""
        for at, account_id in plan:
            self.clock.sleep_until(at)
            now = self.clock.now()
            if now >= self.shift.end:
                return
            self.acts.attack(self, account_id, account_id in self.protected, now)

    # --- calls and answers --------------------------------------------------------------

    @property
    def id(self) -> str:
        """The operator's id (its sessions' records carry `process`)."""
        return self.spec.id

    def send(self, now: float, process: str, f: str, value: dict, method, *args) -> Outcome | None:
        """One write with a fresh idempotency key, recorded when invoked and when it ends."""
        key = value["key"] = self.recorder.key()
        try:
            return self.recorder.attempt(
                process, f, value, lambda: method(*args, idempotency_key=key), add_answer
            )
        except (Refused, Unknown):
            return None

    def follow(
        self, now: float, out: Outcome, item: Item, requester: str, process: str, queue: str
    ) -> None:
        """React to an answer the way people would: look at a protected account that went
        down, tell the chosen second approver, alert the senior queue."""
        board = self.world.board
        if out.status == APPLIED:
            if item.protected:
                probe(self.recorder, self.target, process, out.account_id)
        elif out.status == PENDING_APPROVAL:
            board.publish(["approval", out.approver])
        elif out.status == ESCALATED:
            board.publish(["escalated", out.report_id, list(item)])
        elif out.status == REQUEUED:
            board.publish(["requeued", queue])


class Reporter(ShiftUser):
    """Files the shift's reports (the simulator's stream of user reports and floods). The
    `live.reporters` reporters share one stream, each filing the next report when it is
    due, so a slow answer does not hold up the reports behind it."""

    abstract = True

    @task
    def work(self) -> None:
        session = self.world.sessions["reporter"]
        self.world.sessions["reporter"] += 1
        suffix = f"#{session + 1}" if session else ""
        for t, item, reporter in self.shift.reports:
            if t >= self.shift.end:
                break
            self.clock.sleep_until(t)
            key = self.recorder.key()
            value = {
                "account": item.account_id,
                "protected": item.protected,
                "violating": item.violating,
                "ambiguous": item.ambiguous,
                "key": key,
            }
            try:
                report_id = self.recorder.attempt(
                    reporter + suffix,
                    "file_report",
                    value,
                    lambda i=item, k=key, r=reporter: self.target.file_report(
                        r, i.account_id, i.violating, idempotency_key=k
                    ),
                    lambda value, report_id: {**value, "report": report_id},
                )
            except (Refused, Unknown):
                continue
            self.world.board.publish(["filed", report_id, list(item)])
        self.idle_until_stopped()


def _at_work(record, now: float) -> bool:
    return not record.departed(now)


def user_classes(world: World) -> list[type[ShiftUser]]:
    """One Locust user class per operator (K sessions each) and one for the reporters,
    bound to `world`; each class is pinned to one worker (see `cluster`)."""
    k = world.live.users_per_operator
    classes: list[type[ShiftUser]] = [
        type(f"operator_{spec.id}", (Operator,), {"world": world, "spec": spec, "fixed_count": k})
        for spec in world.env.roster
    ]
    reporters = {"world": world, "fixed_count": world.live.reporters}
    classes.append(type("reporter", (Reporter,), reporters))
    return classes

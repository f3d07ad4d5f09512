"""The simulator: one replication of a shift as a discrete-event run over a virtual clock.

Reports arrive as a Poisson stream, operators claim them, spend their per-item time, decide
per persona, and the target's safeguards act; delayed actions fire or are cancelled and the
restore monitor restores, on the target's own timers. The driver only calls the target's
public API (the Target protocol, plus `advance` to move the target's clock) and records
what it asked and what came back in the history, so the same replication runs against the
in-process core or, through the HTTP client, against a served target with a manual clock.

Every random stream is derived from the replication seed and a purpose (reports, floods,
each operator, the target), so the report stream is the same under every safeguard
configuration (common random numbers) and a replication is reproducible bit for bit.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from typing import Any

from targets.moderation import (
    APPLIED,
    DELAYED,
    ESCALATED,
    FINAL_STATUSES,
    PENDING_APPROVAL,
    REQUEUED,
    TARGET_FAULTS,
    Conflict,
    ManualClock,
    ModerationError,
    Outcome,
)

from ..history import FAIL, OK, History, add_answer
from ..personas import Item, Persona, operator_persona
from ..world.environment import Environment
from .arrivals import shift_reports
from .moves import Acts
from .nemesis import fault_value, schedule
from .target import Connect, TimedTarget

ARRIVAL, DONE, FAULT, ATTACK, EXIT, END = range(6)


class Agent:
    """An operator at work in one replication: persona, credentials, current work."""

    __slots__ = ("collude", "id", "inbox", "persona", "present", "process", "role", "token", "work")

    def __init__(self, op_id: str, role: str, token: str, persona: Persona, collude: bool):
        self.id = self.process = op_id
        self.role = role
        self.token = token
        self.persona = persona
        self.collude = collude
        self.present = True
        self.inbox: deque[int] = deque()
        self.work: tuple[str, int] | None = None


class Simulation:
    def __init__(self, env: Environment, replication: int, connect: Connect | None = None):
        self.env = env
        seed = env.replication_seed(replication)
        exp = env.experiment
        self.target, tokens = (connect or local_target(env))(env.target_seed(replication))
        self.ops: list = []
        self.reports = shift_reports(env, replication)
        self.agents = {
            spec.id: Agent(
                spec.id,
                spec.record.role,
                tokens[spec.id],
                operator_persona(spec, seed),
                spec.collude,
            )
            for spec in env.roster
        }
        self.idle: deque[Agent] = deque(self.agents.values())
        self.items: dict[int, Item] = {}
        self.pending: dict[int, tuple[Item, str, int | None]] = {}  # item, requester, report
        # the account's action waiting for approval or delay, and the approvals held back
        # because the target refused them while it waits (one pending action per account)
        self.waiting_on: dict[int, int] = {}
        self.held: dict[int, list[tuple[Agent, int, str, str | None]]] = {}
        self.events: list[tuple[float, int, int, Any]] = []
        self.seq = itertools.count()
        # queue depth as the driver knows it from its own calls and answers: filed and
        # requeued reports minus claims; escalations wait in the senior queue
        self.queued = {"ordinary": 0, "senior": 0}
        self.queue_of: dict[int, str] = {}  # report id -> the queue it was last claimed from
        self.protected = frozenset(env.population.protected_ids)
        operators = ((a.id, a.collude, a, a.role, a.persona) for a in self.agents.values())
        rule = exp.safeguards.two_person_rule
        self.acts = Acts(self.target, self._send, self._follow, rule, operators, _at_work)

    # --- the event loop ------------------------------------------------------------------

    def run(self) -> History:
        shift, protected_ids = self.env.shift, self.env.population.protected_ids
        for account in protected_ids:
            self._probe(0.0, account)
        self._plan(shift, protected_ids)
        self._loop()
        # the move layer holds this simulation's hooks: a reference cycle, which would keep
        # every replication's state alive until the next cyclic collection (15% slower)
        del self.acts
        for account in protected_ids:
            self._probe(shift, account)
        self.ops.append((shift, "harness", OK, "shift_end", {}))
        return History(self.ops)

    def _plan(self, shift: float, protected_ids: tuple[int, ...]) -> None:
        """Put the shift's known events on the clock: the first report, the fault
        schedule, the attacks, the operators' exits and the end of the shift."""
        at, item, reporter = next(self.reports)
        self._push(at, ARRIVAL, (item, reporter))
        experiment = self.env.experiment
        for at, index, active in schedule(experiment):
            self._push(at, FAULT, (index, experiment.faults[index], active))
        for agent in self.agents.values():
            for at, account in agent.persona.attack_plan(shift, protected_ids):
                self._push(at, ATTACK, (agent, account))
            exit_at = agent.persona.exit_at
            if exit_at is not None and exit_at < shift:
                self._push(exit_at, EXIT, agent)
        self._push(shift, END, None)

    def _loop(self) -> None:
        """Run the events in time order, each after the target's timers due before it."""
        advance, events, reports = self.target.advance, self.events, self.reports
        while events:
            t, _, kind, data = heapq.heappop(events)
            for outcome in advance(t):
                self._observe_timer(outcome)
            if kind == ARRIVAL:
                self._file(t, *data)
                at, item, reporter = next(reports)
                self._push(at, ARRIVAL, (item, reporter))
            elif kind == DONE:
                self._done(t, data)
            elif kind == FAULT:
                self._fault(t, *data)
            elif kind == ATTACK:
                agent, account = data
                self.acts.attack(agent, account, account in self.protected, t)
            elif kind == EXIT:
                self._leave(data)
            else:  # END
                return

    def _leave(self, agent: Agent) -> None:
        agent.present = False
        if agent in self.idle:
            self.idle.remove(agent)

    def _push(self, t: float, kind: int, data: Any) -> None:
        heapq.heappush(self.events, (t, next(self.seq), kind, data))

    # --- reports and work ----------------------------------------------------------------

    def _file(self, t: float, item: Item, reporter: str = "reporter") -> None:
        report_id = self.target.file_report(reporter, item.account_id, item.violating)
        self.items[report_id] = item
        self.queued["ordinary"] += 1
        self.ops.append(
            (
                t,
                reporter,
                OK,
                "file_report",
                {
                    "report": report_id,
                    "account": item.account_id,
                    "protected": item.protected,
                    "violating": item.violating,
                    "ambiguous": item.ambiguous,
                },
            )
        )
        self._wake(t, senior=False)

    def _wake(self, t: float, senior: bool) -> None:
        """Hand new queue work to the operator who has been idle longest."""
        for agent in self.idle:
            if not senior or agent.role == "senior":
                self.idle.remove(agent)
                self._start(t, agent)
                return

    def _start(self, t: float, agent: Agent) -> None:
        """The operator picks its next piece of work: approvals first, then the queue."""
        queued = self.queued
        if agent.inbox:
            agent.work = ("approval", agent.inbox.popleft())
        else:
            waiting = queued["ordinary"] + (queued["senior"] if agent.role == "senior" else 0)
            view = self.target.claim(agent.token) if waiting else None
            if view is None:
                self.idle.append(agent)
                return
            queued[view.queue] -= 1
            self.queue_of[view.id] = view.queue
            self.ops.append((t, agent.id, OK, "claim", {"report": view.id}))
            agent.work = ("report", view.id)
        self._push(t + agent.persona.item_seconds(), DONE, agent)

    def _done(self, t: float, agent: Agent) -> None:
        kind, ref = agent.work
        agent.work = None
        if kind == "report":
            self.acts.decide(agent, ref, self.items[ref], t, self.queue_of[ref])
        else:
            item, requester, report_id = self.pending[ref]
            self.acts.second_approve(agent, ref, report_id, item, requester, t)
        if agent.present:
            self._start(t, agent)

    def _send(self, t: float, process: str, f: str, value: dict, method, *args) -> Outcome | None:
        """One call, recorded at once (answers take no simulated time). An approval refused
        because the account already has an action pending is held, and sent again when
        that action ends (`_ended`)."""
        try:
            out = method(*args)
        except ModerationError as exc:
            self._failed(t, process, f, value, exc)
            account = value["account"]
            if f == "decide" and isinstance(exc, Conflict) and account in self.waiting_on:
                held = self.held.setdefault(account, [])
                held.append(
                    (self.agents[process], value["report"], value["decision"], value["action"])
                )
            return None
        add_answer(value, out)
        self.ops.append((t, process, OK, f, value))
        return out

    def _follow(
        self, t: float, out: Outcome, item: Item, requester: str, process: str, queue: str
    ) -> None:
        """React to an answer the way people would: notify the second approver, alert the
        senior queue, look at an account that went down."""
        status = out.status
        if status in FINAL_STATUSES:
            self._ended(t, out)
        if status == APPLIED:
            if item.protected:
                self._probe(t, out.account_id)
        elif status == PENDING_APPROVAL:
            self.waiting_on[out.account_id] = out.pending_id
            self.pending[out.pending_id] = (item, requester, out.report_id)
            approver = self.agents[out.approver]
            approver.inbox.append(out.pending_id)
            if approver in self.idle:
                self.idle.remove(approver)
                self._start(t, approver)
        elif status == ESCALATED:
            self.items.setdefault(out.report_id, item)
            self.queued["senior"] += 1
            self._wake(t, senior=True)
        elif status == REQUEUED:
            queue = self.queue_of[out.report_id]
            self.queued[queue] += 1
            self._wake(t, senior=queue == "senior")
        elif status == DELAYED:
            self.waiting_on[out.account_id] = out.pending_id
            self.pending[out.pending_id] = (item, requester, out.report_id)

    def _ended(self, t: float, out: Outcome) -> None:
        """A pending action ended: the approvals held for its account are sent again, by
        the operators still at work."""
        if out.pending_id is None or self.waiting_on.get(out.account_id) != out.pending_id:
            return
        del self.waiting_on[out.account_id]
        for agent, report_id, decision, action in self.held.pop(out.account_id, ()):
            if agent.present:
                item, queue = self.items[report_id], self.queue_of[report_id]
                self.acts.submit(agent, report_id, item, decision, action, t, queue)

    # --- faults, timers, probes ----------------------------------------------------------

    def _fault(self, t: float, index: int, fault: Any, active: bool) -> None:
        """Switch a fault. A report flood is reporters' load (in the report stream);
        faults of the network and the process (latency, server errors, restarts) exist
        only in live mode: both are recorded here with no effect on the target."""
        if fault.kind in TARGET_FAULTS:
            self.target.set_fault(fault.kind, active)
        self.ops.append((t, "nemesis", OK, "fault", fault_value(index, fault, active)))

    def _observe_timer(self, out: Outcome) -> None:
        self.ops.append(
            (
                out.at,
                "target",
                OK,
                "timer",
                {
                    "pending": out.pending_id,
                    "account": out.account_id,
                    "outcome": out.status,
                    "safeguard": out.safeguard,
                },
            )
        )
        if out.account_id in self.protected:
            self._probe(out.at, out.account_id)
        self._ended(out.at, out)

    def _probe(self, t: float, account_id: int) -> None:
        status = self.target.account_status(account_id)
        self.ops.append((t, "probe", OK, "status", {"account": account_id, "status": status}))

    def _failed(self, t: float, process: str, f: str, request: dict, exc: ModerationError) -> None:
        request.update(error=exc.code, message=str(exc))
        self.ops.append((t, process, FAIL, f, request))


def _at_work(agent: Agent, now: float) -> bool:
    return agent.present


def local_target(env: Environment) -> Connect:
    """The in-process target: a fresh `ModerationService` on a virtual clock."""
    tokens = {spec.id: spec.token for spec in env.roster}

    def connect(seed: str) -> tuple[TimedTarget, dict[str, str]]:
        return env.target_spec(seed).build(ManualClock()), tokens

    return connect


def simulate(env: Environment, replication: int, connect: Connect | None = None) -> History:
    """Run replication `replication` of the environment's experiment, against the
    in-process target unless `connect` gives another (a served target over HTTP)."""
    return Simulation(env, replication, connect).run()

"""A history read once, in order, for the checkers: each request's chain of answers
followed, and the operations the checkers need sorted into streams.

Trials and slips follow each request's chain of answers (a decision, then possibly a
second approval, a delay, an escalation). Histories from live mode hold concurrent
operations, so facts about reports and pending actions are gathered before the chains
are followed when an answer was recorded a moment before the one it depends on.
An indeterminate destructive request is kept (with the chain it would have continued)
for the probes to resolve; see `protection`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import cached_property

from targets.moderation import DOWN_STATUSES, FINAL_STATUSES

from ..history import FAIL, INFO, INVOKE, OK, History, Op

APPLIED, DISMISSED, ESCALATED, REQUEUED = "applied", "dismissed", "escalated", "requeued"
DESTRUCTIVE = ("decide", "second_approve", "direct_action")
READS = ("status", "pending_approvals")  # no effect to be unsure about

Facts = tuple[bool, bool, tuple]  # protected, violating, the key of the chain's trial
Answer = tuple[float, dict, Facts]  # when, the answer, the chain it continued
Doubtful = tuple[float, int, Facts | None]  # requested, account, the chain it may continue


class Known:
    """What each report and pending action is about, for following chains of answers.

    Gathered as the history is read, in order. Live histories hold concurrent operations,
    so an answer may be recorded a moment before the one it depends on; the first time
    something is asked before it was recorded, the facts are gathered from the whole
    history at once (a simulated history never needs that)."""

    def __init__(self, ops: list[Op]) -> None:
        self.ops = ops
        self.reports: dict[int, Facts] = {}  # report id -> facts
        self.chains: dict[int, Facts] = {}  # pending id -> facts of its chain
        self.whole = False

    def report(self, report_id: int | None) -> Facts | None:
        facts = self.reports.get(report_id)  # type: ignore[arg-type]
        if facts is None and not self.whole:
            self._gather()
            facts = self.reports.get(report_id)  # type: ignore[arg-type]
        return facts

    def chain(self, pending: int, report_id: int | None) -> Facts | None:
        facts = self.chains.get(pending)
        if facts is None and not self.whole:
            self._gather()
            facts = self.chains.get(pending)
        return facts or self.reports.get(report_id)  # type: ignore[arg-type]

    def _gather(self) -> None:
        self.whole = True
        reports, chains = self.reports, self.chains
        requests = []  # answers that left a pending action
        for t, process, type_, f, v in self.ops:
            if type_ != OK:
                continue
            if f == "file_report":
                reports.setdefault(v["report"], report_facts(v))
            elif f == "decide" or f == "direct_action":
                if f == "direct_action" and v["outcome"] == ESCALATED:
                    reports.setdefault(v["escalated_report"], direct_facts(t, process, v))
                if v["pending"] is not None:
                    requests.append((t, process, f, v))
        for t, process, f, v in requests:
            direct = f == "direct_action"
            facts = direct_facts(t, process, v) if direct else reports.get(v["report"])
            if facts is not None:
                chains.setdefault(v["pending"], facts)


def report_facts(v: dict) -> Facts:
    return (v["protected"], v["violating"], ("report", v["report"]))


def direct_facts(t: float, process: str, v: dict) -> Facts:
    """A direct action's chain, keyed by who asked when (one request at a time each)."""
    return (v["protected"], False, ("direct", process, t))


class Reading:
    """The streams the checkers read, each in history order."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []  # every answer that continued a known chain
        self.entered: dict[int, float] = {}  # report -> when it entered its current queue
        self.waits: list[float] = []  # seconds from entering a queue to each claim
        self.open_reports: set[int] = set()  # filed, and their chain has not ended
        self.probes: list[tuple[float, int | None, bool]] = []  # (time, account, down);
        # account None: the shift ended
        self.faults: list[tuple[float, int, bool]] = []  # (time, fault index, active)
        self.decisions = 0
        self.doubtful: list[Doubtful] = []  # indeterminate destructive requests
        self.applied: dict[int, list[tuple[float, float]]] = {}  # account -> (asked, answered)
        self.continued: dict[tuple, float] = {}  # chain key -> when an answer last continued it
        self.indeterminate: Counter = Counter()  # indeterminate operations, and retried ones

    @cached_property
    def seen(self) -> dict[int, list[tuple[float, bool]]]:
        """Each account's probes: (time, down)."""
        seen: dict[int, list[tuple[float, bool]]] = {}
        for t, account, down in self.probes:
            if account is not None:
                seen.setdefault(account, []).append((t, down))
        return seen


class Reader:
    """Reads a history once into a `Reading`: one small handler per operation."""

    def __init__(self, ops: list[Op]) -> None:
        self.ops = ops
        self.known = Known(ops)
        self.reading = Reading()
        self.settled: set[int] = set()  # pending ids whose chain ended
        self.invoked: dict[str, float] = {}  # process -> when its operation was invoked
        self.answered: set[str] | None = None  # keys an attempt got an answer for
        self.concurrent = False  # operations are recorded invoked, then completed (live)

    def read(self) -> Reading:
        """One pass in order. Filing, claiming and deciding are nearly every operation of a
        shift, so they are handled in the loop; the rest by their handlers."""
        handlers, invoked, known, reading = HANDLERS, self.invoked, self.known, self.reading
        entered, waits = reading.entered, reading.waits
        for t, process, type_, f, v in self.ops:
            if type_ == INVOKE:
                invoked[process] = t
                self.concurrent = True
                continue
            started = invoked.pop(process, t) if invoked else t
            if type_ != OK:
                if type_ == INFO and f not in READS:
                    self._indeterminate(t, process, started, f, v)
            elif f == "decide":
                reading.decisions += 1
                facts = known.reports.get(v["report"]) or known.report(v["report"])
                if facts is not None:
                    self._follow(t, started, v, facts)
            elif f == "claim":
                if v["report"] in entered:
                    waits.append(t - entered[v["report"]])
            elif f == "file_report":
                known.reports[v["report"]] = report_facts(v)
                entered[v["report"]] = t
                reading.open_reports.add(v["report"])
            elif f in handlers:
                handlers[f](self, t, process, started, v)
        return reading

    def _second_approve(self, t: float, process: str, started: float, v: dict) -> None:
        self.reading.decisions += 1
        self._continue(t, started, v)

    def _timer(self, t: float, process: str, started: float, v: dict) -> None:
        if v["outcome"] == APPLIED:
            self.reading.applied.setdefault(v["account"], []).append((t, t))
        self._continue(t, started, v)

    def _continue(self, t: float, started: float, v: dict) -> None:
        """An answer about a pending action continues its chain, unless that ended."""
        pending = v["pending"]
        if pending is None or pending in self.settled:
            return
        facts = self.known.chains.get(pending) or self.known.chain(pending, v.get("report"))
        if facts is not None:
            self._follow(t, started, v, facts)

    def _direct_action(self, t: float, process: str, started: float, v: dict) -> None:
        self._follow(t, started, v, direct_facts(t, process, v))

    def _status(self, t: float, process: str, started: float, v: dict) -> None:
        self.reading.probes.append((t, v["account"], v["status"] in DOWN_STATUSES))

    def _fault(self, t: float, process: str, started: float, v: dict) -> None:
        if v.get("index") is not None:
            self.reading.faults.append((t, v["index"], v["active"]))

    def _shift_end(self, t: float, process: str, started: float, v: dict) -> None:
        self.reading.probes.append((t, None, False))

    def _follow(self, t: float, started: float, v: dict, facts: Facts) -> None:
        """Record an answer that continued a chain, and where the chain goes next."""
        reading, status, key = self.reading, v["outcome"], facts[2]
        reading.answers.append((t, v, facts))
        if self.concurrent:
            reading.continued[key] = t
        if status == ESCALATED:
            self.known.reports[v["escalated_report"]] = facts
            reading.entered[v["escalated_report"]] = t
        elif status == REQUEUED:
            reading.entered[v["report"]] = t  # waits again from now
        elif status in FINAL_STATUSES:
            if status == APPLIED and facts[0]:
                reading.applied.setdefault(v["account"], []).append((started, t))
            if v["pending"] is not None:
                self.settled.add(v["pending"])
            if key[0] == "report":
                reading.open_reports.discard(key[1])
        elif v["pending"] is not None:
            self.known.chains[v["pending"]] = facts

    def _indeterminate(self, t: float, process: str, started: float, f: str, v: dict) -> None:
        counts = self.reading.indeterminate
        counts["operations"] += 1
        if self.answered is None:
            self.answered = {o[4]["key"] for o in self.ops if o[2] in (OK, FAIL) and "key" in o[4]}
        if v.get("key") in self.answered:
            counts["retried"] += 1
        elif f in DESTRUCTIVE:
            facts = self._doubtful_facts(t, process, f, v)
            self.reading.doubtful.append((started, v["account"], facts))
        else:
            counts["unresolved"] += 1

    def _doubtful_facts(self, t: float, process: str, f: str, v: dict) -> Facts | None:
        """The chain an indeterminate destructive request would have started or continued,
        or None when it could not have taken an account down (a dismissal, a refusal)."""
        if f == "decide":
            return self.known.report(v["report"]) if v.get("decision") == "approve" else None
        if f == "second_approve":
            if not v.get("approve"):
                return None
            known_chain = self.known.chain(v["pending"], v.get("report"))
            return known_chain or (v["protected"], False, ("pending", v["pending"]))
        return direct_facts(t, process, v)


HANDLERS: dict[str, Callable[[Reader, float, str, float, dict], None]] = {
    "second_approve": Reader._second_approve,
    "timer": Reader._timer,
    "direct_action": Reader._direct_action,
    "status": Reader._status,
    "fault": Reader._fault,
    "shift_end": Reader._shift_end,
}
"""The handlers of the rarer operations (kept off the reader: no reference cycle, so a
read history is freed as soon as it is checked)."""


def read(history: History) -> Reading:
    return Reader(list(history)).read()

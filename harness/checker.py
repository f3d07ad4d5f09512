"""The checker: a replication's metrics, computed from its history alone.

It never reads the target's counters. Trials and slips follow each request's chain of
answers (a decision, then possibly a second approval, a delay, an escalation); exposure
comes from the harness's own status probes of protected accounts.

A *trial* is a protected-account report that reached a final decision, or a direct action
attempted against a protected account. A *slip* is a trial whose chain ended with the
action applied: the account went down.

Histories from live mode hold concurrent operations: each is invoked, then completes as
ok, fail (certainly no effect) or info (indeterminate: a 5xx, a timeout, a lost
connection). Facts about reports and pending actions are gathered before the chains are
followed, so an answer recorded a moment before the one it depends on is still counted.
An indeterminate operation is resolved, in this order, by a later answer to the same
idempotency key (the harness retried it), by later operations that continued its chain,
or, for a destructive request on a protected account, by the probes: it is a slip exactly
when the probes next see that account go down after the request was sent and no observed
answer or timer explains it. What none of these resolves is counted as unresolved, never
as a failure. An indeterminate read (a probe, a look at pending approvals) observed
nothing and had no effect; it is ignored.

Each protected trial is also counted by the fault windows it fell in (from the history's
`fault` operations): a trial is timed by its final answer (an indeterminate request the
probes resolve, by when it was sent).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from targets.moderation import DOWN_STATUSES, FINAL_STATUSES

from .history import FAIL, INFO, INVOKE, OK, History, Op

APPLIED, DISMISSED, ESCALATED, REQUEUED = "applied", "dismissed", "escalated", "requeued"
DESTRUCTIVE = ("decide", "second_approve", "direct_action")
READS = ("status", "pending_approvals")  # no effect to be unsure about


class Outage(NamedTuple):
    """One interval a protected account spent down, as the harness's probes saw it."""

    account: int
    start: float  # shift seconds when a probe first saw the account down
    minutes: float
    restored: bool  # False: still down when the shift ended (exposure runs to the end)


@dataclass
class ReplicationMetrics:
    """Counts and samples from one replication; `summary.summarize` pools them."""

    decisions: int = 0
    trials: int = 0
    slips: int = 0
    outages: list[Outage] = field(default_factory=list)  # in the order they ended
    caught_by: Counter = field(default_factory=Counter)
    caught_by_protected: Counter = field(default_factory=Counter)
    escalations: int = 0
    requeued: int = 0  # reports a safeguard sent back to the queue for another operator
    wrongful_actions: int = 0
    missed_violations: int = 0
    queue_waits: list[float] = field(default_factory=list)  # minutes
    backlog: int = 0  # reports filed but not decided when the shift ended
    operator_hours: float = 0.0
    # protected trials and slips while fault i (its index in the experiment) was active,
    # and while no fault was
    window_trials: Counter = field(default_factory=Counter)
    window_slips: Counter = field(default_factory=Counter)
    outside_trials: int = 0
    outside_slips: int = 0
    # indeterminate operations and how each was resolved
    indeterminate: Counter = field(default_factory=Counter)

    @property
    def exposures(self) -> list[float]:
        """Minutes down, one per outage."""
        return [o.minutes for o in self.outages]

    @property
    def unrestored(self) -> int:
        """Protected accounts still down when the shift ended."""
        return sum(1 for o in self.outages if not o.restored)


Facts = tuple[bool, bool, tuple]  # protected, violating, the key of the chain's trial


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


def check(history: History, operator_hours: float) -> ReplicationMetrics:
    m = ReplicationMetrics(operator_hours=operator_hours)
    ops = list(history)
    known = Known(ops)
    answered: set[str] | None = None  # keys some attempt got an answer for (ok or fail)
    entered: dict[int, float] = {}  # report id -> when it entered its current queue
    settled: set[int] = set()  # pending ids whose chain ended
    open_reports: set[int] = set()
    down_since: dict[int, float] = {}
    seen: dict[int, list[tuple[float, bool]]] = {}  # account -> probes (time, down)
    applied: dict[int, list[tuple[float, float]]] = {}  # account -> (invoked, answered)
    invoked: dict[str, float] = {}  # process -> when its operation in flight was invoked
    trials: list[tuple[float, bool]] = []  # protected trials: (time, slipped)
    spans: dict[int, list[float]] = {}  # fault index -> [start, end]
    doubtful: list[tuple[float, int, Facts | None]] = []  # indeterminate requests
    continued: dict[tuple, float] = {}  # chain key -> the last time an answer continued it
    concurrent = False  # operations are recorded invoked, then completed (live mode)

    def settle(t: float, status: str, safeguard: str | None, facts: Facts) -> bool:
        """Count a final answer; True when it ends a chain."""
        protected, violating, _key = facts
        if safeguard and status != APPLIED:
            m.caught_by[safeguard] += 1
            if protected:
                m.caught_by_protected[safeguard] += 1
        if status not in FINAL_STATUSES:
            return False
        if protected:
            trials.append((t, status == APPLIED))
        elif status == APPLIED and not violating:
            m.wrongful_actions += 1
        elif status == DISMISSED and violating:
            m.missed_violations += 1
        return True

    def follow(t: float, started: float, v: dict, facts: Facts) -> None:
        status = v["outcome"]
        key = facts[2]
        if concurrent:
            continued[key] = t
        if status in (ESCALATED, REQUEUED):
            if status == ESCALATED:
                m.escalations += 1
                entered[v["escalated_report"]] = t
                known.reports[v["escalated_report"]] = facts
            else:
                m.requeued += 1
                entered[v["report"]] = t  # waits again from now
            if v["safeguard"]:
                m.caught_by[v["safeguard"]] += 1
                if facts[0]:
                    m.caught_by_protected[v["safeguard"]] += 1
            return
        if status == APPLIED and facts[0]:
            applied.setdefault(v["account"], []).append((started, t))
        if settle(t, status, v["safeguard"], facts):
            if v["pending"] is not None:
                settled.add(v["pending"])
            if key[0] == "report":
                open_reports.discard(key[1])
        elif v["pending"] is not None:
            known.chains[v["pending"]] = facts

    for t, process, type_, f, v in ops:
        if type_ == INVOKE:
            invoked[process] = t
            concurrent = True
            continue
        started = invoked.pop(process, t) if invoked else t
        if type_ == INFO:
            if f in READS:
                continue
            m.indeterminate["operations"] += 1
            if answered is None:
                answered = {o[4]["key"] for o in ops if o[2] in (OK, FAIL) and "key" in o[4]}
            if v.get("key") in answered:
                m.indeterminate["retried"] += 1
            elif f in DESTRUCTIVE:
                facts = _doubtful_facts(t, process, f, v, known)
                doubtful.append((started, v["account"], facts))
            else:
                m.indeterminate["unresolved"] += 1
            continue
        if type_ != OK:
            continue
        if f == "decide":
            m.decisions += 1
            facts = known.reports.get(v["report"]) or known.report(v["report"])
            if facts is not None:
                follow(t, started, v, facts)
        elif f == "claim":
            if v["report"] in entered:
                m.queue_waits.append(max(0.0, t - entered[v["report"]]) / 60.0)
        elif f == "file_report":
            known.reports[v["report"]] = report_facts(v)
            entered[v["report"]] = t
            open_reports.add(v["report"])
        elif f == "second_approve" or f == "timer":
            if f == "second_approve":
                m.decisions += 1
            elif v["outcome"] == APPLIED:
                applied.setdefault(v["account"], []).append((t, t))
            pending = v["pending"]
            if pending is None or pending in settled:
                continue
            facts = known.chains.get(pending) or known.chain(pending, v.get("report"))
            if facts is not None:
                follow(t, started, v, facts)
        elif f == "status":
            account, down = v["account"], v["status"] in DOWN_STATUSES
            seen.setdefault(account, []).append((t, down))
            if down:
                down_since.setdefault(account, t)
            elif account in down_since:
                since = down_since.pop(account)
                m.outages.append(Outage(account, since, (t - since) / 60.0, True))
        elif f == "direct_action":
            follow(t, started, v, direct_facts(t, process, v))
        elif f == "fault":
            fault = v.get("index")
            if fault is not None:
                if v["active"]:
                    spans[fault] = [t, float("inf")]
                elif fault in spans:
                    spans[fault][1] = t
        elif f == "shift_end":
            for account, since in down_since.items():
                m.outages.append(Outage(account, since, (t - since) / 60.0, False))
            down_since.clear()
    m.backlog = len(open_reports)
    trials += _resolve_by_probes(doubtful, seen, applied, continued, m.indeterminate)
    _count_trials(m, trials, spans)
    return m


def _doubtful_facts(t: float, process: str, f: str, v: dict, known: Known) -> Facts | None:
    """The chain an indeterminate destructive request would have started or continued, or
    None when it could not have taken an account down (a dismissal, a refusal)."""
    if f == "decide":
        return known.report(v["report"]) if v.get("decision") == "approve" else None
    if f == "second_approve":
        if not v.get("approve"):
            return None
        known_chain = known.chain(v["pending"], v.get("report"))
        return known_chain or (v["protected"], False, ("pending", v["pending"]))
    return direct_facts(t, process, v)


def _resolve_by_probes(
    doubtful: list[tuple[float, int, Facts | None]],
    seen: dict[int, list[tuple[float, bool]]],
    applied: dict[int, list[tuple[float, float]]],
    continued: dict[tuple, float],
    counts: Counter,
) -> list[tuple[float, bool]]:
    """Resolve indeterminate destructive requests; returns the slips the probes show, as
    protected trials (time of the request, slipped)."""
    slips = []
    taken: set[tuple[int, float]] = set()  # down transitions already attributed
    for started, account, facts in sorted(doubtful, key=lambda d: d[0]):
        if facts is not None and continued.get(facts[2], -1.0) > started:
            counts["continued"] += 1
            continue
        if facts is None or not facts[0]:
            counts["unresolved"] += 1
            continue
        went_down = _unexplained_fall(seen.get(account, []), applied.get(account, []), started)
        falls = [p for p in went_down if (account, p) not in taken]
        if falls:
            taken.add((account, falls[0]))
            counts["probe_slips"] += 1
            slips.append((started, True))
        else:
            counts["unresolved"] += 1
    return slips


def _unexplained_fall(
    probes: list[tuple[float, bool]], applied: list[tuple[float, float]], after: float
) -> list[float]:
    """Times of probes that first saw the account down after `after`, when no observed
    applied answer (whose request was in flight between the last probe that saw it up and
    this one) explains the fall."""
    falls = []
    last_up = float("-inf")
    was_down = False
    for t, down in sorted(probes):
        if down and not was_down and t > after:
            explained = any(start <= t and end > last_up for start, end in applied)
            if not explained:
                falls.append(t)
        if not down:
            last_up = t
        was_down = down
    return falls


def _count_trials(
    m: ReplicationMetrics, trials: list[tuple[float, bool]], spans: dict[int, list[float]]
) -> None:
    """Pool protected trials, in total and by the fault windows they fell in."""
    for t, slipped in trials:
        m.trials += 1
        m.slips += slipped
        inside = [i for i, (start, end) in spans.items() if start <= t < end]
        for i in inside:
            m.window_trials[i] += 1
            m.window_slips[i] += slipped
        if not inside:
            m.outside_trials += 1
            m.outside_slips += slipped

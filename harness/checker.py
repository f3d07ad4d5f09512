"""The checker: a replication's metrics, computed from its history alone.

It never reads the target's counters. Trials and slips follow each request's chain of
answers (a decision, then possibly a second approval, a delay, an escalation); exposure
comes from the harness's own status probes of protected accounts.

A *trial* is a protected-account report that reached a final decision, or a direct action
attempted against a protected account. A *slip* is a trial whose chain ended with the
action applied: the account went down.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from targets.moderation import DOWN_STATUSES, FINAL_STATUSES

from .history import OK, History

APPLIED, DISMISSED, ESCALATED, REQUEUED = "applied", "dismissed", "escalated", "requeued"


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

    @property
    def exposures(self) -> list[float]:
        """Minutes down, one per outage."""
        return [o.minutes for o in self.outages]

    @property
    def unrestored(self) -> int:
        """Protected accounts still down when the shift ended."""
        return sum(1 for o in self.outages if not o.restored)


def check(history: History, operator_hours: float) -> ReplicationMetrics:
    m = ReplicationMetrics(operator_hours=operator_hours)
    # report id -> [protected, violating, entered its current queue at, trial key]
    reports: dict[int, list] = {}
    chains: dict[int, tuple] = {}  # pending id -> (protected, violating, trial key)
    down_since: dict[int, float] = {}
    open_reports: set[int] = set()
    direct = 0

    def settle(status: str, safeguard: str | None, protected: bool, violating: bool) -> bool:
        """Count a final answer; True when it ends a chain."""
        if safeguard and status != APPLIED:
            m.caught_by[safeguard] += 1
            if protected:
                m.caught_by_protected[safeguard] += 1
        if status not in FINAL_STATUSES:
            return False
        if protected:
            m.trials += 1
            if status == APPLIED:
                m.slips += 1
        elif status == APPLIED and not violating:
            m.wrongful_actions += 1
        elif status == DISMISSED and violating:
            m.missed_violations += 1
        return True

    def follow(t: float, v: dict, protected: bool, violating: bool, key: tuple) -> None:
        status = v["outcome"]
        if status in (ESCALATED, REQUEUED):
            if status == ESCALATED:
                m.escalations += 1
                reports[v["escalated_report"]] = [protected, violating, t, key]
            else:
                m.requeued += 1
                reports[v["report"]][2] = t  # waits again from now
            if v["safeguard"]:
                m.caught_by[v["safeguard"]] += 1
                if protected:
                    m.caught_by_protected[v["safeguard"]] += 1
            return
        if v.get("pending") is not None and status not in FINAL_STATUSES:
            chains[v["pending"]] = (protected, violating, key)
        if settle(status, v["safeguard"], protected, violating) and key[0] == "report":
            open_reports.discard(key[1])

    for t, _process, type_, f, v in history:
        if type_ != OK:
            continue
        if f == "decide":
            m.decisions += 1
            report = reports[v["report"]]
            follow(t, v, report[0], report[1], report[3])
        elif f == "claim":
            report = reports[v["report"]]
            m.queue_waits.append((t - report[2]) / 60.0)
        elif f == "file_report":
            reports[v["report"]] = [v["protected"], v["violating"], t, ("report", v["report"])]
            open_reports.add(v["report"])
        elif f == "second_approve" or f == "timer":
            if f == "second_approve":
                m.decisions += 1
            chain = chains.pop(v["pending"], None) if v.get("pending") is not None else None
            if chain is not None:
                follow(t, v, *chain)
        elif f == "status":
            account, status = v["account"], v["status"]
            if status in DOWN_STATUSES:
                down_since.setdefault(account, t)
            elif account in down_since:
                since = down_since.pop(account)
                m.outages.append(Outage(account, since, (t - since) / 60.0, True))
        elif f == "direct_action":
            direct += 1
            follow(t, v, v["protected"], False, ("direct", direct))
        elif f == "shift_end":
            for account, since in down_since.items():
                m.outages.append(Outage(account, since, (t - since) / 60.0, False))
            down_since.clear()
    m.backlog = len(open_reports)
    return m

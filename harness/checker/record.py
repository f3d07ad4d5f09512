"""What the checker computes from one replication's history: counts and samples that
the metric catalogue (`harness.metrics`) pools over replications."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple


class Outage(NamedTuple):
    """One interval a protected account spent down, as the harness's probes saw it."""

    account: int
    start: float  # shift seconds when a probe first saw the account down
    minutes: float
    restored: bool  # False: still down when the shift ended (exposure runs to the end)


@dataclass
class ReplicationMetrics:
    """Counts and samples from one replication; each field comes from one checker."""

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

"""The checker: a replication's metrics, computed from its history alone.

It never reads the target's counters. The history is read once, in order (`reading`):
each request's chain of answers is followed and the operations are sorted into streams.
Then small checkers, each a function of that reading and each owning its own fields of
`ReplicationMetrics`, are composed (after Jepsen's composed checkers):

- `protection`: protected trials and slips, by fault window, and how indeterminate
  operations (live mode) were resolved;
- `outcomes`: what each safeguard caught, escalations, requeues, wrongful actions and
  missed violations;
- `exposure`: protected accounts' outages, from the harness's own status probes;
- `workload`: decisions, queue waits and the backlog.

The metric catalogue (`harness.metrics`) says which checker computes each metric and how
replications pool.
"""

from __future__ import annotations

from collections.abc import Callable

from ..history import History
from .exposure import exposure
from .outcomes import outcomes
from .protection import protection
from .reading import Reading, read
from .record import Outage, ReplicationMetrics
from .workload import workload

Checker = Callable[[Reading], dict]
"""A checker: a reading of a history to the `ReplicationMetrics` fields it owns."""

CHECKERS: tuple[Checker, ...] = (protection, outcomes, exposure, workload)


def check(history: History, operator_hours: float) -> ReplicationMetrics:
    """Every checker on the history, composed into one replication's metrics."""
    reading = read(history)
    fields: dict = {}
    for checker in CHECKERS:
        fields.update(checker(reading))
    return ReplicationMetrics(operator_hours=operator_hours, **fields)


__all__ = ["CHECKERS", "Checker", "Outage", "ReplicationMetrics", "check"]

"""What reporters file during a shift: one code path for every driver.

The simulator pops these arrivals from its event queue; live reporters sleep until each one
is due and file it over HTTP. Both draw from the same seeded streams in the same order, so
replication i of an experiment sees the same reports in either mode.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator, Sequence

from ..experiment.model import ReportFlood
from ..personas import Item
from ..world.environment import Environment


def report_stream(env: Environment, replication: int) -> Iterator[tuple[float, Item, str]]:
    """The shift's user reports, endlessly: Poisson arrival times (shift seconds), what
    each report is about, and "reporter". The caller stops at the end of the shift."""
    spec = env.experiment.population
    pop = env.population
    rng = random.Random(f"{env.replication_seed(replication)}:reports")
    rate = spec.reports_per_hour / 3600.0
    protected_ids, ordinary_ids = pop.protected_ids, pop.ordinary_ids
    n_protected, n_ordinary = len(protected_ids), len(ordinary_ids)
    share_protected = spec.protected_report_share if n_protected else 0.0
    violating_share, ambiguous_share = spec.violating_share, spec.ambiguous_share
    t = rng.expovariate(rate)
    while True:
        if rng.random() < share_protected:
            item = Item(
                protected_ids[int(rng.random() * n_protected)],
                True,
                False,
                rng.random() < ambiguous_share,
            )
        else:
            item = Item(
                ordinary_ids[int(rng.random() * n_ordinary)],
                False,
                rng.random() < violating_share,
                rng.random() < ambiguous_share,
            )
        yield t, item, "reporter"
        t += rng.expovariate(rate)


def shift_reports(env: Environment, replication: int) -> Iterator[tuple[float, Item, str]]:
    """Every report of the shift in time order, endlessly: (shift seconds, what it is
    about, who files it: "reporter" for users' reports, "flood" for a report flood's).

    Each `report_flood` fault files Poisson reports against its protected account while
    it is active; all floods draw their gaps from one stream, in time order."""
    faults = env.experiment.faults
    reports = report_stream(env, replication)
    floods = [i for i, fault in enumerate(faults) if isinstance(fault, ReportFlood)]
    if not floods:
        return reports
    return _with_floods(env, replication, reports, floods)


def _with_floods(
    env: Environment,
    replication: int,
    reports: Iterator[tuple[float, Item, str]],
    floods: list[int],
) -> Iterator[tuple[float, Item, str]]:
    faults, protected_ids = env.experiment.faults, env.population.protected_ids
    rng = random.Random(f"{env.replication_seed(replication)}:flood")
    queue: list[tuple[float, int, int, Item | None]] = []  # time, kind, fault, report
    t, item, _ = next(reports)
    heapq.heappush(queue, (t, _REPORT, -1, item))
    for index in floods:
        heapq.heappush(queue, (faults[index].at, _FLOOD_START, index, None))
    while True:
        t, kind, index, item = heapq.heappop(queue)
        if kind == _REPORT:
            yield t, item, "reporter"  # type: ignore[misc]
            at, following, _ = next(reports)
            heapq.heappush(queue, (at, _REPORT, -1, following))
            continue
        fault: ReportFlood = faults[index]  # type: ignore[assignment]
        if t >= min(env.shift, fault.at + fault.duration):
            continue
        flooded = _flood_item(fault, protected_ids)
        if kind == _FLOOD and flooded is not None:
            yield t, flooded, "flood"
        heapq.heappush(queue, (t + rng.expovariate(fault.rate / 3600.0), _FLOOD, index, None))


_REPORT, _FLOOD_START, _FLOOD = range(3)


def _flood_item(fault: ReportFlood, protected_ids: Sequence[int]) -> Item | None:
    """The report a flood files: against its protected account (by rank), if there is one."""
    if fault.target > len(protected_ids):
        return None
    return Item(protected_ids[fault.target - 1], True, False)

"""What reporters file during a shift: one code path for every driver.

The simulator pops these arrivals from its event queue; the live reporter sleeps until each
one is due and files it over HTTP. Both draw from the same seeded streams in the same
order, so replication i of an experiment sees the same reports in either mode.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from ..environment import Environment
from ..experiment import ReportFlood
from ..personas import Item


def report_stream(env: Environment, replication: int) -> Iterator[tuple[float, Item]]:
    """The shift's user reports, endlessly: Poisson arrival times (shift seconds) and what
    each report is about. The caller stops at the end of the shift."""
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
        yield t, item
        t += rng.expovariate(rate)


def flood_rng(env: Environment, replication: int) -> random.Random:
    """The stream every report flood of a replication draws its arrival gaps from."""
    return random.Random(f"{env.replication_seed(replication)}:flood")


def flood_gap(fault: ReportFlood, rng: random.Random) -> float:
    """Seconds until the flood's next report (Poisson at `fault.rate` an hour)."""
    return rng.expovariate(fault.rate / 3600.0)


def flood_item(fault: ReportFlood, protected_ids: Sequence[int]) -> Item | None:
    """The report a flood files: against its protected account (by rank), if there is one."""
    if fault.target > len(protected_ids):
        return None
    return Item(protected_ids[fault.target - 1], True, False)

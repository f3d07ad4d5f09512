"""Exposure: how long protected accounts stayed down, from the harness's own status probes
(never the target's counters)."""

from __future__ import annotations

from .reading import Reading
from .record import Outage


def exposure(reading: Reading) -> dict:
    """One outage per interval a probed account was seen down, in the order they ended; an
    account still down when the shift ended is down until then, unrestored."""
    outages: list[Outage] = []
    down_since: dict[int, float] = {}
    for t, account, down in reading.probes:
        if account is None:  # the shift ended
            for still, since in down_since.items():
                outages.append(Outage(still, since, (t - since) / 60.0, False))
            down_since.clear()
        elif down:
            down_since.setdefault(account, t)
        elif account in down_since:
            since = down_since.pop(account)
            outages.append(Outage(account, since, (t - since) / 60.0, True))
    return {"outages": outages}

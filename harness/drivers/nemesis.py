"""The fault schedule (the Jepsen nemesis), one for every driver: each of the experiment's
`[[faults]]` switched on at its time and off at its end, recorded in the history as a
`fault` operation so the checker knows each fault's window. How a fault is switched is the
driver's: the simulator switches the target's own faults in-process, live mode also the
served target's network and process faults (see `live.nemesis`)."""

from __future__ import annotations

from typing import Any

from ..experiment.model import Experiment


def schedule(experiment: Experiment) -> list[tuple[float, int, bool]]:
    """(shift second, fault index, switch on) in time order."""
    shift = experiment.experiment.shift
    events = []
    for index, fault in enumerate(experiment.faults):
        events.append((fault.at, index, True))
        events.append((min(shift, fault.at + fault.duration), index, False))
    return sorted(events, key=lambda e: (e[0], not e[2]))


def fault_value(index: int, fault: Any, active: bool) -> dict[str, Any]:
    """The history value of switching fault `index` on or off."""
    return {"index": index, "kind": fault.kind, "active": active}

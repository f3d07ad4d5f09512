"""Faults on schedule (the Jepsen nemesis): each of the experiment's `[[faults]]` switched on
at its time and off at its end, in simulated time, through the target's admin API, and
recorded in the history as `fault` operations so the checker knows each fault's window.

- Safeguard dependency outages and a stale HR feed: the target's own faults.
- `latency` and `server_errors`: the served target's chaos on its HTTP layer; `delay` is
  simulated time, so the target waits `delay` / time scale wall seconds per request.
- `report_flood`: load, filed by the reporter during the window; recorded here.
- `restart`: the served target's process is killed, and after the fault's duration started
  again on the same store and port; the fault ends when it answers again. Chaos settings
  are not kept across a restart, so those active are switched on again.
"""

from __future__ import annotations

import contextlib
from typing import Any

from targets.moderation import TARGET_FAULTS

from ...client import HttpTarget
from ...experiment import Experiment, LatencyFault, ServerErrorsFault
from .clock import ShiftClock
from .record import Recorder, Refused, Unknown
from .server import ServerProcess


def schedule(experiment: Experiment) -> list[tuple[float, int, bool]]:
    """(shift second, fault index, switch on) in time order."""
    shift = experiment.experiment.shift
    events = []
    for index, fault in enumerate(experiment.faults):
        events.append((fault.at, index, True))
        events.append((min(shift, fault.at + fault.duration), index, False))
    return sorted(events, key=lambda e: (e[0], not e[2]))


class Nemesis:
    def __init__(
        self,
        experiment: Experiment,
        target: HttpTarget,
        recorder: Recorder,
        clock: ShiftClock,
        server: ServerProcess | None,
    ) -> None:
        self.faults = experiment.faults
        self.events = schedule(experiment)
        self.target = target
        self.recorder = recorder
        self.clock = clock
        self.server = server
        self.chaos: dict[int, Any] = {}  # index -> active latency / server_errors fault

    def run(self) -> None:
        """Inject every fault on schedule; the last events are at the end of the shift."""
        for t, index, active in self.events:
            self.clock.sleep_until(t)
            self.switch(index, active)

    def switch(self, index: int, active: bool) -> None:
        fault = self.faults[index]
        value = {"index": index, "kind": fault.kind, "active": active}
        if fault.kind == "restart":
            self.recorder.record("nemesis", "invoke", "fault", dict(value))
            if active:
                self.server.kill()  # type: ignore[union-attr]
            else:
                self.server.start()  # type: ignore[union-attr]
                for chaos in self.chaos.values():
                    self.inject(chaos, True)
            self.recorder.record("nemesis", "ok", "fault", value)
            return
        if isinstance(fault, LatencyFault | ServerErrorsFault):
            self.chaos.pop(index, None)
            if active:
                self.chaos[index] = fault
        # refused or indeterminate: recorded as such, and the checker opens no window
        with contextlib.suppress(Refused, Unknown):
            self.recorder.attempt(
                "nemesis", "fault", value, lambda: self.inject(fault, active), lambda v, _: v
            )

    def inject(self, fault: Any, active: bool) -> None:
        if fault.kind in TARGET_FAULTS:
            self.target.fault(fault.kind, active)
        elif isinstance(fault, LatencyFault):
            self.target.fault("latency", active, seconds=fault.delay / self.clock.scale)
        elif isinstance(fault, ServerErrorsFault):
            self.target.fault("server_errors", active, share=fault.share)
        # a report flood is the reporter's load: nothing to switch on the target

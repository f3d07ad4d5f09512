"""Faults on schedule (the shared `drivers.nemesis` schedule) in live mode: each switched in
simulated time through the served target's admin API.

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

from ...experiment.model import Experiment, LatencyFault, ServerErrorsFault
from ..client import HttpTarget
from ..nemesis import fault_value, schedule
from .clock import ShiftClock
from .record import Recorder, Refused, Unknown
from .server import ServerProcess


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
        value = fault_value(index, fault, active)
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

"""The harness's own eyes on the target between requests.

- Every protected account's status each `live.probe_interval` (simulated): exposure in live
  mode comes from these probes, so a fall or a recovery nobody saw happen is timed to
  within one interval. Falls and recoveries the harness does see (an answer that applied
  an action, a restore in the audit log) are probed at once.
- Timers from the audit log each `live.audit_interval`: delayed actions fired or cancelled
  and restores answer no request, so the log is how the harness learns of them, as an
  operator watching the tool's activity feed would. The log is read for timers only;
  operator actions are known from their own answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from targets.moderation import RESTORE_MONITOR, AuditEntry, ModerationError

from ...experiment.model import LiveSpec
from ..client import HttpTarget, Indeterminate
from .clock import ShiftClock
from .record import Recorder, probe


class Observer:
    def __init__(
        self,
        target: HttpTarget,
        recorder: Recorder,
        clock: ShiftClock,
        protected_ids: Sequence[int],
        live: LiveSpec,
    ) -> None:
        self.target = target
        self.recorder = recorder
        self.clock = clock
        self.protected_ids = protected_ids
        self.protected = frozenset(protected_ids)
        self.live = live
        self.cursor = 0
        self.scheduled: set[int] = set()  # delayed actions waiting for their timer

    def run(self, end: float) -> None:
        """Probe and read the audit log on schedule until shift second `end`."""
        clock, live = self.clock, self.live
        next_probe = clock.now() + live.probe_interval
        next_audit = clock.now() + live.audit_interval
        while True:
            t = min(next_probe, next_audit)
            if t >= end:
                return
            clock.sleep_until(t)
            if t == next_audit:
                self.read_audit()
                next_audit += live.audit_interval
            if t == next_probe:
                self.probe_all()
                next_probe += live.probe_interval

    def probe_all(self, until: Callable[[], bool] = lambda: False) -> None:
        """Probe every protected account, or those before `until()` holds."""
        for account_id in self.protected_ids:
            if until():
                return
            probe(self.recorder, self.target, "probe", account_id)

    def read_audit(self) -> None:
        """Record the timers logged since the last read; probe protected accounts they
        touched."""
        while True:
            try:
                entries = self.target.audit(self.cursor)
            except (ModerationError, Indeterminate):
                return  # the target is down: read on at the next interval
            for entry in entries:
                self.cursor = entry.seq
                timer = self.timer(entry)
                if timer is None:
                    continue
                self.recorder.observed(entry.at, "target", "timer", timer)
                if entry.account_id in self.protected:
                    probe(self.recorder, self.target, "probe", entry.account_id)
            if len(entries) < 1000:
                return

    def timer(self, entry: AuditEntry) -> dict | None:
        """The timer an audit entry records, as the simulator records timers (plus the
        report, which the log gives)."""
        if entry.event == "scheduled":
            self.scheduled.add(entry.pending_id)  # type: ignore[arg-type]
            return None
        if entry.event == "restored" and entry.actor == RESTORE_MONITOR:
            outcome, pending, safeguard = "restored", None, None
        elif entry.event in ("applied", "cancelled") and entry.pending_id in self.scheduled:
            self.scheduled.discard(entry.pending_id)
            outcome, pending = entry.event, entry.pending_id
            safeguard = entry.detail if entry.event == "cancelled" else None
        else:
            return None
        return {
            "pending": pending,
            "account": entry.account_id,
            "outcome": outcome,
            "safeguard": safeguard,
            "report": entry.report_id,
        }

"""Anomaly detection: an operator whose approval rate jumps is locked out of destructive
actions for the rest of the shift."""

from __future__ import annotations

from collections import deque
from collections.abc import Set

from pydantic import Field

from ..config import Settings
from ..durations import Duration
from ..model import OperatorRecord
from .base import OperatorSafeguard, Safeguard


class AnomalyDetectionConfig(Settings):
    """An operator whose approval rate over `window` exceeds `threshold` is locked."""

    enabled: bool = False
    window: Duration = Field(3600.0, gt=0)
    min_decisions: int = Field(10, ge=1)
    threshold: float = Field(0.8, ge=0.0, le=1.0)


class AnomalyDetection(OperatorSafeguard):
    name = "anomaly_detection"
    title = "anomaly detection"
    settings = AnomalyDetectionConfig
    consulted = 20
    listed = 60
    config: AnomalyDetectionConfig

    def __init__(self, config: AnomalyDetectionConfig, faults: Set[str]) -> None:
        super().__init__(config, faults)
        self.locked: set[str] = set()
        self._decisions: dict[str, deque[tuple[float, bool]]] = {}

    def check(self, op: OperatorRecord, now: float) -> bool:
        return op.id in self.locked

    def state_key(self) -> tuple:
        windows = tuple(sorted((k, tuple(v)) for k, v in self._decisions.items() if v))
        return frozenset(self.locked), windows

    def copy_state_into(self, twin: Safeguard) -> None:
        assert isinstance(twin, AnomalyDetection)
        twin.locked = set(self.locked)
        twin._decisions = {k: deque(v) for k, v in self._decisions.items()}

    def note_decision(self, op_id: str, now: float, approved: bool) -> None:
        """Lock an operator whose share of approvals over the window exceeds the threshold."""
        if op_id in self.locked:
            return
        cfg = self.config
        window = self._decisions.setdefault(op_id, deque())
        window.append((now, approved))
        horizon = now - cfg.window
        while window[0][0] < horizon:
            window.popleft()
        if len(window) >= cfg.min_decisions:
            approvals = sum(1 for _, a in window if a)
            if approvals / len(window) > cfg.threshold:
                self.locked.add(op_id)


SAFEGUARD = AnomalyDetection

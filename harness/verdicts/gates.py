"""Gates: thresholds on metrics. A run that crosses one fails (exit code 1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ..experiment.model import Gate
from ..metrics import interval, lookup, shown


@dataclass(frozen=True)
class GateResult:
    metric: str
    kind: str  # max | min | max_upper_ci
    bound: float
    observed: float | None  # for max_upper_ci: the upper end of the 95% interval
    passed: bool

    def describe(self) -> str:
        sign = ">=" if self.kind == "min" else "<="
        what = f"upper 95% bound of {self.metric}" if self.kind == "max_upper_ci" else self.metric
        seen = "no value" if self.observed is None else shown(self.metric, self.observed)
        return f"{what} {sign} {shown(self.metric, self.bound, bound=True)} (observed {seen})"

    def as_dict(self) -> dict:
        return asdict(self)


def evaluate_gate(gate: Gate, metrics: dict) -> GateResult:
    """A metric with no value (no exposure when nothing slipped) meets a ceiling and misses a
    floor."""
    if gate.kind == "max_upper_ci":
        ci = interval(metrics, gate.metric)
        observed = None if ci is None else ci[1]
    else:
        value = lookup(metrics, gate.metric)
        observed = float(value) if isinstance(value, int | float) else None
    if observed is None:
        passed = gate.kind != "min"
    elif gate.kind == "min":
        passed = observed >= gate.bound
    else:
        passed = observed <= gate.bound
    return GateResult(gate.metric, gate.kind, gate.bound, observed, passed)


def evaluate(gates: Sequence[Gate], metrics: dict) -> list[GateResult]:
    return [evaluate_gate(g, metrics) for g in gates]

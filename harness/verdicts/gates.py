"""Gates: thresholds on metrics. A run that crosses one fails (exit code 1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ..experiment.model import BAND_GATE, Gate
from ..metrics import interval, lookup, shown


@dataclass(frozen=True)
class GateResult:
    metric: str
    kind: str  # max | min | max_upper_ci | max_band_p95
    bound: float
    observed: float | None  # max_upper_ci: the 95% interval's upper end; max_band_p95: the
    passed: bool  # 95th percentile over parameter sets

    def describe(self) -> str:
        sign = ">=" if self.kind == "min" else "<="
        what = {
            "max_upper_ci": f"upper 95% bound of {self.metric}",
            BAND_GATE: f"95th percentile over parameter sets of {self.metric}",
        }.get(self.kind, self.metric)
        seen = "no value" if self.observed is None else shown(self.metric, self.observed)
        return f"{what} {sign} {shown(self.metric, self.bound, bound=True)} (observed {seen})"

    def as_dict(self) -> dict:
        return asdict(self)


def evaluate_gate(gate: Gate, metrics: dict, bands: dict | None = None) -> GateResult:
    """A metric with no value (no exposure when nothing slipped) meets a ceiling and misses a
    floor. A band gate reads `bands` (summary.json's uncertainty metrics); without them (the
    run at the median parameters, before the parameter sets ran) it is not yet met."""
    if gate.kind == BAND_GATE:
        band = (bands or {}).get(gate.metric)
        observed = None if band is None else band["band"]["p95"]
        return GateResult(
            gate.metric,
            gate.kind,
            gate.bound,
            observed,
            observed is not None and observed <= gate.bound,
        )
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


def evaluate(gates: Sequence[Gate], metrics: dict, bands: dict | None = None) -> list[GateResult]:
    return [evaluate_gate(g, metrics, bands) for g in gates]

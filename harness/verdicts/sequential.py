"""Sequential gate decisions: stop a check as soon as every gate's outcome is settled.

A check plans `looks` = ceil(replications / batch) looks, one after each batch. Looking
repeatedly at growing data and stopping at the first convincing look inflates the error
rate of a fixed-sample interval, so each look uses its interval at confidence
1 - (1 - confidence) / looks instead (a Bonferroni split of the error over the planned
looks): the intervals of all looks hold together with probability at least `confidence`,
so a gate settled at any look is on the right side of its bound with at least that
probability.

A gate is settled when that interval lies wholly on one side of its bound. Gates on
metrics without an interval (counts, means, quantiles) cannot be settled that way; they
are decided on all planned replications, like a gate not settled before the last look,
by exactly the rule `harness run` applies (`gates.evaluate_gate`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from ..experiment.model import CheckSpec, Gate
from ..metrics import counts, shown
from ..statistics.intervals import proportion
from .gates import GateResult, evaluate_gate


@dataclass(frozen=True)
class Plan:
    """The looks of a check: after every `batch` replications, up to `replications`."""

    replications: int
    batch: int
    confidence: float

    @classmethod
    def of(cls, replications: int, spec: CheckSpec) -> Plan:
        return cls(replications, min(spec.batch, replications), spec.confidence)

    @property
    def looks(self) -> int:
        return math.ceil(self.replications / self.batch)

    @property
    def look_confidence(self) -> float:
        """Each look's interval confidence: the error 1 - confidence split over the looks."""
        return 1.0 - (1.0 - self.confidence) / self.looks

    def batches(self) -> list[range]:
        """Replication indices of each batch, in order; together 0 .. replications - 1."""
        return [
            range(start, min(start + self.batch, self.replications))
            for start in range(0, self.replications, self.batch)
        ]

    def as_dict(self) -> dict:
        return {**asdict(self), "looks": self.looks, "look_confidence": self.look_confidence}


@dataclass(frozen=True)
class GateVerdict:
    """A gate's outcome and when it was decided."""

    result: GateResult
    replications: int  # the replications the decision rests on
    interval: tuple[float, float] | None = None  # the look's interval, when settled early
    note: str | None = None  # how a weighted estimate decided it (importance sampling)

    @property
    def passed(self) -> bool:
        return self.result.passed

    @property
    def early(self) -> bool:
        """Settled by a look's sequential interval rather than on all planned replications."""
        return self.interval is not None

    def describe(self) -> str:
        if self.note is not None:
            return (
                f"{self.result.describe()}; {self.note} ({self.replications:,} weighted "
                "replications)"
            )
        if self.interval is None:
            return f"{self.result.describe()}; decided on {self.replications:,} replications"
        low, high = self.interval
        return (
            f"{self.result.describe()}; settled after {self.replications:,} replications "
            f"(sequential interval [{shown(self.result.metric, low)}, "
            f"{shown(self.result.metric, high)}])"
        )

    def as_dict(self) -> dict:
        return {
            **self.result.as_dict(),
            "replications": self.replications,
            "early": self.early,
            "interval": list(self.interval) if self.interval is not None else None,
            **({"note": self.note} if self.note is not None else {}),
        }


def look_interval(gate: Gate, metrics: dict, confidence: float) -> tuple[float, float] | None:
    """The gate metric's interval at `confidence`, when the metric has one."""
    observed = counts(metrics, gate.metric)
    if observed is None:
        return None
    events, trials, clustering = observed
    low, high = proportion(events, trials, confidence, design_effect=clustering)["ci95"]
    return (low, high)


def settle(gate: Gate, metrics: dict, plan: Plan, replications: int) -> GateVerdict | None:
    """The gate's verdict if this look settles it, else None (it stays open)."""
    ci = look_interval(gate, metrics, plan.look_confidence)
    if ci is None:
        return None
    low, high = ci
    bound = gate.bound
    if gate.kind == "min":
        outcome = True if low >= bound else False if high < bound else None
    else:  # max, max_upper_ci: the bound is a ceiling
        outcome = True if high <= bound else False if low > bound else None
    result = evaluate_gate(gate, metrics)
    if outcome is None or result.passed != outcome:
        # open, or (a confidence under 95% with a max_upper_ci gate) the look's interval is
        # narrower than the one the gate is defined on: wait for a look where both agree
        return None
    return GateVerdict(result, replications, ci)


def decide_at_end(gate: Gate, metrics: dict, replications: int) -> GateVerdict:
    """A gate still open after the last look: the fixed-sample rule on everything run."""
    return GateVerdict(evaluate_gate(gate, metrics), replications)

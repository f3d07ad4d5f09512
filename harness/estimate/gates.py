"""Gates on an importance-sampling run: decided on the weighted estimates and intervals.

A gate names a rate the same way under either estimator (`protected_slip_through.rate`);
an importance run reads it from summary.json's `estimate` (`metrics.WEIGHTED_RATES`), and
a `max_upper_ci` gate reads the weighted 95% interval's upper end. So a gate on a rate of
1e-5, which crude Monte Carlo could only settle after about a million protected trials,
settles once the weighted interval is that tight. A gate on anything else (counts, outage
lengths) has no weighted estimate and is refused before anything runs. An estimate marked
unreliable (its weights degenerate) fails every gate on it: its interval cannot be
trusted, whichever side of the bound it lies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..errors import BadInput
from ..experiment.model import Experiment, Gate
from ..metrics import WEIGHTED_RATES, interval, rate_metrics
from ..verdicts.gates import evaluate_gate
from ..verdicts.sequential import GateVerdict


def refuse_unweighted(experiment: Experiment) -> None:
    """One line naming the first gate an importance run cannot decide, if any."""
    for gate in experiment.gates:
        if gate.metric not in WEIGHTED_RATES:
            raise BadInput(
                f"gates: {gate.label}: importance sampling estimates only "
                f"{', '.join(WEIGHTED_RATES)}; gate {gate.metric} in a crude run "
                "(estimate.method = 'crude')"
            )


def weighted_verdicts(gates: Sequence[Gate], summary: dict) -> dict[int, GateVerdict]:
    """Each gate's verdict from an importance run's summary, by gate index."""
    view = rate_metrics(summary)
    used = summary["estimate"]["replications"]["in_estimate"]
    return {i: _verdict(gate, view, used) for i, gate in enumerate(gates)}


def _verdict(gate: Gate, view: dict, replications: int) -> GateVerdict:
    result = evaluate_gate(gate, view)
    entry = view[gate.metric.rsplit(".", 1)[0]]
    ci = interval(view, gate.metric)
    if not entry["reliable"]:
        result = replace(result, passed=False)
        return GateVerdict(result, replications, note="unreliable estimate: not settled")
    assert ci is not None  # a reliable estimate has an interval
    low, high = ci
    settled = not low <= gate.bound <= high
    error = entry["relative_error"]
    note = (
        f"weighted 95% interval [{low:.3g}, {high:.3g}], +-{100 * error:.0f}%, effective "
        f"sample size {entry['effective_sample_size']:,.0f}; "
        + ("settled" if settled else "not settled: the interval straddles the bound")
    )
    return GateVerdict(result, replications, note=note)

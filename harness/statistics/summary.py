"""Pool replications' metrics into `summary.json`: the metrics, the fault windows, the gates."""

from __future__ import annotations

from collections.abc import Sequence

from ..checker import ReplicationMetrics
from ..experiment.model import Experiment
from ..metrics import METRICS, slip_through
from ..verdicts.gates import evaluate


def summarize(results: Sequence[ReplicationMetrics]) -> dict:
    """The metrics of DESIGN.md over all replications, each rate with its 95% interval:
    every metric of the catalogue pooled its own way, in catalogue order."""
    return {metric.name: metric.pool(results) for metric in METRICS}


def window_rates(recorded: dict) -> list[tuple[dict | None, dict]]:
    """Slip-through inside each fault's window, as (fault, rate), then while no fault was
    active, as (None, rate), from a summary or comparison entry that records them; empty
    when it does not."""
    windows: list[tuple[dict | None, dict]] = [
        (f, slip)
        for f in recorded.get("faults", [])
        if (slip := f.get("protected_slip_through")) is not None
    ]
    if windows and recorded.get("outside_faults"):
        windows.append((None, recorded["outside_faults"]["protected_slip_through"]))
    return windows


def fault_windows(experiment: Experiment, results: Sequence[ReplicationMetrics]) -> tuple:
    """Each fault's schedule with the slip-through of the protected trials decided while it
    was active, and the slip-through while no fault was."""
    shift = experiment.experiment.shift
    faults = [
        {
            "kind": f.kind,
            "start": f.at,
            "end": min(f.at + f.duration, shift),
            "protected_slip_through": slip_through(
                [(r.window_slips[i], r.window_trials[i]) for r in results]
            ),
        }
        for i, f in enumerate(experiment.faults)
    ]
    outside = slip_through([(r.outside_slips, r.outside_trials) for r in results])
    return faults, {"protected_slip_through": outside}


def build_summary(
    experiment: Experiment,
    results: Sequence[ReplicationMetrics],
    *,
    mode: str,
    status: str,
    requested: int,
) -> dict:
    """`summary.json`: what was run, how far it got, the metrics and the gates.

    Gates are evaluated only on a completed run: a partial result cannot pass a gate.
    """
    metrics = summarize(results)
    faults, outside = fault_windows(experiment, results)
    gates = (
        [g.as_dict() for g in evaluate(experiment.gates, metrics)] if status == "completed" else []
    )
    return {
        "experiment": experiment.experiment.name,
        "mode": mode,
        "status": status,
        "seed": experiment.experiment.seed,
        "replications": {"requested": requested, "completed": len(results)},
        "metrics": metrics,
        "gates": gates,
        "faults": faults,
        "outside_faults": outside,
    }

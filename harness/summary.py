"""Pool replications' metrics into `summary.json`'s `metrics`, and per-replication rows."""

from __future__ import annotations

from collections.abc import Sequence

from targets.moderation import SAFEGUARD_NAMES

from .checker import ReplicationMetrics
from .experiment import Experiment
from .gates import evaluate
from .stats import describe, design_effect, proportion


def summarize(results: Sequence[ReplicationMetrics]) -> dict:
    """The metrics of DESIGN.md over all replications, each rate with its 95% interval.

    Slip-through pools trials across replications; the shift incident probability counts
    shifts (replications) with at least one slip.
    """
    incidents = sum(1 for r in results if r.slips)
    decisions = sum(r.decisions for r in results)
    operator_hours = sum(r.operator_hours for r in results)
    exposure = describe([x for r in results for x in r.exposures])
    exposure["unrestored"] = sum(r.unrestored for r in results)
    waits = describe([x for r in results for x in r.queue_waits])
    return {
        "replications": len(results),
        "decisions": decisions,
        "protected_slip_through": slip_through([(r.slips, r.trials) for r in results]),
        "shift_incident_probability": {
            "incidents": incidents,
            "shifts": len(results),
            **proportion(incidents, len(results)),
        },
        "exposure_minutes": exposure,
        "caught_by": {name: sum(r.caught_by[name] for r in results) for name in SAFEGUARD_NAMES},
        "caught_by_protected": {
            name: sum(r.caught_by_protected[name] for r in results) for name in SAFEGUARD_NAMES
        },
        "escalations": sum(r.escalations for r in results),
        "requeued": sum(r.requeued for r in results),
        "wrongful_actions": sum(r.wrongful_actions for r in results),
        "missed_violations": sum(r.missed_violations for r in results),
        "queue_wait_minutes": {k: waits[k] for k in ("p50", "p95", "mean", "max")},
        "decisions_per_operator_hour": decisions / operator_hours if operator_hours else None,
        "backlog_per_shift": (sum(r.backlog for r in results) / len(results)) if results else None,
        "indeterminate": {
            name: sum(r.indeterminate[name] for r in results) for name in INDETERMINATE
        },
    }


INDETERMINATE = ("operations", "retried", "continued", "probe_slips", "unresolved")
"""How indeterminate operations (live mode) were resolved; see `checker`."""


def slip_through(pairs: Sequence[tuple[int, int]]) -> dict:
    """Pooled slips over trials with its interval, from (slips, trials) per replication."""
    slips = sum(s for s, _ in pairs)
    trials = sum(n for _, n in pairs)
    return {
        "slips": slips,
        "trials": trials,
        **proportion(slips, trials, design_effect=design_effect(pairs)),
    }


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


REPLICATION_COLUMNS = (
    "replication",
    "decisions",
    "trials",
    "slips",
    "exposure_minutes_total",
    "exposure_minutes_max",
    "unrestored",
    "escalations",
    "requeued",
    "wrongful_actions",
    "missed_violations",
    "queue_wait_minutes_mean",
    "backlog",
    *(f"caught_by_{name}" for name in SAFEGUARD_NAMES),
)


OUTAGE_COLUMNS = ("replication", "account", "start_minutes", "minutes", "restored")


def outage_rows(index: int, r: ReplicationMetrics) -> list[list]:
    """One row per outage of a protected account: when it went down and for how long."""
    return [
        [index, o.account, round(o.start / 60.0, 6), round(o.minutes, 6), int(o.restored)]
        for o in sorted(r.outages, key=lambda o: (o.start, o.account))
    ]


def replication_row(index: int, r: ReplicationMetrics) -> list:
    waits, exposures = r.queue_waits, r.exposures
    return [
        index,
        r.decisions,
        r.trials,
        r.slips,
        round(sum(exposures), 6),
        round(max(exposures), 6) if exposures else 0,
        r.unrestored,
        r.escalations,
        r.requeued,
        r.wrongful_actions,
        r.missed_violations,
        round(sum(waits) / len(waits), 6) if waits else "",
        r.backlog,
        *(r.caught_by[name] for name in SAFEGUARD_NAMES),
    ]


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

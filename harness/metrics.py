"""The metric catalogue: every path a gate or a comparison can name in `summary.json`."""

from __future__ import annotations

from targets.moderation import SAFEGUARD_NAMES

RATES = ("protected_slip_through", "shift_incident_probability")
INTERVAL_METRICS: tuple[str, ...] = tuple(f"{r}.rate" for r in RATES)
"""Rates reported with a 95% interval; `max_upper_ci` gates apply to these."""

RATE_COUNTS: dict[str, tuple[str, str]] = {
    "protected_slip_through.rate": (
        "protected_slip_through.slips",
        "protected_slip_through.trials",
    ),
    "shift_incident_probability.rate": (
        "shift_incident_probability.incidents",
        "shift_incident_probability.shifts",
    ),
}
"""Each interval rate's events and trials, from which an interval at any confidence follows."""

METRIC_PATHS: tuple[str, ...] = (
    "decisions",
    "replications",
    "protected_slip_through.rate",
    "protected_slip_through.slips",
    "protected_slip_through.trials",
    "shift_incident_probability.rate",
    "shift_incident_probability.incidents",
    "exposure_minutes.mean",
    "exposure_minutes.p50",
    "exposure_minutes.p95",
    "exposure_minutes.max",
    "exposure_minutes.count",
    "exposure_minutes.unrestored",
    "escalations",
    "requeued",
    "wrongful_actions",
    "missed_violations",
    "queue_wait_minutes.p50",
    "queue_wait_minutes.p95",
    "decisions_per_operator_hour",
    "backlog_per_shift",
    *(f"caught_by.{name}" for name in SAFEGUARD_NAMES),
    *(f"caught_by_protected.{name}" for name in SAFEGUARD_NAMES),
)


def lookup(metrics: dict, path: str) -> object:
    """The value at dotted `path` of a summary's metrics (None when it has no value)."""
    node: object = metrics
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def counts(metrics: dict, path: str) -> tuple[int, int, float] | None:
    """(events, trials, design effect) behind an interval rate, None for other metrics."""
    if path not in RATE_COUNTS:
        return None
    events, trials = (lookup(metrics, p) for p in RATE_COUNTS[path])
    if not (isinstance(events, int) and isinstance(trials, int)):
        return None
    clustering = lookup(metrics, path.rsplit(".", 1)[0] + ".design_effect")
    return events, trials, float(clustering) if isinstance(clustering, int | float) else 1.0


def interval(metrics: dict, path: str) -> tuple[float, float] | None:
    """The 95% interval that goes with a rate path, if it has one."""
    if path not in INTERVAL_METRICS:
        return None
    ci = lookup(metrics, path.rsplit(".", 1)[0] + ".ci95")
    return (ci[0], ci[1]) if isinstance(ci, list | tuple) else None

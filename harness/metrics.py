"""The metric catalogue: each metric of `summary.json` declared once (after Mesa's
`DataCollector`): its name, the checker that computes it from a history, how replications
pool into it, the paths a gate or a comparison can name, its columns of replications.csv
and how a comparison of configurations reads it (a per-shift mean, a cost).

Everything else derives from this list: the summary's metrics (`summary.summarize`),
replications.csv (`REPLICATION_COLUMNS`, `replication_row`), the gate paths the experiment
schema accepts (`METRIC_PATHS`, `INTERVAL_METRICS`) and the comparison's per-shift
quantities and costs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from targets.moderation import SAFEGUARD_NAMES

from .checker import Checker, ReplicationMetrics
from .checker.exposure import exposure
from .checker.outcomes import outcomes
from .checker.protection import protection
from .checker.workload import workload
from .statistics.intervals import describe, design_effect, percent, proportion

Results = Sequence[ReplicationMetrics]


@dataclass(frozen=True)
class Column:
    """One column of replications.csv: a replication's value."""

    name: str
    value: Callable[[ReplicationMetrics], object]


@dataclass(frozen=True)
class Cost:
    """What a configuration costs the operation, compared with the baseline as a ratio.
    `key` names it in a comparison; its value is the metric's per-shift mean, or the
    summary value at `path`. `tradeoff`: the title of a protection-versus-cost chart
    drawn against it (None: not drawn)."""

    key: str
    title: str
    path: str | None = None
    tradeoff: str | None = None


@dataclass(frozen=True)
class Metric:
    """One metric: `name` in summary.json's metrics, computed by `computed_by` (None: a
    fact of the run, not of a history), pooled by `pool`. `paths` are what gates name
    (relative to `name`; "" is the value itself); `rate` names the events and trials of
    an interval rate; `per_shift` is the column whose mean over replications a comparison
    reports with its interval; `by_safeguard`: one value (and column) per safeguard;
    `weighted`: the key of summary.json's `estimate` holding the rate's weighted estimate
    when importance sampling ran (gates on the rate then read it)."""

    name: str
    computed_by: Checker | None
    pool: Callable[[Results], object]
    paths: tuple[str, ...] = ("",)
    columns: tuple[Column, ...] = ()
    rate: tuple[str, str] | None = None
    per_shift: str | None = None
    cost: Cost | None = None
    by_safeguard: bool = False
    weighted: str | None = None

    def full_paths(self) -> tuple[str, ...]:
        return tuple(f"{self.name}.{p}" if p else self.name for p in self.paths)


def slip_through(pairs: Sequence[tuple[int, int]]) -> dict:
    """Pooled slips over trials with its interval, from (slips, trials) per replication."""
    slips = sum(s for s, _ in pairs)
    trials = sum(n for _, n in pairs)
    return {
        "slips": slips,
        "trials": trials,
        **proportion(slips, trials, design_effect=design_effect(pairs)),
    }


def _total(field: str) -> Callable[[Results], int]:
    return lambda results: sum(getattr(r, field) for r in results)


def _count(field: str, column: str | None = None) -> Column:
    return Column(column or field, lambda r: getattr(r, field))


def _incidents(results: Results) -> dict:
    """Shifts (replications) with at least one slip."""
    incidents = sum(1 for r in results if r.slips)
    return {"incidents": incidents, "shifts": len(results), **proportion(incidents, len(results))}


def _exposure(results: Results) -> dict:
    exposure = describe([x for r in results for x in r.exposures])
    exposure["unrestored"] = sum(r.unrestored for r in results)
    return exposure


def _queue_wait(results: Results) -> dict:
    waits = describe([x for r in results for x in r.queue_waits])
    return {k: waits[k] for k in ("p50", "p95", "mean", "max")}


def _per_hour(results: Results) -> float | None:
    hours = sum(r.operator_hours for r in results)
    return sum(r.decisions for r in results) / hours if hours else None


def _per_shift(field: str) -> Callable[[Results], float | None]:
    return lambda results: (
        sum(getattr(r, field) for r in results) / len(results) if results else None
    )


def _by_safeguard(field: str) -> Callable[[Results], dict]:
    return lambda results: {n: sum(getattr(r, field)[n] for r in results) for n in SAFEGUARD_NAMES}


def _exposure_total(r: ReplicationMetrics) -> float:
    return round(sum(r.exposures), 6)


def _exposure_max(r: ReplicationMetrics) -> float:
    return round(max(r.exposures), 6) if r.outages else 0


def _wait_mean(r: ReplicationMetrics) -> float | str:
    waits = r.queue_waits
    return round(sum(waits) / len(waits), 6) if waits else ""


INDETERMINATE = ("operations", "retried", "continued", "probe_slips", "unresolved")
"""How indeterminate operations (live mode) were resolved; see `checker.protection`."""


def _counted(field: str, cost: Cost | None = None) -> Metric:
    """A count per replication: summed over replications, compared per shift."""
    return Metric(
        field, outcomes, _total(field), columns=(_count(field),), per_shift=field, cost=cost
    )


METRICS: tuple[Metric, ...] = (
    Metric("replications", None, len),
    Metric(
        "decisions",
        workload,
        _total("decisions"),
        columns=(_count("decisions"),),
        per_shift="decisions",
    ),
    Metric(
        "protected_slip_through",
        protection,
        lambda results: slip_through([(r.slips, r.trials) for r in results]),
        paths=("rate", "slips", "trials"),
        columns=(_count("trials"), _count("slips")),
        rate=("slips", "trials"),
        weighted="protected_slip_through",
    ),
    Metric(
        "shift_incident_probability",
        protection,
        _incidents,
        paths=("rate", "incidents"),
        rate=("incidents", "shifts"),
        weighted="shift_incident_probability",
    ),
    Metric(
        "exposure_minutes",
        exposure,
        _exposure,
        paths=("mean", "p50", "p95", "max", "count", "unrestored"),
        columns=(
            Column("exposure_minutes_total", _exposure_total),
            Column("exposure_minutes_max", _exposure_max),
            Column("unrestored", lambda r: r.unrestored),
        ),
        per_shift="exposure_minutes_total",
    ),
    Metric(
        "caught_by",
        outcomes,
        _by_safeguard("caught_by"),
        paths=SAFEGUARD_NAMES,
        columns=tuple(
            Column(f"caught_by_{n}", lambda r, n=n: r.caught_by[n]) for n in SAFEGUARD_NAMES
        ),
        by_safeguard=True,
    ),
    Metric(
        "caught_by_protected",
        outcomes,
        _by_safeguard("caught_by_protected"),
        paths=SAFEGUARD_NAMES,
        by_safeguard=True,
    ),
    _counted("escalations", Cost("escalations", "escalations per shift")),
    _counted("requeued", Cost("requeued", "requeued per shift")),
    _counted("wrongful_actions", Cost("wrongful_actions", "wrongful actions per shift")),
    _counted("missed_violations", Cost("missed_violations", "missed violations per shift")),
    Metric(
        "queue_wait_minutes",
        workload,
        _queue_wait,
        paths=("p50", "p95"),
        columns=(Column("queue_wait_minutes_mean", _wait_mean),),
        cost=Cost(
            "queue_wait_p95_minutes",
            "queue wait p95 (minutes)",
            path="queue_wait_minutes.p95",
            tradeoff="queue wait p95 (minutes)",
        ),
    ),
    Metric(
        "decisions_per_operator_hour",
        workload,
        _per_hour,
        cost=Cost(
            "decisions_per_operator_hour",
            "decisions per operator hour",
            path="decisions_per_operator_hour",
            tradeoff="reviewer workload: decisions per operator hour",
        ),
    ),
    Metric("backlog_per_shift", workload, _per_shift("backlog"), columns=(_count("backlog"),)),
    Metric(
        "indeterminate",
        protection,
        lambda results: {n: sum(r.indeterminate[n] for r in results) for n in INDETERMINATE},
        paths=(),
    ),
)


INTERVAL_METRICS: tuple[str, ...] = tuple(f"{m.name}.rate" for m in METRICS if m.rate)
"""Rates reported with a 95% interval; `max_upper_ci` gates apply to these."""

RATE_COUNTS: dict[str, tuple[str, str]] = {
    f"{m.name}.rate": (f"{m.name}.{m.rate[0]}", f"{m.name}.{m.rate[1]}") for m in METRICS if m.rate
}
"""Each interval rate's events and trials, from which an interval at any confidence follows."""

WEIGHTED_RATES: dict[str, str] = {f"{m.name}.rate": m.weighted for m in METRICS if m.weighted}
"""Rate paths an importance-sampling run estimates -> their key in summary.json's
`estimate`."""

METRIC_PATHS: tuple[str, ...] = tuple(p for m in METRICS for p in m.full_paths())
"""Every path a gate or a comparison can name in summary.json's metrics."""

_COLUMNS = (
    *(c for m in METRICS if not m.by_safeguard for c in m.columns),
    *(c for m in METRICS if m.by_safeguard for c in m.columns),
)
REPLICATION_COLUMNS: tuple[str, ...] = ("replication", *(c.name for c in _COLUMNS))
"""replications.csv: the replication, then each metric's columns; one column per safeguard
comes last, so the other columns keep their places whatever safeguards exist."""

PER_SHIFT: dict[str, str] = {m.name: m.per_shift for m in METRICS if m.per_shift}
"""Per-shift quantities (mean over replications, with an interval): name -> column."""

COSTS: tuple[Cost, ...] = tuple(m.cost for m in METRICS if m.cost)
"""What a configuration costs the operation, each compared with the baseline as a ratio."""


def replication_row(index: int, r: ReplicationMetrics) -> list:
    """A replication's row of replications.csv."""
    return [index, *(c.value(r) for c in _COLUMNS)]


def rate_metrics(summary: dict) -> dict:
    """What gates and tests read from a summary: its metrics, or for an importance-sampling
    run its weighted rates in the same shape (`rate` and `ci95` under each metric's name,
    with the estimate's other fields beside them)."""
    if summary.get("estimator") != "importance":
        return summary["metrics"]
    estimate = summary["estimate"]
    view: dict = {}
    for path, key in WEIGHTED_RATES.items():
        entry = estimate[key]
        view[path.rsplit(".", 1)[0]] = {
            **{k: v for k, v in entry.items() if k != "estimate"},
            "rate": entry["estimate"],
        }
    return view


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


def shown(path: str, value: float, bound: bool = False) -> str:
    """A metric's value as the summary table shows it: rates as percentages, the rest with
    four significant digits, so a gate line and the table agree. A `bound` is shown as the
    experiment file gives it (0.0015 as 0.15%)."""
    if path not in INTERVAL_METRICS:
        return f"{value:.4g}"
    return f"{100 * value:g}%" if bound else percent(value)

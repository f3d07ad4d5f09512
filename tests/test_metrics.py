"""The metric catalogue: each metric is declared once, and what derives from it agrees with
what the checkers compute and the summary holds."""

from __future__ import annotations

from dataclasses import fields

from conftest import small

from harness.checker import CHECKERS, ReplicationMetrics, check
from harness.checker.reading import read
from harness.drivers.sim import simulate
from harness.metrics import METRIC_PATHS, METRICS, REPLICATION_COLUMNS, lookup, replication_row
from harness.statistics.summary import summarize
from harness.world.environment import Environment


def _history():
    experiment = small(population__protected_report_share=0.2)
    env = Environment.build(experiment)
    return simulate(env, 0), env.operator_hours


def test_every_checker_computes_a_metric_and_every_metric_names_a_composed_checker():
    used = {m.computed_by for m in METRICS if m.computed_by is not None}
    assert used == set(CHECKERS)


def test_each_replication_field_is_owned_by_exactly_one_checker():
    history, _ = _history()
    reading = read(history)
    owned = [name for checker in CHECKERS for name in checker(reading)]
    assert len(owned) == len(set(owned)), owned
    assert set(owned) == {f.name for f in fields(ReplicationMetrics)} - {"operator_hours"}


def test_the_summary_holds_every_declared_metric_and_gate_path():
    history, hours = _history()
    metrics = summarize([check(history, hours)])
    assert list(metrics) == [m.name for m in METRICS]
    missing = [p for p in METRIC_PATHS if p.rsplit(".", 1)[-1] not in _parent(metrics, p)]
    assert not missing, missing
    assert lookup(metrics, "protected_slip_through.trials") > 0


def test_a_replication_row_has_one_value_per_column():
    history, hours = _history()
    row = replication_row(3, check(history, hours))
    assert len(row) == len(REPLICATION_COLUMNS) and row[0] == 3


def _parent(metrics: dict, path: str) -> dict:
    parent = lookup(metrics, path.rsplit(".", 1)[0]) if "." in path else metrics
    assert isinstance(parent, dict), path
    return parent

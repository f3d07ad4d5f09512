"""`harness check`: sequential looks, early stopping that agrees with the full run, a normal
run folder, exit codes and what an interruption leaves."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import small, small_raw

import harness.pipeline.check
from harness.backends.replications import run_replications
from harness.cli import main
from harness.experiment.model import CheckSpec, Gate
from harness.pipeline.check import run_check
from harness.pipeline.run import run_sim
from harness.run_folder import RunFolder
from harness.statistics.intervals import proportion
from harness.verdicts.sequential import Plan, settle
from harness.world.environment import Environment

CLEAR_GATES = [
    {"metric": "protected_slip_through.rate", "max_upper_ci": 0.03},  # about 1%: a clear pass
    {"metric": "protected_slip_through.rate", "max_upper_ci": 0.002},  # a clear fail
]


def test_the_plan_splits_the_error_over_its_looks():
    plan = Plan.of(1000, CheckSpec(confidence=0.95, batch=100))
    assert plan.looks == 10
    assert plan.look_confidence == pytest.approx(0.995)
    batches = Plan.of(250, CheckSpec(batch=100)).batches()
    assert batches == [range(0, 100), range(100, 200), range(200, 250)]
    single = Plan.of(50, CheckSpec(confidence=0.9, batch=100))
    assert (single.looks, single.look_confidence, single.batches()) == (1, 0.9, [range(50)])


def test_a_gate_settles_only_when_the_looks_interval_is_on_one_side_of_the_bound():
    plan = Plan.of(1000, CheckSpec(batch=100))  # each look at 99.5%
    ceiling = Gate(metric="protected_slip_through.rate", max_upper_ci=0.001)
    # no slip in 10,000 trials: the two-sided 99.5% interval's upper end is
    # 1 - 0.0025^(1/10000) = 0.00060
    verdict = settle(ceiling, _metrics(0, 10_000), plan, 100)
    assert verdict.passed and verdict.early
    assert verdict.interval[1] == pytest.approx(1 - 0.0025 ** (1 / 10_000))
    tight = Gate(metric="protected_slip_through.rate", max_upper_ci=0.0004)
    assert settle(tight, _metrics(0, 10_000), plan, 100) is None  # 0 <= 0.0004 < 0.00060
    # 50 of 1,000: the 99.5% interval is about [3.4%, 7.1%]
    assert settle(ceiling, _metrics(50, 1000), plan, 100).passed is False
    floor = Gate(metric="protected_slip_through.rate", min=0.03)
    assert settle(floor, _metrics(50, 1000), plan, 100).passed is True
    high_floor = Gate(metric="protected_slip_through.rate", min=0.08)
    assert settle(high_floor, _metrics(50, 1000), plan, 100).passed is False
    # a count has no interval: it is decided on all the replications
    assert settle(Gate(metric="decisions", max=5), _metrics(50, 1000), plan, 100) is None


def _metrics(slips: int, trials: int) -> dict:
    return {
        "decisions": 10,
        "protected_slip_through": {"slips": slips, "trials": trials, **proportion(slips, trials)},
    }


def test_batches_continue_the_seed_sequence_of_one_whole_run():
    env = Environment.build(small())
    whole = run_replications(env, 6, jobs=1, keep_histories=0)
    first = run_replications(env, 4, jobs=1, keep_histories=0)
    rest = run_replications(env, 2, first=4, jobs=2, keep_histories=0)
    assert sorted(rest.metrics) == [4, 5]
    assert {**first.metrics, **rest.metrics} == whole.metrics


def test_early_stopping_gives_the_full_runs_verdict_with_fewer_replications(tmp_path):
    experiment = small(experiment__replications=400, check__batch=50, gates=CLEAR_GATES)
    check = run_check(experiment, RunFolder(tmp_path / "check"), keep_histories=0)
    full = run_sim(experiment, RunFolder(tmp_path / "full"), keep_histories=0)
    assert check.replications == 50 and check.stopped_early
    assert [check.verdicts[i].passed for i in range(2)] == [True, False]
    assert [g["passed"] for g in full["gates"]] == [True, False]
    assert all(check.verdicts[i].early for i in range(2))
    # the check's run folder holds the first 50 replications of the full run, row for row
    rows = (tmp_path / "check" / "replications.csv").read_text().splitlines()
    assert rows == (tmp_path / "full" / "replications.csv").read_text().splitlines()[:51]
    summary = json.loads((tmp_path / "check" / "summary.json").read_text())
    assert summary["replications"] == {"requested": 400, "completed": 50}
    assert summary["check"]["stopped_early"] and summary["check"]["looks"] == 8
    assert [g["passed"] for g in summary["gates"]] == [True, False]


def test_a_gate_without_an_interval_needs_every_planned_replication(tmp_path):
    experiment = small(
        experiment__replications=60,
        check__batch=20,
        gates=[CLEAR_GATES[0], {"metric": "decisions", "min": 1}],
    )
    check = run_check(experiment, RunFolder(tmp_path), keep_histories=0)
    assert check.replications == 60 and not check.stopped_early
    assert check.verdicts[0].early and check.verdicts[0].replications == 20
    assert not check.verdicts[1].early and check.verdicts[1].replications == 60
    assert check.passed


def test_check_exit_codes_and_output(tmp_path, capsys, write_experiment):
    raw = small_raw(experiment__replications=200, check__batch=50)
    passing = write_experiment({**raw, "gates": CLEAR_GATES[:1]}, "pass.toml")
    assert main(["check", str(passing), "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "check: stopped after 50 of 200 replications" in out
    assert "gate PASS upper 95% bound of protected_slip_through.rate <= 3% (observed " in out
    failing = write_experiment({**raw, "gates": CLEAR_GATES}, "fail.toml")
    assert main(["check", str(failing), "--out", str(tmp_path / "b")]) == 1
    assert "gate FAIL upper 95% bound of protected_slip_through.rate <= 0.2% (observed " in (
        capsys.readouterr().out
    )
    # the gate can be moved from the command line like any key
    moved = ["--set", "gates.1.max_upper_ci=0.05", "--out", str(tmp_path / "c")]
    assert main(["check", str(failing), *moved]) == 0


def test_nothing_to_check_and_bad_check_settings_are_one_line_and_exit_2(
    tmp_path, capsys, write_experiment
):
    path = write_experiment(small_raw())
    assert main(["check", str(path)]) == 2
    assert "nothing to check: add [[gates]] to the file or give --baseline" in (
        capsys.readouterr().err
    )
    for key, expected in [
        ("check.confidence=1.5", "check.confidence = 1.5: less than 1"),
        ("check.batch=0", "check.batch = 0: at least 1"),
        ("check.bacth=3", "unknown key 'check.bacth'; did you mean 'batch'?"),
    ]:
        assert main(["check", str(path), "--set", key]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and expected in err, err


def test_an_interrupted_check_keeps_what_ran_and_says_which_gates_are_open(
    tmp_path, capsys, monkeypatch, write_experiment
):
    calls = []

    def interrupted_second_batch(env, replications, **kwargs):
        result = run_replications(env, replications, **kwargs)
        calls.append(kwargs["first"])
        result.interrupted = len(calls) == 2
        return result

    monkeypatch.setattr(harness.pipeline.check, "run_replications", interrupted_second_batch)
    gates = [{"metric": "decisions", "min": 1}]
    path = write_experiment(small_raw(experiment__replications=40, check__batch=10, gates=gates))
    junit = tmp_path / "junit.xml"
    out = tmp_path / "run"
    assert main(["check", str(path), "--out", str(out), "--junit", str(junit)]) == 130
    assert calls == [0, 10]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["gates"] == []
    assert summary["replications"] == {"requested": 40, "completed": 20}
    with (out / "replications.csv").open() as table:
        assert [int(r["replication"]) for r in csv.DictReader(table)] == list(range(20))
    assert 'type="Interrupted"' in junit.read_text()
    assert "interrupted: partial result (20 of 40 replications)" in capsys.readouterr().err

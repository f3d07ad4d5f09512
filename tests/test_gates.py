"""Gates: each kind holds and fails where it should; bad gates are one line and exit 2."""

from __future__ import annotations

import pytest
from conftest import small_raw

from harness.cli import main
from harness.experiment.model import Gate
from harness.verdicts.gates import evaluate_gate

METRICS = {
    "decisions": 500,
    "protected_slip_through": {"slips": 10, "trials": 1000, "rate": 0.01, "ci95": [0.0048, 0.0183]},
    "exposure_minutes": {"mean": None, "count": 0},
}


@pytest.mark.parametrize(
    "gate,passed,observed",
    [
        ({"metric": "decisions", "max": 500}, True, 500),
        ({"metric": "decisions", "max": 499}, False, 500),
        ({"metric": "decisions", "min": 500}, True, 500),
        ({"metric": "decisions", "min": 501}, False, 500),
        ({"metric": "protected_slip_through.rate", "max": 0.01}, True, 0.01),
        ({"metric": "protected_slip_through.rate", "max": 0.0099}, False, 0.01),
        ({"metric": "protected_slip_through.rate", "max_upper_ci": 0.0183}, True, 0.0183),
        ({"metric": "protected_slip_through.rate", "max_upper_ci": 0.018}, False, 0.0183),
        # a metric with no value (nothing went down) meets a ceiling and misses a floor
        ({"metric": "exposure_minutes.mean", "max": 1}, True, None),
        ({"metric": "exposure_minutes.mean", "min": 1}, False, None),
    ],
)
def test_each_gate_kind_holds_and_fails_where_it_should(gate, passed, observed):
    result = evaluate_gate(Gate(**gate), METRICS)
    assert result.passed is passed
    assert result.observed == observed
    assert result.kind == next(k for k in gate if k != "metric")


BAD_GATES = [
    ("bound as a string", {"max": "0.01"}, "gates.0.max = '0.01': a number, without quotes: 0.01"),
    ("bound as a boolean", {"max": True}, "gates.0.max = True: a number, not true or false"),
    ("bound as a list", {"min": [1]}, "gates.0.min: a number"),
    ("bound not finite", {"max": float("inf")}, "gates.0.max = inf: a finite number"),
    ("negative bound", {"max": -1}, "gates.0.max = -1: at least 0"),
    ("rate above one", {"max_upper_ci": 5}, "gates.0: max_upper_ci = 5: protected_slip_through"),
    ("two bounds", {"max": 0.1, "min": 0.01}, "a gate needs exactly one of max, min"),
]


@pytest.mark.parametrize("command", ["run", "check"])
@pytest.mark.parametrize("name,bound,expected", BAD_GATES, ids=[b[0] for b in BAD_GATES])
def test_a_bound_of_the_wrong_type_is_one_line_and_exit_2(
    command, name, bound, expected, tmp_path, capsys, write_experiment
):
    path = write_experiment(small_raw(gates=[{"metric": "protected_slip_through.rate", **bound}]))
    assert main([command, str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"harness: {path}: ") and expected in err, err
    assert not (tmp_path / "out").exists()


def test_a_gate_on_an_unknown_metric_suggests_the_closest(tmp_path, capsys, write_experiment):
    path = write_experiment(small_raw(gates=[{"metric": "protected_slip_thru.rate", "max": 0.1}]))
    assert main(["check", str(path)]) == 2
    assert "did you mean 'protected_slip_through.rate'?" in capsys.readouterr().err


def test_a_bound_given_with_set_is_read_as_a_number_and_blamed_on_the_option(
    tmp_path, capsys, write_experiment
):
    path = write_experiment(small_raw(gates=[{"metric": "decisions", "min": 1}]))
    out = str(tmp_path / "out")
    assert main(["run", str(path), "--set", "gates.0.min=2", "--out", out]) == 0
    assert main(["run", str(path), "--set", "gates.0.min=lots", "--dry-run"]) == 2
    assert "--set gates.0.min=lots: gates.0.min = 'lots'" in capsys.readouterr().err


def test_harness_run_prints_every_gate_and_exits_by_them(tmp_path, capsys, write_experiment):
    gates = [
        {"metric": "decisions", "min": 1},
        {"metric": "protected_slip_through.rate", "max_upper_ci": 1.0},
    ]
    path = write_experiment(small_raw(gates=gates))
    assert main(["run", str(path), "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert out.count("gate PASS") == 2 and "upper 95% bound of protected_slip_through.rate" in out
    path = write_experiment(small_raw(gates=[*gates, {"metric": "decisions", "max": 1}]))
    assert main(["run", str(path), "--out", str(tmp_path / "b")]) == 1
    out = capsys.readouterr().out
    assert out.count("gate PASS") == 2 and out.count("gate FAIL") == 1

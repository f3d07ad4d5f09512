"""Importance sampling everywhere a rate is used: gates (`harness check`, the pytest
plugin), JUnit, comparisons of configurations and report.html."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import tomli_w
from conftest import ROOT, small_raw

from harness.errors import BadInput
from harness.estimate.gates import refuse_unweighted, weighted_verdicts
from harness.experiment.model import Gate, validate
from harness.metrics import rate_metrics
from harness.pipeline.check import run_check
from harness.reports import render
from harness.run_folder import RunData, RunFolder, check_comparable
from harness.verdicts.between_configurations import compare

RANDOM_APPROVERS = {
    "operators": [{"persona": "random_approver", "count": 3, "approve_probability": 0.002}],
    "safeguards__two_person_rule__enabled": True,
    "population__protected_report_share": 0.5,
    "experiment__shift": "2h",
    "estimate__method": "importance",
    "estimate__pilot_replications": 100,
    "estimate__target_relative_error": 0.3,
}
"""Reviewers who approve any report with probability 0.002 and an independent second
approver: a protected trial slips with probability 0.002^2 = 4e-6, known by arithmetic."""

TRUE_RATE = 0.002**2


def _gated(*gates: dict, **overrides: object) -> dict:
    return small_raw(**{**RANDOM_APPROVERS, **overrides}, gates=list(gates))


# --- gates --------------------------------------------------------------------------------


def test_a_check_of_an_importance_run_settles_gates_near_1e_5(tmp_path: Path) -> None:
    """A rate of 4e-6: its weighted interval settles a ceiling at 1e-5 (crude Monte Carlo
    would need about a million protected trials) and a floor above it fails."""
    raw = _gated(
        {"metric": "protected_slip_through.rate", "max_upper_ci": 1e-5},
        {"metric": "protected_slip_through.rate", "min": 2e-5},
    )
    experiment = validate(raw, "rare.toml")
    check = run_check(experiment, RunFolder.create("rare", None, base=str(tmp_path)), jobs=1)
    estimate = check.summary["estimate"]["protected_slip_through"]
    assert estimate["reliable"]
    low, high = estimate["ci95"]
    assert low <= TRUE_RATE <= high < 1e-5
    assert check.estimator == "importance" and check.summary["check"]["estimator"] == "importance"
    ceiling, floor = check.verdicts[0], check.verdicts[1]
    assert ceiling.passed and ceiling.result.observed == pytest.approx(high)
    assert not floor.passed and "settled" in floor.describe()
    assert not check.passed
    written = json.loads((check.folder.path / "summary.json").read_text())
    assert [g["passed"] for g in written["gates"]] == [True, False]
    assert written["check"]["gates"][0]["note"].startswith("weighted 95% interval")


def _summary(estimate: float | None, ci: list[float] | None, reliable: bool) -> dict:
    entry = {
        "estimate": estimate,
        "ci95": ci,
        "standard_error": None if ci is None else (ci[1] - ci[0]) / 3.92,
        "relative_error": None if ci is None else (ci[1] - ci[0]) / 2 / estimate,
        "effective_sample_size": 80.0 if reliable else 4.0,
        "reliable": reliable,
    }
    return {
        "estimator": "importance",
        "estimate": {
            "replications": {"in_estimate": 1000},
            "protected_slip_through": entry,
            "shift_incident_probability": entry,
        },
    }


def test_gates_read_the_weighted_estimate_and_interval() -> None:
    summary = _summary(2e-6, [1.5e-6, 2.5e-6], reliable=True)
    assert rate_metrics(summary)["protected_slip_through"]["rate"] == 2e-6
    gates = [
        Gate(metric="protected_slip_through.rate", max_upper_ci=2.4e-6),
        Gate(metric="protected_slip_through.rate", max=2.4e-6),
        Gate(metric="shift_incident_probability.rate", min=1e-6),
    ]
    verdicts = weighted_verdicts(gates, summary)
    assert [v.passed for v in verdicts.values()] == [False, True, True]
    assert "not settled" in verdicts[1].describe()  # 2.4e-6 lies inside the interval
    assert "; settled" in verdicts[2].describe()


def test_an_unreliable_estimate_fails_its_gates_whatever_side_it_lies() -> None:
    verdicts = weighted_verdicts(
        [Gate(metric="protected_slip_through.rate", max_upper_ci=1e-3)],
        _summary(2e-6, [1e-6, 3e-6], reliable=False),
    )
    assert not verdicts[0].passed and "unreliable" in verdicts[0].describe()


def test_a_gate_importance_sampling_cannot_decide_is_refused_before_running() -> None:
    experiment = validate(_gated({"metric": "decisions", "max": 10}), "rare.toml")
    with pytest.raises(BadInput, match=r"^gates: .*decisions.*importance sampling estimates"):
        refuse_unweighted(experiment)


def _harness(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=cwd, capture_output=True, text=True
    )


def test_harness_check_with_importance_writes_junit_from_the_weighted_gates(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rare.toml"
    raw = _gated({"metric": "protected_slip_through.rate", "max_upper_ci": 1e-5})
    raw["estimate"]["method"] = "crude"  # asked for on the command line instead
    path.write_text(tomli_w.dumps(raw))
    junit = tmp_path / "junit.xml"
    out = tmp_path / "out"
    args = ("check", str(path), "--estimator", "importance", "--jobs", "1", "--out", str(out))
    done = _harness(*args, "--junit", str(junit))
    assert done.returncode == 0, done.stderr
    assert "importance sampling" in done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["estimator"] == "importance" and summary["gates"][0]["passed"]
    suite = ET.parse(junit).getroot().find("testsuite")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["estimator"] == "importance"
    case = suite.find("testcase")
    assert case.find("failure") is None and "weighted 95% interval" in case.find("system-out").text


def test_harness_check_refuses_an_undecidable_gate_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "rare.toml"
    path.write_text(tomli_w.dumps(_gated({"metric": "decisions", "max": 10})))
    done = _harness("check", str(path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "decisions" in done.stderr


def test_the_pytest_plugin_gates_an_importance_run(tmp_path: Path) -> None:
    path = tmp_path / "rare.toml"
    path.write_text(
        tomli_w.dumps(_gated({"metric": "protected_slip_through.rate", "max_upper_ci": 1e-9}))
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--safeguard-experiment",
            str(path),
            "--safeguard-out",
            str(tmp_path / "results"),
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "gate failed" in done.stdout and "weighted 95% interval" in done.stdout
    (summary,) = (tmp_path / "results").glob("*/summary.json")
    assert json.loads(summary.read_text())["estimator"] == "importance"


# --- comparisons and reports --------------------------------------------------------------


def _weighted_run(name: str, rate: float, relative_se: float, reliable: bool = True) -> RunData:
    def entry(value: float) -> dict:
        se = value * relative_se
        return {
            "estimate": value,
            "ci95": [value - 1.96 * se, value + 1.96 * se],
            "standard_error": se,
            "relative_error": 1.96 * relative_se,
            "effective_sample_size": 90.0 if reliable else 5.0,
            "reliable": reliable,
        }

    estimate = {
        "protected_slip_through": entry(rate),
        "shift_incident_probability": entry(rate * 40),
        "exposure_minutes_per_shift": entry(rate * 400),
        "yearly_risk": {"shifts_per_year": 730, "probability": 0.1, "ci95": [0.08, 0.12]},
        "tilt": {"shifts": {"approve_protected:reviewer": 2.5}, "default": 0.0},
        "untilted": {"replications": 200, "trials": 4000, "slips": 0},
        "replications": {"in_estimate": 1000},
        "unreliable": None if reliable else "weights degenerate: an effective 5 replications",
    }
    summary = {
        "experiment": "rare",
        "mode": "sim",
        "estimator": "importance",
        "status": "completed",
        "seed": 1,
        "replications": {"requested": 5000, "completed": 1200},
        "estimate": estimate,
    }
    experiment = {"experiment": {"name": "rare", "seed": 1, "shift": "2h"}, "population": {}}
    return RunData(Path(f"/runs/{name}"), name, summary, {"version": "x"}, experiment, "", {}, ())


def test_weighted_configurations_compare_by_a_z_test_holm_adjusted() -> None:
    runs = [
        _weighted_run("recommended", 1.2e-4, 0.1),
        _weighted_run("ten times safer", 1.2e-5, 0.1),
        _weighted_run("about the same", 1.25e-4, 0.1),
        _weighted_run("unreliable", 1e-6, 0.1, reliable=False),
    ]
    comparison = compare(runs, 0)
    assert comparison["estimator"] == "importance"
    assert "z-test" in comparison["tests"]["protected_slip_through"]
    verdicts = [
        e["vs_baseline"]["protected_slip_through"]["verdict"] if e["vs_baseline"] else None
        for e in comparison["configurations"]
    ]
    assert verdicts == [
        None,
        "significantly lower",
        "no detectable difference",
        "not tested: an estimate is unreliable",
    ]
    safer = comparison["configurations"][1]["vs_baseline"]["protected_slip_through"]
    assert safer["p"] < safer["p_adjusted"] < 0.001  # Holm over the 4 tests with a p-value
    assert "Holm over all 4 tests" in comparison["tests"]["adjustment"]


def test_report_html_of_weighted_runs_shows_estimate_interval_error_ess_tilt_reliability() -> None:
    runs = [_weighted_run("recommended", 1.2e-4, 0.1), _weighted_run("x", 1e-6, 0.1, False)]
    comparison = {"status": "completed", "not_run": [], **compare(runs, 0)}
    html = render(comparison, runs, "Safeguard comparison: rare")
    assert "0.012% [0.0096%, 0.014%] ±20%" in html and "1.00e-06 [8.04e-07, 1.20e-06]" in html
    assert "effective sample size" in html and "approve_protected:reviewer +2.50" in html
    assert "unreliable" in html and "weights degenerate" in html
    assert "yearly risk" in html and "z-test" in html


def test_runs_of_different_estimators_do_not_compare() -> None:
    weighted = _weighted_run("a", 1e-5, 0.1)
    crude = RunData(
        Path("/runs/b"), "b", {"mode": "sim"}, {"version": "x"}, weighted.experiment, "", {}, ()
    )
    with pytest.raises(BadInput, match="estimated by crude, /runs/a by importance"):
        check_comparable([weighted, crude])


def test_harness_compare_runs_an_importance_file_and_tells_tenfold_apart(tmp_path: Path) -> None:
    """Two configurations whose slip rates are 1e-4 and 1e-5 by arithmetic (approvals at
    0.01 and 0.00316, each behind an independent second approver): crude Monte Carlo would
    see a handful of slips in either; the weighted estimates are told apart."""
    raw = small_raw(**{**RANDOM_APPROVERS, "operators__0__approve_probability": 0.01})
    raw["configurations"] = [
        {"name": "1e-4"},
        {"name": "1e-5", "set": {"operators.0.approve_probability": 10**-2.5}},
    ]
    path = tmp_path / "pair.toml"
    path.write_text(tomli_w.dumps(raw))
    out = tmp_path / "out"
    done = _harness("compare", str(path), "--jobs", "1", "--out", str(out))
    assert done.returncode == 0, done.stderr
    comparison = json.loads((out / "comparison.json").read_text())
    assert comparison["estimator"] == "importance"
    base, safer = comparison["configurations"]
    for entry, truth in ((base, 1e-4), (safer, 1e-5)):
        low, high = entry["protected_slip_through"]["ci95"]
        assert low <= truth <= high
    assert safer["vs_baseline"]["protected_slip_through"]["verdict"] == "significantly lower"
    assert "Protection (importance sampling)" in (out / "report.html").read_text()

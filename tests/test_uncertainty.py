"""Uncertain parameters: distributions in experiment files, two-level runs and sensitivity.

The arithmetic cases have answers known in closed form: random approvers approve a protected
report with probability p, so with no safeguards the slip rate of a parameter set is p, and
with the two-person rule and independent approvers it is p^2."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tomli_w
from conftest import small_raw

from harness.cli import main
from harness.run_folder import RunFolder
from harness.uncertainty.sensitivity import analyze, design
from harness.uncertainty.spec import load_study
from harness.uncertainty.two_level import run_two_level

SLIP = "protected_slip_through.rate"
NO_SAFEGUARDS = {
    "protected_list": {"mode": "off"},
    "two_person_rule": {"enabled": False},
    "leaver_lockout": {"enabled": False},
    "rate_limit": {"enabled": False},
}


def random_approvers(low: float, high: float, **safeguards) -> dict:
    """Four random approvers, approve_probability uniform on [low, high], protected reports
    only, so every decision is a protected trial."""
    raw = small_raw(
        population__protected_report_share=1.0,
        population__reports_per_hour=30,
        experiment__replications=10,
    )
    p = {"dist": "uniform", "low": low, "high": high}
    raw["operators"] = [{"persona": "random_approver", "count": 4, "approve_probability": p}]
    raw["safeguards"] = {**NO_SAFEGUARDS, **safeguards}
    return raw


def write(tmp_path, raw: dict, name: str = "uncertain.toml") -> str:
    path = tmp_path / name
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")
    return str(path)


def two_level(tmp_path, raw: dict, samples: int = 32, folder: str = "run") -> dict:
    study = load_study(write(tmp_path, raw))
    summary = run_two_level(
        study, RunFolder(tmp_path / folder), samples=samples, sampling="lhs", jobs=1
    )
    return summary["uncertainty"]["metrics"][SLIP]


def test_band_is_the_parameters_quantiles(tmp_path):
    """Slip rate = p: the band's ends are p's 5th and 95th percentiles."""
    entry = two_level(tmp_path, random_approvers(0.1, 0.5))
    assert entry["band"]["p5"] == pytest.approx(0.1 + 0.4 * 0.05, abs=0.03)
    assert entry["band"]["p95"] == pytest.approx(0.1 + 0.4 * 0.95, abs=0.03)
    assert entry["median_parameters"]["rate"] == pytest.approx(0.3, abs=0.04)
    assert entry["noise_share"] < 0.2  # the band is parameter uncertainty, not noise


def test_two_person_rule_mean_is_the_second_moment(tmp_path):
    """Independent approvers: slip rate p^2, whose mean is Var(p) + E[p]^2, not E[p]^2."""
    rule = {"two_person_rule": {"enabled": True, "dependence": "zero", "scope": "protected"}}
    entry = two_level(tmp_path, random_approvers(0.2, 0.6, **rule))
    second_moment = (0.2**2 + 0.2 * 0.6 + 0.6**2) / 3  # 0.1733; E[p]^2 = 0.16
    assert entry["band"]["mean"] == pytest.approx(second_moment, abs=0.006)


def test_same_seed_same_result(tmp_path):
    raw = random_approvers(0.1, 0.5)
    first = two_level(tmp_path, raw, samples=4, folder="a")
    assert two_level(tmp_path, raw, samples=4, folder="b") == first
    raw["experiment"]["seed"] = 8
    assert two_level(tmp_path, raw, samples=4, folder="c") != first


def indices(f, dimensions: int, samples: int = 1024, method: str = "sobol") -> dict[str, dict]:
    names = [f"x{i}" for i in range(dimensions)]
    unit = design(method, dimensions, samples, seed=1)
    rows, *_ = analyze(method, names, unit, f(unit), seed=1)
    return {r["parameter"]: r for r in rows}


def test_a_chaos_expansion_gives_the_indices_of_a_polynomial_exactly():
    """y = x0 x1 on the unit square: Var y = 1/9 - 1/16 = 7/144, each main effect x/2 has
    variance 3/144, so S1 = 3/7 and ST = 4/7 for both; x2 takes no part."""
    found = indices(lambda x: x[:, 0] * x[:, 1], 3, samples=128, method="pce")
    for name in ("x0", "x1"):
        assert found[name]["S1"] == pytest.approx(3 / 7, abs=1e-9)
        assert found[name]["ST"] == pytest.approx(4 / 7, abs=1e-9)
    assert found["x2"]["ST"] == pytest.approx(0, abs=1e-9)


def test_a_chaos_expansion_averages_independent_noise_out():
    """y = x0 + 2 x1 + noise as large as the signal: S1 = 0.2 and 0.8 of the mean's variance,
    within the intervals, which are narrow."""
    noise = np.random.default_rng(5).normal(0, 0.6, 2048)
    found = indices(lambda x: x[:, 0] + 2 * x[:, 1] + noise, 3, samples=2048, method="pce")
    for name, expected in (("x0", 0.2), ("x1", 0.8)):
        assert abs(found[name]["S1"] - expected) <= found[name]["S1_conf"]
        assert found[name]["S1_conf"] < 0.06


def test_a_metric_of_one_parameter_has_total_index_one_for_it_only():
    found = indices(lambda x: x[:, 0] ** 2, 3)
    assert abs(found["x0"]["ST"] - 1) <= max(found["x0"]["ST_conf"], 0.05)
    for other in ("x1", "x2"):
        assert abs(found[other]["ST"]) <= max(found[other]["ST_conf"], 0.01)
    assert found["x0"]["rank"] == 1


def test_an_additive_metric_recovers_its_first_order_indices():
    """y = x0 + 2 x1 on the unit square: variances 1/12 and 4/12, so S1 = 0.2 and 0.8."""
    found = indices(lambda x: x[:, 0] + 2 * x[:, 1], 2)
    for name, expected in (("x0", 0.2), ("x1", 0.8)):
        assert abs(found[name]["S1"] - expected) <= max(found[name]["S1_conf"], 0.03)


def test_sensitivity_of_the_simulator_finds_the_one_parameter_that_matters(tmp_path, capsys):
    """Protected reports only: the violating share of ordinary reports cannot matter."""
    raw = random_approvers(0.1, 0.5)
    raw["experiment"]["shift"] = "2h"
    raw["population"]["violating_share"] = {"dist": "uniform", "low": 0.1, "high": 0.9}
    out = tmp_path / "study"
    argv = ["sensitivity", write(tmp_path, raw), "--samples", "16", "--replications", "3"]
    assert main([*argv, "--jobs", "1", "--out", str(out)]) == 0
    result = json.loads((out / "sensitivity.json").read_text())
    rows = result["metrics"][SLIP]["indices"]
    assert rows[0]["parameter"] == "operators.0.approve_probability"
    assert rows[0]["ST"] > 0.8
    assert rows[1]["ST"] < 0.1
    assert "1    │ operators.0.approve_probability" in capsys.readouterr().out
    assert (out / "report.html").read_text().count("<svg") == 2
    assert (out / "sensitivity.csv").read_text().startswith("metric,rank,parameter,S1,")


BAD = {
    "unknown distribution": (
        {"dist": "gamma", "a": 1},
        "operators.0.approve_probability: unknown distribution 'gamma'",
    ),
    "missing parameter": (
        {"dist": "uniform", "low": 0.1},
        "operators.0.approve_probability: uniform needs low and high; high is missing",
    ),
    "out-of-range parameter": ({"dist": "beta", "a": 0, "b": 2}, "beta needs a > 0 and b > 0"),
    "support leaves the key's range": (
        {"dist": "uniform", "low": 0.5, "high": 1.5},
        "reaches 1.5, which the key does not allow",
    ),
    "unknown option of a choice": ({"choice": [0.2, "often"]}, "reaches 'often'"),
}


@pytest.mark.parametrize("spec, said", BAD.values(), ids=BAD.keys())
def test_a_bad_distribution_is_one_line_and_exit_2(tmp_path, capsys, spec, said):
    raw = random_approvers(0.1, 0.5)
    raw["operators"][0]["approve_probability"] = spec
    assert main(["run", write(tmp_path, raw), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and said in err, err


def test_a_lognormal_is_checked_at_its_cut_tails(tmp_path, capsys):
    """careless_multiplier is at least 1: a lognormal with median 1 goes below it."""
    raw = small_raw()
    raw["operators"].append(
        {
            "persona": "departing_insider",
            "careless_multiplier": {"dist": "lognormal", "median": 1, "error_factor": 3},
        }
    )
    assert main(["sensitivity", write(tmp_path, raw)]) == 2
    err = capsys.readouterr().err
    assert "operators.2.careless_multiplier = lognormal(median=1, error_factor=3)" in err


def test_commands_of_one_configuration_name_the_uncertain_key(tmp_path, capsys):
    raw = random_approvers(0.1, 0.5)
    assert main(["explore", write(tmp_path, raw)]) == 2
    err = capsys.readouterr().err
    assert "operators.0.approve_probability: a distribution" in err and err.count("\n") == 1


def test_samples_need_an_uncertain_parameter(tmp_path, capsys):
    assert main(["run", write(tmp_path, small_raw()), "--samples", "8"]) == 2
    assert "no uncertain parameter" in capsys.readouterr().err


def test_sobol_points_come_in_powers_of_two(tmp_path, capsys):
    raw = random_approvers(0.1, 0.5)
    assert main(["run", write(tmp_path, raw), "--samples", "12", "--sampling", "sobol"]) == 2
    assert "powers of two (e.g. 8 or 16)" in capsys.readouterr().err


def test_a_design_maps_to_values_inside_each_support():
    unit = design("morris", 2, 8, seed=3)
    assert unit.min() >= 0 and unit.max() <= 1 and np.isfinite(unit).all()


def fixed_against_uncertain(low: float = 0.05, high: float = 0.95, fixed: float = 0.3) -> dict:
    """A comparison: approvers with p uncertain (slip rate p) against approvers with p fixed
    (slip rate `fixed`). The fixed one is safer exactly where p > `fixed`."""
    raw = random_approvers(low, high)
    raw["experiment"]["shift"] = "2h"
    raw["configurations"] = [
        {"name": "uncertain"},
        {"name": "fixed", "set": {"operators.0.approve_probability": fixed}},
    ]
    return raw


def test_compare_counts_the_parameter_sets_each_configuration_is_safer_in(tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = ["compare", write(tmp_path, fixed_against_uncertain()), "--samples", "16"]
    assert main([*argv, "--jobs", "1", "--out", str(out)]) == 0
    section = json.loads((out / "comparison.json").read_text())["uncertainty"]
    (pair,) = section["pairs"]
    assert pair["configuration"] == "fixed" and pair["baseline"] == "uncertain"
    assert 0 < pair["safer"] < pair["sets"] == 16
    assert pair["safer"] + pair["tied"] + pair["less_safe"] == 16
    assert pair["safer"] > pair["less_safe"]  # p is above 0.3 in about 72% of sets
    where = pair["loses_where"]
    assert where["parameter"] == "operators.0.approve_probability"
    assert where["region"].startswith("<")  # it loses where p is low
    assert where["losing"] / where["sets"] > where["losing_elsewhere"] / where["sets_elsewhere"]
    assert set(section["bands"]) == {"uncertain", "fixed"}
    printed = capsys.readouterr().out
    assert f"fixed: safer in {pair['safer']} of 16 parameter sets" in printed
    page = (out / "report.html").read_text()
    assert "What we do not know" in page and "Set by set" in page
    assert f"{pair['safer']} of 16" in page


def test_compare_under_uncertainty_refuses_resume(tmp_path, capsys):
    path = write(tmp_path, fixed_against_uncertain())
    assert main(["compare", path, "--resume", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has uncertain parameters" in err


def band_gated(bound: float) -> dict:
    raw = random_approvers(0.1, 0.5)
    raw["experiment"]["shift"] = "2h"
    raw["gates"] = [{"metric": SLIP, "max_band_p95": bound}]
    return raw


@pytest.mark.parametrize("bound, code", [(0.7, 0), (0.2, 1)])
def test_a_band_gate_bounds_the_95th_percentile_over_parameter_sets(tmp_path, bound, code):
    """Slip rate p, p uniform on [0.1, 0.5]: the band's upper end is near 0.48, while the
    rate at the median parameters (0.3) is under both bounds' plain reading."""
    out = tmp_path / "check"
    argv = ["check", write(tmp_path, band_gated(bound)), "--samples", "16", "--jobs", "1"]
    assert main([*argv, "--out", str(out)]) == code
    (gate,) = json.loads((out / "summary.json").read_text())["gates"]
    assert gate["kind"] == "max_band_p95" and gate["passed"] is (code == 0)
    assert gate["observed"] == pytest.approx(0.48, abs=0.06)


def test_a_band_gate_needs_uncertain_parameters(tmp_path, capsys):
    raw = small_raw()
    raw["gates"] = [{"metric": SLIP, "max_band_p95": 0.01}]
    assert main(["check", write(tmp_path, raw)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "gates.0.max_band_p95: bounds the uncertainty band" in err


def test_a_band_gate_needs_a_rate(tmp_path, capsys):
    raw = band_gated(0.1)
    raw["gates"] = [{"metric": "exposure_minutes.mean", "max_band_p95": 10}]
    assert main(["run", write(tmp_path, raw), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "max_band_p95 needs a rate with an interval" in err


def test_the_report_of_a_two_level_run_shows_the_band_next_to_the_interval(tmp_path):
    raw = random_approvers(0.1, 0.5)
    run = tmp_path / "run"
    assert (
        main(["run", write(tmp_path, raw), "--samples", "8", "--jobs", "1", "--out", str(run)]) == 0
    )
    assert main(["report", str(run)]) == 0
    page = (run / "report.html").read_text()
    assert "What we do not know: 8 parameter sets" in page
    assert "at median parameters (95% sampling interval)" in page
    assert "uncertainty band (5th-95th percentile over parameter sets)" in page
    assert "sampling noise in the band" in page


def test_pce_sensitivity_of_the_simulator_and_its_fit(tmp_path, capsys):
    """The pce method on the simulator: independent seeds per set, the parameter that
    matters first, and the share the fit explains said."""
    raw = random_approvers(0.1, 0.5)
    raw["experiment"]["shift"] = "2h"
    raw["population"]["violating_share"] = {"dist": "uniform", "low": 0.1, "high": 0.9}
    out = tmp_path / "study"
    argv = ["sensitivity", write(tmp_path, raw), "--method", "pce", "--samples", "64"]
    assert main([*argv, "--replications", "2", "--jobs", "1", "--out", str(out)]) == 0
    result = json.loads((out / "sensitivity.json").read_text())
    assert result["seeds"] == "independent" and result["evaluations"] == 64
    entry = result["metrics"][SLIP]
    assert entry["indices"][0]["parameter"] == "operators.0.approve_probability"
    assert entry["indices"][0]["ST"] > 0.8 and 0 < entry["explained"] <= 1
    assert "the fitted expansion explains" in capsys.readouterr().out
    assert (out / "report.html").read_text().count("<svg") == 2


def test_pce_needs_sets_to_spare(tmp_path, capsys):
    raw = random_approvers(0.1, 0.5)
    argv = ["sensitivity", write(tmp_path, raw), "--method", "pce", "--samples", "6"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1
        and "pce fits 4 terms for 1 uncertain parameter; give at least 8" in err
    )


def test_samples_in_a_comparison_need_an_uncertain_parameter(tmp_path, capsys):
    raw = small_raw()
    raw["matrix"] = {"safeguards.two_person_rule.enabled": [False, True]}
    assert main(["compare", write(tmp_path, raw), "--samples", "8"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--samples: " in err and "no uncertain parameter" in err

"""Importance sampling: exact likelihood ratios, agreement with crude Monte Carlo and with
arithmetic, reproducibility, and what bad input and untrustworthy weights say."""

from __future__ import annotations

import json
import math
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomli_w
from conftest import ROOT, small, small_raw

from harness.backends.replications import run_replications
from harness.errors import BadInput
from harness.estimate.draws import Tilt, TiltedDraws, tilted_probability
from harness.estimate.importance import estimate_importance, slip_through
from harness.estimate.report import unreliable
from harness.experiment.model import validate
from harness.statistics.summary import summarize
from harness.world.environment import Environment
from targets.moderation import bernoulli

# Two hours of 120 reports an hour, half of them about protected accounts: about 120
# protected trials a shift, so every replication is cheap and informative.
BUSY = {
    "population__protected_report_share": 0.5,
    "experiment__shift": "2h",
    "estimate__pilot_replications": 100,
}


def random_approvers(p: float, second: bool, seed: int = 7, **overrides: object):
    """Reviewers who approve with probability p whatever the report: a protected trial
    slips with probability p, or p^2 when an independent second approver (another such
    reviewer, chosen by the system) must agree."""
    return small(
        operators=[{"persona": "random_approver", "count": 3, "approve_probability": p}],
        safeguards__two_person_rule__enabled=second,
        experiment__seed=seed,
        **{**BUSY, **overrides},
    )


def weighted_slip_through(experiment, jobs: int = 1) -> dict:
    return slip_through(estimate_importance(Environment.build(experiment), jobs=jobs))


# --- the seam ----------------------------------------------------------------------------


def test_untilted_draws_are_the_targets_draws_with_weight_one() -> None:
    draws = TiltedDraws(Tilt())
    a, b = random.Random(3), random.Random(3)
    kinds = ["approve_protected:reviewer", "approve", "phish", "cancel_protected"]
    for i in range(2000):
        kind, p = kinds[i % 4], (i % 7) / 10
        assert draws.chance(a, kind, p) == bernoulli(b, kind, p)
    assert draws.log_weight == 0.0


def test_a_tilted_draw_weighs_by_its_exact_likelihood_ratio() -> None:
    p, shift = 0.001, 4.0
    q = tilted_probability(p, shift)
    hit = TiltedDraws(Tilt({"phish": shift}))
    assert hit.chance(random.Random(0), "phish", p) is (random.Random(0).random() < q)
    rng, seen = random.Random(1), {True: 0.0, False: 0.0}
    for _ in range(200):
        one = TiltedDraws(Tilt({"phish": shift}))
        yes = one.chance(rng, "phish", p)
        seen[yes] = one.log_weight
    assert math.isclose(seen[True], math.log(p / q))
    assert math.isclose(seen[False], math.log((1 - p) / (1 - q)))


def test_only_tiltable_kinds_move() -> None:
    draws = TiltedDraws(Tilt(default=5.0))
    rng = random.Random(2)
    assert not any(draws.chance(rng, "approve", 1e-9) for _ in range(1000))
    assert draws.log_weight == 0.0


# --- agreement with arithmetic -----------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "second"),
    [(3e-3, False), (1e-3, True), (1e-7, False), (10**-3.5, True)],
    ids=["p=3e-3", "p=1e-3 twice (1e-6)", "p=1e-7", "p=10^-3.5 twice (1e-7)"],
)
def test_the_interval_covers_the_known_rate(p: float, second: bool) -> None:
    truth = p * p if second else p
    got = weighted_slip_through(random_approvers(p, second))
    low, high = got["ci95"]
    assert low <= truth <= high, (truth, got)
    assert got["reliable"] and got["relative_error"] <= 0.2


# --- agreement with crude Monte Carlo ----------------------------------------------------

AGREEMENT = {
    "judging reviewers": {},
    "two-person rule, high dependence": {
        "safeguards__two_person_rule__enabled": True,
        "safeguards__two_person_rule__dependence": "high",
    },
    "approval service down half the shift, fail open": {
        "safeguards__two_person_rule__enabled": True,
        "faults": [{"kind": "approval_service_outage", "at": "0s", "duration": "1h"}],
    },
}


@pytest.mark.parametrize("name", list(AGREEMENT))
def test_weighted_and_crude_intervals_overlap(name: str) -> None:
    experiment = small(**{**BUSY, **AGREEMENT[name]})
    env = Environment.build(experiment)
    crude = summarize(run_replications(env, 300, jobs=1).ordered())["protected_slip_through"]
    assert 1e-3 <= crude["rate"] <= 1e-2
    weighted = weighted_slip_through(experiment)
    assert weighted["ci95"][0] <= crude["ci95"][1] and crude["ci95"][0] <= weighted["ci95"][1]


# --- reproducibility ---------------------------------------------------------------------


def test_the_same_seed_gives_the_same_estimate_bit_for_bit() -> None:
    experiment = random_approvers(1e-3, True)
    first = estimate_importance(Environment.build(experiment), jobs=1)
    again = estimate_importance(Environment.build(experiment), jobs=2)
    assert slip_through(first) == slip_through(again)
    assert first.tilt == again.tilt and first.replications == again.replications


# --- what the run says -------------------------------------------------------------------


def test_a_run_stops_when_its_replication_budget_is_spent() -> None:
    experiment = random_approvers(
        0.01, False, estimate__target_relative_error=0.01, estimate__max_replications=1000
    )
    run = estimate_importance(Environment.build(experiment), jobs=1)
    assert run.stopped == "replication budget spent"
    assert run.replications == 1000
    assert slip_through(run)["relative_error"] > 0.01


def test_degenerate_weights_are_called_unreliable() -> None:
    thin = {"estimate": 1e-6, "effective_sample_size": 4.2}
    assert unreliable(thin, 5000).startswith("weights degenerate: ")
    assert "neither an estimate nor a bound" in unreliable({"estimate": 0.0}, 5000)
    assert unreliable({"estimate": 1e-6, "effective_sample_size": 80.0}, 5000) is None


def _harness(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=ROOT, capture_output=True, text=True
    )


def _file(tmp_path: Path, **overrides: object) -> str:
    path = tmp_path / "exp.toml"
    path.write_text(tomli_w.dumps(small_raw(**{**BUSY, **overrides})))
    return str(path)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("estimate.target_relative_error", 0),
        ("estimate.target_relative_error", 1.5),
        ("estimate.max_replications", 10),
        ("estimate.max_seconds", "0s"),
        ("estimate.pilot_replications", 5),
        ("experiment.shifts_per_year", 0),
    ],
)
def test_an_out_of_range_estimate_key_is_refused_naming_it(key: str, value: object) -> None:
    with pytest.raises(BadInput, match=rf"^small\.toml: {re.escape(key)} = "):
        validate(small_raw(**{key.replace(".", "__"): value}), "small.toml")


def test_the_command_line_refuses_it_in_one_line_with_exit_2(tmp_path: Path) -> None:
    done = _harness(
        "run", _file(tmp_path), "--set", "estimate.target_relative_error=0", "--dry-run"
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "estimate.target_relative_error = 0" in done.stderr


def test_importance_sampling_on_a_live_run_is_refused(tmp_path: Path) -> None:
    for args in (["--estimator", "importance"], ["--set", "estimate.method='importance'"]):
        done = _harness("run", _file(tmp_path), "--mode", "live", *args, "--dry-run")
        assert done.returncode == 2
        assert "live mode estimates crudely only" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_an_importance_run_writes_its_estimate(tmp_path: Path) -> None:
    exp = _file(
        tmp_path,
        operators=[{"persona": "random_approver", "count": 3, "approve_probability": 0.01}],
    )
    out = tmp_path / "run"
    done = _harness("run", exp, "--estimator", "importance", "--jobs", "1", "--out", str(out))
    assert done.returncode == 0, done.stderr
    estimate = json.loads((out / "summary.json").read_text())["estimate"]
    slip = estimate["protected_slip_through"]
    assert slip["ci95"][0] <= 0.01 <= slip["ci95"][1]
    assert estimate["yearly_risk"]["shifts_per_year"] == 730
    assert estimate["unreliable"] is None
    assert "protected slip-through" in done.stdout and "yearly risk" in done.stdout
    assert (out / "weighted.csv").read_text().startswith("stage,replication,")
    report = _harness("report", str(out))
    assert report.returncode == 0, report.stderr
    html = (out / "report.html").read_text()
    assert "Protection (importance sampling)" in html and "effective sample size" in html


# --- coverage (slow: run with `pytest -m slow tests/test_estimate.py`) -------------------


@pytest.mark.slow
def test_the_interval_covers_a_1e5_rate_in_92_to_98_percent_of_seeds() -> None:
    truth, seeds = 1e-5, range(100)
    covered = 0
    for seed in seeds:
        low, high = weighted_slip_through(random_approvers(10**-2.5, True, seed=seed))["ci95"]
        covered += low <= truth <= high
    assert 92 <= covered <= 98, f"{covered} of {len(seeds)} intervals cover {truth}"

"""Statistics: intervals with known answers, and comparison tests that find real
differences and not null ones."""

from __future__ import annotations

import random

import pytest
from scipy.stats import binomtest

from harness.stats import (
    compare_paired,
    compare_proportions,
    design_effect,
    format_rate,
    holm,
    mean_interval,
    proportion,
    quantile,
)


def test_clopper_pearson_matches_scipy():
    for k, n in [(1, 10), (17, 400), (250, 500)]:
        ours = proportion(k, n)["ci95"]
        theirs = binomtest(k, n).proportion_ci(0.95, "exact")
        assert ours == pytest.approx([theirs.low, theirs.high])


def test_zero_events_is_an_upper_bound_by_the_rule_of_three():
    entry = proportion(0, 3000)
    assert entry["zero_events"] and entry["rate"] == 0.0
    assert entry["ci95"][0] == 0.0
    assert entry["ci95"][1] == pytest.approx(3 / 3000, rel=0.01)
    assert format_rate(entry, 3000) == "< 0.100% (95% upper bound, 0 of 3,000)"
    assert proportion(0, 0)["rate"] is None


def test_quantile_interpolates():
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert quantile([], 0.5) is None


def test_exact_test_finds_a_real_difference_and_not_a_null_one():
    assert compare_proportions(30, 1000, 5, 1000) < 0.001
    assert compare_proportions(30, 1000, 5, 1000, alternative="greater") < 0.001
    assert compare_proportions(30, 1000, 5, 1000, alternative="less") > 0.99
    assert compare_proportions(10, 1000, 10, 1000) == 1.0
    assert compare_proportions(1, 0, 1, 10) == 1.0


def test_paired_test_false_alarm_rate_is_about_nominal():
    rng = random.Random(1)
    alarms = 0
    for _ in range(200):
        shared = [rng.expovariate(1) for _ in range(30)]
        a = [s + rng.gauss(0, 0.1) for s in shared]
        b = [s + rng.gauss(0, 0.1) for s in shared]
        alarms += compare_paired(a, b) < 0.05
    assert 2 <= alarms <= 20  # about 10 of 200 expected
    shifted = [x + 0.2 for x in shared]
    assert compare_paired(shifted, shared, alternative="greater") < 0.001
    assert compare_paired(shared, list(shared)) == 1.0


def test_holm_adjusts_in_input_order():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([]) == []


def test_mean_interval_is_student_t():
    entry = mean_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    half = 2.776445 * (2.5**0.5) / (5**0.5)  # t(0.975, 4) * s / sqrt(n)
    assert entry["mean"] == 3.0
    assert entry["ci95"] == pytest.approx([3.0 - half, 3.0 + half], rel=1e-5)
    assert mean_interval([4.0]) == {"mean": 4.0, "ci95": None}
    assert mean_interval([]) == {"mean": None, "ci95": None}


def test_mean_interval_of_a_quantity_that_cannot_be_negative_stays_at_or_above_zero():
    """One 11-minute outage in thirty shifts: Student-t alone reaches below zero minutes."""
    low, high = mean_interval([11.0] + [0.0] * 29)["ci95"]
    assert low == 0.0 and high > 11.0 / 30
    assert mean_interval([-1.0, 1.0, 3.0])["ci95"][0] < 0  # a signed quantity keeps its bound


def _clustered_data(rng: random.Random, clusters: int = 40, size: int = 50) -> list:
    """Shifts whose rate is either 0 or 0.2 (a bad shift), 0.1 on average."""
    data = []
    for _ in range(clusters):
        p = 0.2 if rng.random() < 0.5 else 0.0
        data.append((sum(rng.random() < p for _ in range(size)), size))
    return data


def test_design_effect_is_one_for_independent_trials_and_large_for_clustered_ones():
    rng = random.Random(3)
    independent = [(sum(rng.random() < 0.1 for _ in range(50)), 50) for _ in range(40)]
    assert design_effect(independent) < 1.6
    assert design_effect(_clustered_data(rng)) > 3
    assert design_effect([(0, 50), (0, 50)]) == 1.0
    assert design_effect([(3, 50)]) == 1.0


def test_clustered_interval_keeps_its_coverage_where_the_plain_one_does_not():
    rng = random.Random(5)
    plain = corrected = 0
    runs = 300
    for _ in range(runs):
        data = _clustered_data(rng)
        k, n = sum(c[0] for c in data), sum(c[1] for c in data)
        low, high = proportion(k, n)["ci95"]
        plain += low <= 0.1 <= high
        low, high = proportion(k, n, design_effect=design_effect(data))["ci95"]
        corrected += low <= 0.1 <= high
    assert plain / runs < 0.8
    assert corrected / runs >= 0.9


def test_clustering_deflates_the_evidence_of_the_exact_test():
    assert compare_proportions(60, 1000, 30, 1000) < 0.01
    assert compare_proportions(60, 1000, 30, 1000, design_effect=4.0) > 0.05

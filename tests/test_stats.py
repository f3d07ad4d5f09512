"""Statistics: intervals with known answers, and comparison tests that find real
differences and not null ones."""

from __future__ import annotations

import random

import pytest
from scipy.stats import binomtest

from harness.statistics.intervals import (
    compare_estimates,
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


def test_zero_events_is_the_upper_end_of_the_two_sided_interval():
    """No events: the two-sided 95% interval's upper end, 1 - 0.025^(1/n) (about 3.7/n), a
    97.5% upper bound like the interval's upper end at any other count."""
    entry = proportion(0, 3000)
    assert entry["zero_events"] and entry["rate"] == 0.0
    assert entry["ci95"][0] == 0.0
    assert entry["ci95"][1] == pytest.approx(1 - 0.025 ** (1 / 3000))
    assert entry["ci95"][1] == pytest.approx(3.689 / 3000, rel=0.01)
    assert format_rate(entry, 3000) == "< 0.12% (97.5% upper bound, 0 of 3,000)"
    assert proportion(0, 0)["rate"] is None


def test_the_upper_bound_is_equally_strict_before_and_after_the_first_event():
    """The upper end at 0, 1 and 2 events is what scipy's two-sided exact interval gives,
    so a `max_upper_ci` gate's strictness does not jump at the first event."""
    n = 9452
    for k in (0, 1, 2):
        theirs = binomtest(k, n).proportion_ci(0.95, "exact")
        assert proportion(k, n)["ci95"] == pytest.approx([theirs.low, theirs.high])
    assert proportion(n, n)["ci95"][0] == pytest.approx(0.025 ** (1 / n))


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


def _zero_heavy_shift(rng: random.Random) -> float:
    """Minutes down in a shift: mostly none, now and then a long outage."""
    return rng.expovariate(1 / 11) if rng.random() < 0.08 else 0.0


def test_paired_test_on_zero_heavy_shifts_alarms_about_5_percent_under_no_difference():
    """Two configurations with the same distribution of minutes down: over 400 seeds the
    two-sided test at 5% alarms in 3% to 7.5% of them (binomial sd about 1.1%). Wilcoxon's
    signed-rank test, on these mostly tied pairs, alarmed in 1 of the 400."""
    alarms = 0
    for seed in range(400):
        rng = random.Random(seed)
        a = [_zero_heavy_shift(rng) for _ in range(120)]
        b = [_zero_heavy_shift(rng) for _ in range(120)]
        alarms += compare_paired(a, b) < 0.05
    assert 12 <= alarms <= 30, alarms


def test_paired_test_tests_the_mean_that_is_printed():
    """Outages made longer in a tenth of the shifts: the mean minutes down is higher while
    most pairs are equal; the test of the mean finds it."""
    rng = random.Random(3)
    base = [_zero_heavy_shift(rng) for _ in range(400)]
    worse = [x + (60.0 if rng.random() < 0.1 else 0.0) for x in base]
    assert compare_paired(worse, base, alternative="greater") < 0.001
    assert compare_paired(worse, base, alternative="less") > 0.99
    assert compare_paired([1.0, 2.0], [0.0, 0.0]) == pytest.approx(0.5)  # exact: 2 of 4 signs


def test_paired_test_is_reproducible():
    rng = random.Random(5)
    a = [_zero_heavy_shift(rng) for _ in range(2000)]
    b = [_zero_heavy_shift(rng) for _ in range(2000)]
    assert compare_paired(a, b) == compare_paired(a, b)


def test_exact_test_on_rare_slips_alarms_at_most_about_5_percent_under_no_difference():
    """Fisher's exact test is conservative: over 300 seeds of equal slip rates it alarms in
    at most 7% of them."""
    alarms = 0
    for seed in range(300):
        rng = random.Random(seed)
        k1 = sum(rng.random() < 0.004 for _ in range(3000))
        k2 = sum(rng.random() < 0.004 for _ in range(3000))
        alarms += compare_proportions(k1, 3000, k2, 3000) < 0.05
    assert alarms <= 21, alarms


def test_z_test_on_independent_estimates_alarms_about_5_percent_under_no_difference():
    """Two unbiased estimates of the same rate with their standard errors (means of skewed
    weighted terms, as importance sampling produces): alarms in 3% to 7.5% of 400 seeds."""
    alarms = 0
    for seed in range(400):
        rng = random.Random(seed)
        estimates = []
        for _ in range(2):
            terms = [rng.lognormvariate(-1, 1) * 1e-5 for _ in range(400)]
            mean = sum(terms) / len(terms)
            var = sum((t - mean) ** 2 for t in terms) / (len(terms) - 1)
            estimates.append((mean, (var / len(terms)) ** 0.5))
        alarms += compare_estimates(*estimates) < 0.05
    assert 12 <= alarms <= 30, alarms
    assert compare_estimates((1e-5, 1e-6), (1e-6, 1e-7)) < 1e-10
    assert compare_estimates((1e-5, 1e-6), (1e-6, 1e-7), alternative="less") > 0.99
    assert compare_estimates((1.0, 0.0), (2.0, 0.0)) == 1.0


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

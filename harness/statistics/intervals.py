"""Honest statistics: every rate with its 95% interval, zero events as an upper bound."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

CONFIDENCE = 0.95


def proportion(k: int, n: int, confidence: float = CONFIDENCE, design_effect: float = 1.0) -> dict:
    """Rate k/n with its two-sided Clopper-Pearson (exact) interval.

    The interval is two-sided at every count, so its upper end is always a one-sided
    (1 + confidence) / 2 upper bound (97.5% at 95%): with no events it is
    [0, 1 - (alpha/2)^(1/n)] (about 3.7/n), the same bound the formula gives at one event
    and more, so a `max_upper_ci` gate is equally strict before and after the first event.
    `zero_events` says the rate is only bounded, not zero.
    When trials cluster (see `design_effect`), the interval is computed on the effective
    sample size n / design_effect (Korn & Graubard 1998), so it widens as clustering grows.
    """
    if n == 0:
        return {"rate": None, "ci95": [0.0, 1.0], "zero_events": True, "design_effect": 1.0}
    alpha = 1.0 - confidence
    k_eff, n_eff = k / design_effect, n / design_effect
    if k == 0:
        low, high = 0.0, 1.0 - (alpha / 2) ** (1.0 / n)
    elif k == n:
        low, high = (alpha / 2) ** (1.0 / n), 1.0
    else:
        from scipy.stats import beta  # here, so that the command line starts at once

        low = float(beta.ppf(alpha / 2, k_eff, n_eff - k_eff + 1))
        high = float(beta.ppf(1 - alpha / 2, k_eff + 1, n_eff - k_eff))
    return {
        "rate": k / n,
        "ci95": [low, high],
        "zero_events": k == 0,
        "design_effect": design_effect,
    }


def design_effect(clusters: Sequence[tuple[int, int]]) -> float:
    """How much more a pooled rate varies than if its trials were independent (at least 1).

    Trials cluster in shifts: one departing reviewer's bad hour produces several slips at
    once. This is the cluster-robust (ratio estimator) variance of the pooled rate over the
    binomial variance, with clusters given as (events, trials). It is 1 when it cannot be
    estimated: fewer than two clusters, or no events or nothing but events.
    """
    events = sum(k for k, _ in clusters)
    trials = sum(n for _, n in clusters)
    m = len(clusters)
    if m < 2 or events == 0 or events == trials:
        return 1.0
    rate = events / trials
    clustered = m / (m - 1) * sum((k - rate * n) ** 2 for k, n in clusters) / trials**2
    independent = rate * (1 - rate) / trials
    return max(1.0, clustered / independent)


def quantile(sorted_values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated quantile of already sorted values (None when empty)."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def describe(values: Sequence[float]) -> dict:
    """count, mean, p50, p95 and max of a sample (None where it has no values)."""
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "mean": sum(ordered) / len(ordered) if ordered else None,
        "p50": quantile(ordered, 0.5),
        "p95": quantile(ordered, 0.95),
        "max": ordered[-1] if ordered else None,
    }


def mean_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> dict:
    """Mean of a sample with its Student-t interval (None where the sample is too small).

    Used for per-shift quantities (minutes down, escalations): replications are independent
    shifts, so their mean is close to normal at the sample sizes experiments use. A sample
    that cannot be negative gets no negative lower bound (one outage in many shifts would).
    """
    n = len(values)
    if n == 0:
        return {"mean": None, "ci95": None}
    mean = sum(values) / n
    if n == 1:
        return {"mean": mean, "ci95": None}
    sd = math.sqrt(sum((x - mean) ** 2 for x in values) / (n - 1))
    from scipy.stats import t

    half = float(t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    floor = 0.0 if min(values) >= 0 else -math.inf
    return {"mean": mean, "ci95": [max(mean - half, floor), mean + half]}


def format_rate(entry: dict, trials: int) -> str:
    """'1.23% [0.98%, 1.51%]', or '< 0.039% (97.5% upper bound, 0 of 9,412)' for no events
    (the upper end of the two-sided 95% interval)."""
    if entry["rate"] is None:
        return "no trials"
    high = entry["ci95"][1]
    if entry["zero_events"]:
        return f"< {percent(high)} (97.5% upper bound, 0 of {trials:,})"
    return f"{percent(entry['rate'])} [{percent(entry['ci95'][0])}, {percent(high)}]"


def percent(x: float) -> str:
    """A share as a percentage with the digits that matter: '1.8%', '0.052%'."""
    value = 100 * x
    if value == 0:
        return "0%"
    digits = max(2, 1 - math.floor(math.log10(abs(value)))) if value < 10 else 1
    return f"{value:.{digits}f}%"


# --- comparisons -------------------------------------------------------------------------

Alternative = str  # "two-sided" | "greater" | "less": is the first sample's value greater?


def compare_proportions(
    k1: int,
    n1: int,
    k2: int,
    n2: int,
    alternative: Alternative = "two-sided",
    design_effect: float = 1.0,
) -> float:
    """p-value of Fisher's exact test that rate k1/n1 differs from k2/n2 ('greater': that
    the first is higher). 1.0 when either side has no trials.

    With clustered trials, counts are first divided by the design effect (a Rao-Scott
    style correction), so clustering does not pass for evidence."""
    if n1 == 0 or n2 == 0:
        return 1.0
    if design_effect > 1.0:
        k1, n1, k2, n2 = (round(x / design_effect) for x in (k1, n1, k2, n2))
        n1, n2 = max(n1, k1, 1), max(n2, k2, 1)
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    from scipy.stats import fisher_exact

    return float(fisher_exact(table, alternative=alternative).pvalue)


PERMUTATIONS = 20_000
"""Random sign flips of a paired permutation test, when enumerating them all is too many."""


def compare_paired(
    first: Sequence[float], second: Sequence[float], alternative: Alternative = "two-sided"
) -> float:
    """p-value of a paired permutation (sign-flip) test of the mean per-replication
    difference (replications share seeds, so they pair). 1.0 when every pair is equal.

    It tests the mean, which is what comparisons print (minutes down per shift), and needs
    no shape: per-shift differences are mostly zero with a few large ones, where a t-test's
    normal approximation is poor at small samples and Wilcoxon's signed-rank test answers a
    question about the pseudo-median instead. Under no difference each difference is as
    likely with either sign; the p-value counts sign assignments whose mean is at least as
    extreme, all 2^m of them when the m non-zero differences are few, else `PERMUTATIONS`
    random ones from a fixed seed (so the same data give the same p-value), counted with the
    observed assignment included so the p-value is never 0."""
    if len(first) != len(second):
        raise ValueError("paired samples need the same replications")
    nonzero = [a - b for a, b in zip(first, second, strict=True) if a != b]
    if not nonzero:
        return 1.0
    import numpy as np

    d = np.asarray(nonzero)
    observed = float(d.sum())
    tolerance = 1e-9 * float(np.abs(d).sum())
    exact = 2 ** len(d) <= PERMUTATIONS
    hits = total = 0
    for signs in _sign_blocks(len(d), exact):
        sums = signs @ d
        if alternative == "greater":
            extreme = sums >= observed - tolerance
        elif alternative == "less":
            extreme = sums <= observed + tolerance
        else:
            extreme = np.abs(sums) >= abs(observed) - tolerance
        hits += int(extreme.sum())
        total += len(sums)
    return hits / total if exact else (hits + 1) / (total + 1)


def _sign_blocks(m: int, exact: bool) -> Iterator:
    """Sign assignments of m differences as blocks of rows of +-1: all 2^m of them, or
    `PERMUTATIONS` random ones from a fixed seed, a few million signs per block."""
    import numpy as np

    if exact:
        bits = (np.arange(2**m)[:, None] >> np.arange(m)) & 1
        yield 1.0 - 2.0 * bits
        return
    rng = np.random.default_rng(0)
    rows = max(1, 2_000_000 // m)
    for start in range(0, PERMUTATIONS, rows):
        yield rng.choice(np.array([-1.0, 1.0]), size=(min(rows, PERMUTATIONS - start), m))


def compare_estimates(
    first: tuple[float, float], second: tuple[float, float], alternative: Alternative = "two-sided"
) -> float:
    """p-value of a z-test that two independent estimates differ, each given as (estimate,
    standard error): the difference over sqrt(se1^2 + se2^2) against the normal.

    For weighted (importance-sampling) estimates, whose replications carry unequal weights,
    so counts cannot go into an exact test. 1.0 when neither has any error."""
    (a, se_a), (b, se_b) = first, second
    spread = math.hypot(se_a, se_b)
    if spread == 0:
        return 1.0
    from scipy.stats import norm

    z = (a - b) / spread
    if alternative == "greater":
        return float(norm.sf(z))
    if alternative == "less":
        return float(norm.cdf(z))
    return float(2 * norm.sf(abs(z)))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order (family-wise error control)."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted = [1.0] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted

"""Estimates from weighted replications: the value, its 95% interval, how far to trust it.

Each replication drawn under a tilt carries its likelihood ratio W (the product of p/q and
(1-p)/(1-q) over its tilted draws). For any per-shift quantity X, the mean of W X is an
unbiased estimate of X's mean under the untilted model; its interval is the normal one
from the sample variance of W X. Slip-through per protected trial is the ratio of expected
slips to expected protected trials per shift; trials are common, so their mean comes from
untilted replications and the two errors combine by the delta method.

The interval is only as good as the sample behind it: when a few replications carry most
of the weighted total, the sample variance underestimates the true one. The *effective
sample size* of an estimate, (sum W X)^2 / sum (W X)^2, says how many equally weighted
replications it rests on (replications without the event add nothing to it, however large
their weight); below `MIN_EFFECTIVE_SIZE` the estimate is marked unreliable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

Z95 = 1.959963984540054  # the normal quantile of a two-sided 95% interval
MIN_EFFECTIVE_SIZE = 30


class Weighted(NamedTuple):
    """One replication's outcome and its log likelihood ratio (0 when untilted)."""

    index: int
    slips: int
    trials: int
    exposure: float  # minutes protected accounts spent down in the shift
    log_weight: float
    draws: list[tuple[str, float, bool]] | None = None  # tiltable draws, when recorded


def weighted_values(sample: Sequence[Weighted], value: str) -> list[float]:
    """W X for each replication, X being `value` ('slips', 'incident' or 'exposure')."""
    out = []
    for r in sample:
        x = float(r.slips > 0) if value == "incident" else float(getattr(r, value))
        out.append(x * math.exp(r.log_weight) if x else 0.0)
    return out


def mean_estimate(terms: Sequence[float]) -> dict:
    """The mean of weighted terms with its normal interval (clipped at 0), relative
    error (half-width over the estimate) and effective sample size."""
    n = len(terms)
    if n == 0:
        return _empty()
    mean = sum(terms) / n
    variance = sum((x - mean) ** 2 for x in terms) / (n - 1) if n > 1 else 0.0
    se = math.sqrt(variance / n)
    return _estimate(mean, se, _effective(terms))


def ratio_estimate(numerator: dict, trials: Sequence[int]) -> dict:
    """`numerator`'s mean (from `mean_estimate`) per mean of untilted `trials`."""
    n = len(trials)
    if n == 0 or not sum(trials) or numerator["estimate"] is None:
        return _empty()
    den = sum(trials) / n
    den_var = sum((x - den) ** 2 for x in trials) / (n - 1) if n > 1 else 0.0
    num, num_se = numerator["estimate"], numerator["standard_error"]
    rate = num / den
    relative_variance = (num_se / num) ** 2 + den_var / n / den**2 if num else 0.0
    return _estimate(rate, rate * math.sqrt(relative_variance), numerator["effective_sample_size"])


def at_least_once(p: float, times: int) -> float:
    """The probability that an event of probability p per trial happens in `times` trials."""
    return -math.expm1(times * math.log1p(-min(p, 1.0))) if p < 1.0 else 1.0


def yearly_risk(incident: dict, shifts: int) -> dict:
    """At least one slip in `shifts` shifts, from the shift incident probability's estimate
    and interval (the map is increasing, so the interval maps end to end)."""
    if incident["estimate"] is None:
        return {"shifts_per_year": shifts, "probability": None, "ci95": None}
    low, high = incident["ci95"]
    return {
        "shifts_per_year": shifts,
        "probability": at_least_once(incident["estimate"], shifts),
        "ci95": [at_least_once(low, shifts), at_least_once(high, shifts)],
    }


def _effective(terms: Sequence[float]) -> float:
    total = sum(terms)
    squares = sum(x * x for x in terms)
    return total * total / squares if squares else 0.0


def _estimate(value: float, se: float, effective: float) -> dict:
    half = Z95 * se
    return {
        "estimate": value,
        "ci95": [max(0.0, value - half), value + half],
        "standard_error": se,
        "relative_error": half / value if value else None,
        "effective_sample_size": effective,
        "reliable": bool(value) and effective >= MIN_EFFECTIVE_SIZE,
    }


def _empty() -> dict:
    return {
        "estimate": None,
        "ci95": None,
        "standard_error": None,
        "relative_error": None,
        "effective_sample_size": 0.0,
        "reliable": False,
    }

"""Honest statistics: every rate with its 95% interval, zero events as an upper bound."""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy.stats import beta

CONFIDENCE = 0.95


def proportion(k: int, n: int, confidence: float = CONFIDENCE) -> dict:
    """Rate k/n with its Clopper-Pearson (exact) interval.

    With no events the interval is the one-sided upper bound [0, 1 - alpha^(1/n)] (about
    3/n: the "rule of three"), and `zero_events` says the rate is only bounded, not zero.
    """
    if n == 0:
        return {"rate": None, "ci95": [0.0, 1.0], "zero_events": True}
    alpha = 1.0 - confidence
    if k == 0:
        low, high = 0.0, 1.0 - alpha ** (1.0 / n)
    elif k == n:
        low, high = alpha ** (1.0 / n), 1.0
    else:
        low = float(beta.ppf(alpha / 2, k, n - k + 1))
        high = float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return {"rate": k / n, "ci95": [low, high], "zero_events": k == 0}


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


def format_rate(entry: dict, trials: int) -> str:
    """'1.23% [0.98%, 1.51%]', or '< 0.032% (95% upper bound, 0 of 9,412)' for no events."""
    if entry["rate"] is None:
        return "no trials"
    high = entry["ci95"][1]
    if entry["zero_events"]:
        return f"< {_pct(high)} (95% upper bound, 0 of {trials:,})"
    return f"{_pct(entry['rate'])} [{_pct(entry['ci95'][0])}, {_pct(high)}]"


def _pct(x: float) -> str:
    value = 100 * x
    if value == 0:
        return "0%"
    digits = max(2, 1 - math.floor(math.log10(abs(value)))) if value < 10 else 1
    return f"{value:.{digits}f}%"

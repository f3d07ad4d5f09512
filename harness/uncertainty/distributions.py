"""The distributions an uncertain parameter may take, each mapping a point u in (0, 1) to a
value by its quantile function, so any sampling design on the unit cube (Latin hypercube,
Sobol' points, Saltelli or Morris designs) becomes parameter sets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

LOGNORMAL_TAILS = 0.001
"""A lognormal is cut at its 0.1st and 99.9th percentiles: a probability cannot exceed 1,
and THERP's error factor describes the body of the distribution, not its far tail."""
MAX_CHOICES = 100
Z95 = NormalDist().inv_cdf(0.95)


@dataclass(frozen=True)
class Distribution:
    """An uncertain value: `kind` (beta, uniform, lognormal, loguniform, choice) and its
    parameters as the file wrote them."""

    kind: str
    params: dict[str, Any]

    def value(self, u: float) -> Any:
        """The value at quantile `u` (0 <= u < 1)."""
        p = self.params
        if self.kind == "choice":
            options = p["choice"]
            return options[min(int(u * len(options)), len(options) - 1)]
        if self.kind == "uniform":
            return p["low"] + u * (p["high"] - p["low"])
        if self.kind == "loguniform":
            return math.exp(math.log(p["low"]) + u * math.log(p["high"] / p["low"]))
        if self.kind == "lognormal":
            u = LOGNORMAL_TAILS + u * (1 - 2 * LOGNORMAL_TAILS)
            sigma = math.log(p["error_factor"]) / Z95
            return p["median"] * math.exp(sigma * NormalDist().inv_cdf(u))
        from scipy.special import betaincinv  # here, so that the command line starts at once

        return float(betaincinv(p["a"], p["b"], u))

    def ends(self) -> tuple[Any, ...]:
        """The values at the ends of the support (every option of a choice)."""
        if self.kind == "choice":
            return tuple(self.params["choice"])
        return (self.value(0.0), self.value(1.0))

    def median(self) -> Any:
        return self.value(0.5)

    def describe(self) -> str:
        """How the file would write it: 'uniform(low=0.05, high=0.33)'."""
        if self.kind == "choice":
            return f"choice{self.params['choice']!r}"
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.kind}({args})"


REQUIRED = {
    "beta": ("a", "b"),
    "uniform": ("low", "high"),
    "lognormal": ("median", "error_factor"),
    "loguniform": ("low", "high"),
}


def parse(table: dict, key: str) -> Distribution:
    """A distribution table as a Distribution; ValueError says what is wrong, in a phrase
    that follows the key."""
    if "choice" in table:
        return _choice(table)
    kind = table["dist"]
    if kind not in REQUIRED:
        raise ValueError(f"unknown distribution {kind!r}; one of {', '.join(REQUIRED)}, or choice")
    names = REQUIRED[kind]
    extra = [k for k in table if k not in (*names, "dist")]
    if extra:
        raise ValueError(f"{kind} takes {' and '.join(names)}, not {extra[0]!r}")
    params = {}
    for name in names:
        value = table.get(name)
        if value is None:
            raise ValueError(f"{kind} needs {' and '.join(names)}; {name} is missing")
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if not numeric or not math.isfinite(value):
            raise ValueError(f"{kind}: {name} must be a finite number, got {value!r}")
        params[name] = float(value)
    _check_range(kind, params)
    return Distribution(kind, params)


def _choice(table: dict) -> Distribution:
    options = table["choice"]
    if len(table) != 1:
        other = next(k for k in table if k != "choice")
        raise ValueError(f"a choice takes only the list of options, not {other!r}")
    if not isinstance(options, list) or not 1 <= len(options) <= MAX_CHOICES:
        raise ValueError(f"choice must be a list of 1 to {MAX_CHOICES} options")
    return Distribution("choice", {"choice": options})


def _check_range(kind: str, p: dict[str, float]) -> None:
    """Parameters each distribution needs in range."""
    if kind == "beta" and not (p["a"] > 0 and p["b"] > 0):
        raise ValueError("beta needs a > 0 and b > 0")
    if kind in ("uniform", "loguniform") and not p["low"] < p["high"]:
        raise ValueError(f"{kind} needs low < high")
    if kind == "loguniform" and not p["low"] > 0:
        raise ValueError("loguniform needs low > 0")
    if kind == "lognormal" and not (p["median"] > 0 and p["error_factor"] > 1):
        raise ValueError("lognormal needs median > 0 and error_factor > 1")

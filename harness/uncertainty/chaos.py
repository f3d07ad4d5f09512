"""Sobol' indices from a polynomial chaos expansion fitted to one Latin hypercube of
parameter sets: a cheaper estimator than Saltelli's design when each set is noisy.

Each parameter enters through its quantile u in [0, 1], independent and uniform, so the
orthonormal basis is products of shifted Legendre polynomials. The rates of all sets are
regressed on every product of total degree up to `DEGREE` (least squares); the expansion's
variance is the sum of its squared coefficients, and a parameter's first-order index is the
share of the terms in it alone, its total index the share of the terms it takes part in.
The regression averages the inner loop's sampling noise out over all sets, where Saltelli's
estimator pays for it in every difference, and one design of N sets replaces N x (k + 2).
The indices are those of the fitted mean rate; `explained` says how much of the set-to-set
variance the fit carries (the rest is sampling noise and what the degree cannot follow).
Intervals: 95%, from refitting on sets resampled with replacement."""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

import numpy as np
from numpy.polynomial import legendre

DEGREE = 3
BOOTSTRAP = 300
Z = NormalDist().inv_cdf(0.975)


def multi_indices(dimensions: int, degree: int = DEGREE) -> np.ndarray:
    """Every exponent tuple of total degree 1..degree (the constant term left out)."""
    rows = [
        a for a in itertools.product(range(degree + 1), repeat=dimensions) if 0 < sum(a) <= degree
    ]
    return np.array(rows, dtype=int).reshape(len(rows), dimensions)


def basis(unit: np.ndarray, exponents: np.ndarray) -> np.ndarray:
    """The design matrix: a column of ones, then each product of orthonormal shifted
    Legendre polynomials, at every point."""
    x = 2.0 * unit - 1.0
    degree = int(exponents.max(initial=0))
    columns = np.empty((unit.shape[1], degree + 1, len(unit)))
    for n in range(degree + 1):
        coefficients = np.zeros(n + 1)
        coefficients[n] = math.sqrt(2 * n + 1)
        columns[:, n, :] = legendre.legval(x, coefficients).T
    terms = np.ones((len(unit), len(exponents)))
    for j, power in enumerate(exponents.T):
        terms *= columns[j, power, :].T
    return np.hstack([np.ones((len(unit), 1)), terms])


def _weighted_fit(design: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Least squares with a weight per row, by the normal equations. einsum, not a matrix
    product: a threaded BLAS on a loaded machine is slower than one core by a factor of
    ten or more, and these matrices are small."""
    gram = np.einsum("mi,m,mj->ij", design, weights, design, optimize=False)
    return np.linalg.lstsq(gram, np.einsum("mi,m,m->i", design, weights, y), rcond=None)[0]


def _shares(coefficients: np.ndarray, exponents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First-order and total indices of every parameter from the expansion's coefficients."""
    power = coefficients[1:] ** 2
    total = power.sum()
    if total == 0:
        return np.zeros(exponents.shape[1]), np.zeros(exponents.shape[1])
    present = exponents > 0
    alone = present & (present.sum(axis=1, keepdims=True) == 1)
    return (power @ alone) / total, (power @ present) / total


def indices(unit: np.ndarray, y: np.ndarray, seed: int) -> dict[str, np.ndarray | float]:
    """S1, ST and their 95% half-widths per parameter, and the share of the rates'
    variance the expansion explains."""
    exponents = multi_indices(unit.shape[1])
    design = basis(unit, exponents)
    if len(unit) <= design.shape[1]:
        raise ValueError(
            f"{len(unit)} parameter sets for {design.shape[1]} terms: give more samples"
        )
    fit = _weighted_fit(design, y, np.ones(len(y)))
    s1, st = _shares(fit, exponents)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(BOOTSTRAP):
        # a resample with replacement, as each set's count
        weights = rng.multinomial(len(y), np.full(len(y), 1 / len(y))).astype(float)
        draws.append(_shares(_weighted_fit(design, y, weights), exponents))
    spread = np.array(draws).std(axis=0)
    residual = y - design @ fit
    return {
        "S1": s1,
        "S1_conf": Z * spread[0],
        "ST": st,
        "ST_conf": Z * spread[1],
        "explained": float(1 - residual.var() / y.var()),
    }

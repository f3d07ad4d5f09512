"""Points on the unit cube for the outer loop, and the parameter sets they stand for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import BadInput
from .spec import Parameter

SAMPLINGS = ("lhs", "sobol")


def check_samples(samples: int, sampling: str, flag: str = "--samples") -> None:
    """Sobol' points keep their balance only in powers of two."""
    if sampling == "sobol" and samples & (samples - 1):
        raise BadInput(
            f"{flag} {samples}: Sobol' points come in powers of two "
            f"(e.g. {1 << (samples.bit_length() - 1)} or {1 << samples.bit_length()})"
        )


def unit_points(samples: int, dimensions: int, sampling: str, seed: int) -> np.ndarray:
    """`samples` points in [0, 1)^dimensions: a Latin hypercube (every parameter's range cut
    in `samples` strata, each hit once) or scrambled Sobol' points."""
    from scipy.stats import qmc

    if sampling == "sobol":
        return qmc.Sobol(dimensions, scramble=True, rng=seed).random(samples)
    return qmc.LatinHypercube(dimensions, rng=seed).random(samples)


def value_sets(parameters: Sequence[Parameter], unit: np.ndarray) -> list[list[Any]]:
    """Each point's parameter values, by each distribution's quantile function."""
    return [
        [p.distribution.value(float(u)) for p, u in zip(parameters, row, strict=True)]
        for row in unit
    ]

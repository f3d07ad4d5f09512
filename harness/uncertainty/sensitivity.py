"""Global sensitivity of the rates to the uncertain parameters, with SALib.

Designs are drawn on the unit cube and mapped through each distribution's quantile function,
so the indices are those of the parameters as distributed. Sobol' (Saltelli's design,
first-order and total indices, N x (k + 2) parameter sets) apportions the variance; Morris
screening (N x (k + 1) sets) ranks many parameters more cheaply."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import BadInput
from .evaluate import RATES, evaluate
from .sampling import value_sets
from .spec import Study

METHODS = ("sobol", "morris", "pce")
MORRIS_LEVELS = 4


def evaluations(method: str, dimensions: int, samples: int) -> int:
    """How many parameter sets the method runs for `samples` base samples."""
    return samples * {"sobol": dimensions + 2, "morris": dimensions + 1}.get(method, 1)


def check_design(method: str, dimensions: int, samples: int) -> None:
    """Sobol' points come in powers of two; a chaos expansion needs sets to spare."""
    if method == "sobol":
        from .sampling import check_samples

        check_samples(samples, "sobol")
    if method == "pce":
        from .chaos import multi_indices

        terms = len(multi_indices(dimensions)) + 1
        if samples < 2 * terms:
            raise BadInput(
                f"--samples {samples}: pce fits {terms} terms for {dimensions} uncertain "
                f"parameter{'s' if dimensions > 1 else ''}; give at least {2 * terms} "
                "parameter sets"
            )


def problem(names: Sequence[str]) -> dict:
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def design(method: str, dimensions: int, samples: int, seed: int) -> np.ndarray:
    """The unit-cube points the method needs."""
    spec = problem([f"x{i}" for i in range(dimensions)])
    if method == "pce":
        from scipy.stats import qmc

        return qmc.LatinHypercube(dimensions, rng=seed).random(samples)
    if method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(spec, samples, calc_second_order=False, seed=seed)
    from SALib.sample import morris

    return morris.sample(spec, samples, num_levels=MORRIS_LEVELS, seed=seed)


def analyze(
    method: str, names: Sequence[str], unit: np.ndarray, y: np.ndarray, seed: int
) -> tuple[list[dict], str | None, float | None]:
    """One row of indices per parameter, most influential first, a note when the metric did
    not vary (no index can be computed), and for pce the share of the variance between
    parameter sets the expansion explains."""
    if float(np.var(y)) == 0.0:
        rows = [{"parameter": n, **dict.fromkeys(_keys(method))} for n in names]
        return (
            _ranked(rows, method),
            f"the rate was {y[0]:g} in every parameter set, so no index can be computed: "
            "give each set more replications (--replications)",
            None,
        )
    spec = problem(names)
    if method == "pce":
        from .chaos import indices

        found = indices(unit, y, seed)
    elif method == "sobol":
        from SALib.analyze import sobol

        found = sobol.analyze(spec, y, calc_second_order=False, conf_level=0.95, seed=seed)
    else:
        from SALib.analyze import morris

        found = morris.analyze(spec, unit, y, conf_level=0.95, num_levels=MORRIS_LEVELS, seed=seed)
    rows = [
        {"parameter": n, **{k: _finite(found[k][i]) for k in _keys(method)}}
        for i, n in enumerate(names)
    ]
    explained = float(found["explained"]) if method == "pce" else None
    return _ranked(rows, method), None, explained


def _keys(method: str) -> tuple[str, ...]:
    if method != "morris":
        return ("S1", "S1_conf", "ST", "ST_conf")
    return ("mu_star", "mu_star_conf", "sigma")


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _ranked(rows: list[dict], method: str) -> list[dict]:
    key = "mu_star" if method == "morris" else "ST"
    rows = sorted(rows, key=lambda r: -(r[key] or 0.0))
    return [{"rank": i + 1, **r} for i, r in enumerate(rows)]


def run_study(
    study: Study,
    *,
    method: str,
    samples: int,
    replications: int,
    jobs: int | None = None,
    on_progress: Callable[[int], None] = lambda n: None,
) -> dict:
    """Evaluate the design and compute every rate's indices; the study as sensitivity.json
    records it (with each set's values and rates, for the charts)."""
    seed = study.median.experiment.seed
    names = [p.key for p in study.parameters]
    unit = design(method, len(names), samples, seed % 2**32)
    sets = value_sets(study.parameters, np.minimum(unit, np.nextafter(1.0, 0.0)))
    outcomes = evaluate(
        [study.experiment(v) for v in sets],
        replications,
        jobs=jobs,
        on_progress=on_progress,
        common_seeds=method != "pce",  # a regression averages independent noise out
    )
    metrics = {}
    for rate in RATES:
        y = np.array([o[rate][0] for o in outcomes])
        indices, note, explained = analyze(method, names, unit, y, seed % 2**32)
        metrics[rate] = {"variance": float(np.var(y)), "indices": indices, "note": note}
        if explained is not None:
            metrics[rate]["explained"] = explained
    return {
        "experiment": study.median.experiment.name,
        "method": method,
        "samples": samples,
        "evaluations": len(sets),
        "replications_per_set": replications,
        "seeds": "independent" if method == "pce" else "common",
        "seed": seed,
        "parameters": [
            {
                "key": p.key,
                "distribution": p.distribution.describe(),
                **(
                    {"options": p.distribution.params["choice"]}
                    if p.distribution.kind == "choice"
                    else {}
                ),
            }
            for p in study.parameters
        ],
        "metrics": metrics,
        "sets": [
            {"values": v, "rates": {rate: o[rate][0] for rate in RATES}}
            for v, o in zip(sets, outcomes, strict=True)
        ],
    }


def csv_rows(result: dict) -> tuple[list[str], list[list]]:
    """sensitivity.csv: one row per metric and parameter, in rank order."""
    keys = _keys(result["method"])
    columns = ["metric", "rank", "parameter", *keys]
    rows = [
        [rate, r["rank"], r["parameter"], *(r[k] for k in keys)]
        for rate, entry in result["metrics"].items()
        for r in entry["indices"]
    ]
    return columns, rows

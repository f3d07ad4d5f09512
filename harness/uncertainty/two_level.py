"""`harness run` with uncertain parameters: the experiment at the median parameters (the
usual run folder, with its sampling intervals), then parameter sets drawn over what is not
known, each run for the same replications. summary.json gains an `uncertainty` section."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

from ..pipeline.run import run_sim
from ..run_folder import RunFolder
from ..statistics.intervals import quantile
from ..verdicts.gates import evaluate as evaluate_gates
from .evaluate import RATES, Outcome, evaluate
from .sampling import unit_points, value_sets
from .spec import Study

BAND = (0.05, 0.95)


def run_two_level(
    study: Study,
    folder: RunFolder,
    *,
    samples: int,
    sampling: str,
    jobs: int | None = None,
    keep_histories: int = 1,
    on_progress: Callable[[str, int], None] = lambda stage, n: None,
    draw_keys: Sequence[str] | None = None,
    configuration: str | None = None,
) -> dict:
    """Run the median experiment, then `samples` parameter sets; the summary with both.
    `draw_keys`: the keys the points are drawn for (a comparison draws the same points for
    every configuration, over the keys uncertain in any); by default the study's own."""
    summary = run_sim(
        study.median,
        folder,
        jobs=jobs,
        keep_histories=keep_histories,
        on_progress=lambda n: on_progress("median parameters", n),
        configuration=configuration,
    )
    if summary["status"] != "completed":
        return summary
    seed = study.median.experiment.seed
    own = [p.key for p in study.parameters]
    keys = own if draw_keys is None else list(draw_keys)
    unit = unit_points(samples, len(keys), sampling, seed)[:, [keys.index(k) for k in own]]
    sets = value_sets(study.parameters, unit)
    replications = study.median.experiment.replications
    outcomes = evaluate(
        [study.experiment(values) for values in sets],
        replications,
        jobs=jobs,
        on_progress=lambda n: on_progress("parameter sets", n),
    )
    write_sets(folder, study, sets, outcomes)
    summary["uncertainty"] = {
        "samples": samples,
        "sampling": sampling,
        "replications_per_set": replications,
        "parameters": parameter_list(study),
        "metrics": {rate: band(rate, outcomes, summary["metrics"]) for rate in RATES},
        **({"drawn_for": keys} if keys != own else {}),
    }
    bands = summary["uncertainty"]["metrics"]
    summary["gates"] = [
        g.as_dict() for g in evaluate_gates(study.median.gates, summary["metrics"], bands)
    ]
    folder.write_json("summary.json", summary)
    return summary


def parameter_list(study: Study) -> list[dict]:
    return [
        {"key": p.key, "distribution": p.distribution.describe(), "median": p.distribution.median()}
        for p in study.parameters
    ]


def band(rate: str, outcomes: Sequence[Outcome], metrics: dict) -> dict:
    """The rate at the median parameters with its sampling interval, and its band over
    parameter sets with the share of the band's variance that is sampling noise."""
    values = sorted(o[rate][0] for o in outcomes)
    spread = statistics.pvariance(values) if len(values) > 1 else 0.0
    noise = statistics.fmean(o[rate][1] for o in outcomes)
    name = rate.rsplit(".", 1)[0]
    return {
        "median_parameters": {"rate": metrics[name]["rate"], "ci95": metrics[name]["ci95"]},
        "band": {
            "p5": quantile(values, BAND[0]),
            "p50": quantile(values, 0.5),
            "p95": quantile(values, BAND[1]),
            "mean": statistics.fmean(values),
        },
        "noise_share": min(1.0, noise / spread) if spread else (1.0 if noise else 0.0),
    }


def write_sets(
    folder: RunFolder, study: Study, sets: Sequence[Sequence], outcomes: Sequence[Outcome]
) -> None:
    """parameter_sets.csv: each set's values and rates, for plotting or a second look."""
    columns = ["set", *(p.key for p in study.parameters), *RATES]
    rows = [
        [i, *values, *(o[rate][0] for rate in RATES)]
        for i, (values, o) in enumerate(zip(sets, outcomes, strict=True))
    ]
    folder.write_table("parameter_sets.csv", columns, rows)

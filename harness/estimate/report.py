"""An importance-sampling run's result: `summary.json`'s `estimate`, its run folder and
what the terminal shows."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from ..experiment.model import Experiment
from ..run_folder import RunFolder, manifest
from ..run_folder.layout import WEIGHTED
from ..statistics.intervals import percent
from ..world.environment import Environment
from .gates import refuse_unweighted, weighted_verdicts
from .importance import ImportanceRun, estimate_importance, slip_through
from .weighted import MIN_EFFECTIVE_SIZE, mean_estimate, weighted_values, yearly_risk

WEIGHTED_COLUMNS = ("stage", "replication", "slips", "trials", "exposure_minutes", "log_weight")


def estimate_section(experiment: Experiment, run: ImportanceRun) -> dict:
    """The weighted estimates with their intervals, how they were reached and whether they
    can be trusted."""
    slip = slip_through(run)
    incident = mean_estimate(weighted_values(run.sample, "incident"))
    return {
        "method": "importance",
        "target_relative_error": experiment.estimate.target_relative_error,
        "stopped": run.stopped,
        "seconds": round(run.seconds, 3),
        "replications": {
            "untilted": len(run.untilted),
            "pilot": sum(r.replications for r in run.pilot),
            "main": run.main,
            "in_estimate": len(run.sample),
        },
        "tilt": run.tilt.as_dict(),
        "pilot": [
            {
                "tilt": r.tilt.as_dict(),
                "replications": r.replications,
                "slipped": r.slipped,
                "in_estimate": r.kept,
            }
            for r in run.pilot
        ],
        "protected_slip_through": slip,
        "shift_incident_probability": incident,
        "exposure_minutes_per_shift": mean_estimate(weighted_values(run.sample, "exposure")),
        "yearly_risk": yearly_risk(incident, experiment.experiment.shifts_per_year),
        "untilted": {
            "replications": len(run.untilted),
            "trials": sum(r.trials for r in run.untilted),
            "slips": sum(r.slips for r in run.untilted),
        },
        "unreliable": unreliable(slip, len(run.sample)),
    }


def unreliable(slip: dict, replications: int) -> str | None:
    """Why the slip-through cannot be trusted, in one line, or None when it can."""
    if not replications:
        return "no tilted replication finished"
    if not slip["estimate"]:
        return (
            f"no slip in {replications:,} tilted replications: the tilt found no way past, "
            "so this is neither an estimate nor a bound"
        )
    if slip["effective_sample_size"] < MIN_EFFECTIVE_SIZE:
        return (
            f"weights degenerate: the slip-through rests on an effective "
            f"{slip['effective_sample_size']:.1f} of {replications:,} replications (fewer "
            f"than {MIN_EFFECTIVE_SIZE}); its interval cannot be trusted"
        )
    return None


def run_importance(
    experiment: Experiment,
    folder: RunFolder,
    *,
    jobs: int | None = None,
    on_progress: Callable[[str, int], None] = lambda stage, n: None,
    configuration: str | None = None,
) -> dict:
    """Run the stages and write the folder: the resolved experiment, the manifest, every
    replication's weight (weighted.csv) and summary.json; returns the summary."""
    refuse_unweighted(experiment)
    folder.write_text("experiment.toml", experiment.to_toml())
    about = manifest(
        mode="sim",
        estimator="importance",
        seed=experiment.experiment.seed,
        jobs=jobs,
        status="running",
        **({"configuration": configuration} if configuration else {}),
    )
    folder.write_json("manifest.json", about)
    run = estimate_importance(Environment.build(experiment), jobs, on_progress)
    status = "interrupted" if run.stopped == "interrupted" else "completed"
    folder.write_table(WEIGHTED, WEIGHTED_COLUMNS, _weighted_rows(run))
    summary = {
        "experiment": experiment.experiment.name,
        "mode": "sim",
        "estimator": "importance",
        "status": status,
        "seed": experiment.experiment.seed,
        "replications": {
            "requested": experiment.estimate.max_replications,
            "completed": run.replications,
        },
        "estimate": estimate_section(experiment, run),
        "gates": [],
    }
    if status == "completed":
        verdicts = weighted_verdicts(experiment.gates, summary)
        summary["gates"] = [verdicts[i].result.as_dict() for i in sorted(verdicts)]
    folder.write_json("summary.json", summary)
    about.update(status=status, finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    folder.write_json("manifest.json", about)
    return summary


def _weighted_rows(run: ImportanceRun) -> list[list]:
    rows = [
        ["untilted", r.index, r.slips, r.trials, round(r.exposure, 6), 0.0] for r in run.untilted
    ]
    rows += [
        ["tilted", r.index, r.slips, r.trials, round(r.exposure, 6), r.log_weight]
        for r in run.sample
    ]
    return rows


def share(x: float | None, like: float | None = None) -> str:
    """A rate as a percentage, or in powers of ten when it (or `like`, the estimate it goes
    with) is below 0.01%."""
    if x is None:
        return "-"
    scale = x if like is None else like
    return percent(x) if scale == 0 or scale >= 1e-4 else f"{x:.2e}"


def _interval(entry: dict, show: Callable[[float, float], str] = share) -> str:
    value = entry["estimate"]
    if value is None:
        return "no estimate"
    low, high = entry["ci95"]
    error = entry["relative_error"]
    spread = f"  +-{100 * error:.0f}%" if error is not None else ""
    return f"{show(value, value)} [{show(low, value)}, {show(high, value)}]{spread}"


def estimate_table(summary: dict) -> Table:
    """The weighted estimates, one row each, and how the run reached them."""
    e = summary["estimate"]
    reps = e["replications"]
    partial = ", PARTIAL" if summary["status"] != "completed" else ""
    table = Table(
        title=f"{summary['experiment']} (sim, importance sampling, "
        f"{reps['in_estimate']:,} weighted replications{partial})",
        title_justify="left",
    )
    table.add_column("metric")
    table.add_column("estimate [95% interval]  relative half-width", overflow="fold")
    slip = e["protected_slip_through"]
    table.add_row(
        "protected slip-through",
        f"{_interval(slip)}  (effective sample size {slip['effective_sample_size']:,.0f})",
    )
    table.add_row("shift incident probability", _interval(e["shift_incident_probability"]))
    table.add_row(
        "minutes down per shift",
        _interval(e["exposure_minutes_per_shift"], lambda x, _: f"{x:.3g}"),
    )
    year = e["yearly_risk"]
    if year["probability"] is not None:
        low, high = year["ci95"]
        table.add_row(
            f"yearly risk ({year['shifts_per_year']:,} shifts)",
            f"{share(year['probability'])} [{share(low)}, {share(high)}]",
        )
    untilted = e["untilted"]
    table.add_row(
        "untilted check",
        f"{untilted['slips']:,} slips in {untilted['trials']:,} protected trials "
        f"({untilted['replications']:,} shifts)",
    )
    table.add_row("tilt (log-odds shifts)", _tilt(e["tilt"]))
    table.add_row(
        "stages",
        f"{reps['untilted']:,} untilted, {reps['pilot']:,} pilot in {len(e['pilot'])} rounds, "
        f"{reps['main']:,} main; {e['stopped']} after {e['seconds']:.1f} s",
    )
    return table


def _tilt(tilt: dict) -> str:
    shifts = tilt["shifts"]
    if not shifts:
        return f"every kind {tilt['default']:+.1f}"
    return ", ".join(f"{k} {v:+.2f}" for k, v in shifts.items())


def print_estimate(summary: dict, console: Console) -> None:
    console.print(estimate_table(summary))
    reason = summary["estimate"]["unreliable"]
    if reason:
        console.print(f"[red]unreliable: {reason}[/red]", highlight=False)

"""Comparisons from file or run folders to a comparison folder: the composition `harness
compare` and `harness report` perform.

<out>/
  matrix.toml                the comparison file as given (`harness compare FILE` only)
  manifest.json              version, command, status, the baseline and each configuration's
                             run folder
  configurations/NN-<name>/  one ordinary run folder per configuration
  comparison.json            each configuration's metrics and tests against the baseline
  comparison.csv             the same, one row per configuration
  report.html                the self-contained report

Everything after the runs is computed from the run folders alone, so `harness report`
rebuilds the same files from a finished (or interrupted) comparison without running anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import BadInput
from ..experiment.comparison_file import Comparison
from ..reports import render, write_pngs
from ..reports.trend import trend_section
from ..run_folder import RunData, RunFolder, check_comparable, manifest, name_runs, read_run
from ..run_folder.layout import TREND
from ..verdicts.between_configurations import compare, write_files
from ..verdicts.trend import read as read_trend
from .run import SimRun, run_sims

KIND = "comparison"

RunOne = Callable[[int, RunFolder, Callable[[int], None]], dict]
"""Configuration i into its run folder, reporting replications done; its summary."""


def run_matrix(
    plan: Comparison,
    folder: RunFolder,
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    on_start: Callable[[int], None] = lambda index: None,
    on_progress: Callable[[int, int], None] = lambda index, n: None,
    run_one: RunOne | None = None,
) -> dict:
    """Run every configuration into its own run folder, then compare. `run_one` runs
    configuration i into its folder instead of the usual run, one after another (a
    comparison under uncertain parameters runs each as a two-level run, on the same draws).

    The simulated configurations' replications go to the backend all at once (the
    baseline's first), so every worker stays busy across configurations; each run folder
    is the same as the configuration run alone would write. Importance-sampling ones run
    after them, one after another. Ctrl-C, or a harness error, stops every configuration
    where it is; the comparison covers what finished and says it is partial (interrupted,
    or failed). A resumed comparison runs only what its configurations' folders have not
    finished.
    """
    listing = [
        {"name": c.name, "folder": f"configurations/{c.slug(i)}"}
        for i, c in enumerate(plan.configurations)
    ]
    about = _start(plan, folder, listing, jobs)
    runs = [
        SimRun(
            c.experiment,
            RunFolder(folder.path / listing[i]["folder"]),
            listing[i]["name"],
            lambda n, i=i: on_progress(i, n),
        )
        for i, c in enumerate(plan.configurations)
    ]
    order = [plan.baseline, *(i for i in range(len(runs)) if i != plan.baseline)]
    try:
        if run_one is not None:
            summaries = _run_each(order, run_one, runs, on_start)
        else:
            summaries = _run_all(
                [runs[i] for i in order],
                jobs=jobs,
                scheduler=scheduler,
                resume=resume,
                on_start=lambda k: on_start(order[k]),
            )
        stopped = next((s for s in summaries if s["status"] != "completed"), None)
        status = "completed" if stopped is None else stopped["status"]
        if stopped is not None:
            about["error"] = stopped.get("error")
    except KeyboardInterrupt:
        status = "interrupted"
    comparison = report_comparison(folder)
    about.update(status=status, finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    folder.write_json("manifest.json", about)
    return comparison


def _start(plan: Comparison, folder: RunFolder, listing: list[dict], jobs: int | None) -> dict:
    """Write the comparison file and a running manifest into `folder`; the manifest."""
    folder.write_text("matrix.toml", Path(plan.source).read_text(encoding="utf-8"))
    info = plan.configurations[0].experiment.experiment
    about = manifest(
        kind=KIND,
        name=plan.name,
        seed=info.seed,
        replications=info.replications,
        jobs=jobs,
        baseline=plan.configurations[plan.baseline].name,
        configurations=listing,
        status="running",
    )
    folder.write_json("manifest.json", about)
    return about


def _run_each(
    order: list[int], run_one: RunOne, runs: list[SimRun], on_start: Callable[[int], None]
) -> list[dict]:
    """The summaries of `run_one` on each configuration in `order`, until one stops."""
    summaries = []
    for index in order:
        on_start(index)
        summaries.append(run_one(index, runs[index].folder, runs[index].on_progress))
        if summaries[-1]["status"] != "completed":
            break
    return summaries


def _run_all(
    runs: list[SimRun],
    *,
    jobs: int | None,
    scheduler: str | None,
    resume: bool,
    on_start: Callable[[int], None],
) -> list[dict]:
    """The summaries of the runs that ran: the simulated ones together, then each
    importance-sampling one (on the local pool, afresh) until one does not complete."""
    weighted = [k for k, run in enumerate(runs) if run.experiment.estimate.method == "importance"]
    crude = [k for k in range(len(runs)) if k not in weighted]
    for k in crude:
        on_start(k)
    summaries = run_sims([runs[k] for k in crude], jobs=jobs, scheduler=scheduler, resume=resume)
    if any(s["status"] != "completed" for s in summaries):
        return summaries
    for k in weighted:
        from ..estimate.report import run_importance

        on_start(k)
        run = runs[k]
        summary = run_importance(
            run.experiment,
            run.folder,
            jobs=jobs,
            on_progress=lambda stage, n, run=run: run.on_progress(n),
            configuration=run.configuration,
        )
        summaries.append(summary)
        if summary["status"] != "completed":
            break
    return summaries


def comparable_runs(paths: Sequence[Path]) -> list[RunData]:
    """Finished run folders, named, once it is certain they compare."""
    runs = name_runs(list(paths))
    check_comparable(runs)
    return runs


def compare_folders(runs: list[RunData], folder: RunFolder) -> dict:
    """Compare run folders (the first is the baseline) into `folder`."""
    listing = [{"name": run.name, "folder": _locate(run.path, folder.path)} for run in runs]
    about = manifest(
        kind=KIND,
        name=KIND,
        seed=runs[0].summary["seed"],
        baseline=runs[0].name,
        configurations=listing,
        status="completed",
    )
    folder.write_json("manifest.json", about)
    return _report(folder, about, runs, [], png=False)


def _locate(path: Path, root: Path) -> str:
    """A run folder as the comparison records it: relative when inside the comparison
    folder (so the two move together), absolute otherwise."""
    path, root = path.resolve(), root.resolve()
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def report_comparison(folder: RunFolder, png: bool = False) -> dict:
    """(Re)write comparison.json, comparison.csv and report.html of a comparison folder
    from its configurations' run folders; one that finished no replication was not run."""
    about = folder.read_json("manifest.json")
    runs: list[RunData] = []
    not_run: list[str] = []
    for item in about["configurations"]:
        path = folder.path / item["folder"]
        run = read_run(path, item["name"]) if (path / "summary.json").is_file() else None
        if run is not None and run.summary["replications"]["completed"]:
            runs.append(run)
        else:  # stopped before it finished a replication (all start at once), or never run
            not_run.append(item["name"])
    if not runs:
        raise BadInput(f"{folder.path}: no configuration finished, so there is nothing to report")
    check_comparable(runs)
    return _report(folder, about, runs, not_run, png)


def _report(
    folder: RunFolder, about: dict, runs: list[RunData], not_run: list[str], png: bool
) -> dict:
    """The comparison of `runs` (already known to compare) as the folder's files."""
    names = [run.name for run in runs]
    baseline = names.index(about["baseline"]) if about["baseline"] in names else None
    complete = not not_run and all(run.summary["status"] == "completed" for run in runs)
    comparison = {
        "status": "completed" if complete else "partial",
        "not_run": not_run,
        **compare(runs, baseline),
    }
    if any("uncertainty" in run.summary for run in runs):
        from ..uncertainty.pairs import under_uncertainty

        comparison["uncertainty"] = under_uncertainty(runs, baseline)
    folders = {item["name"]: item["folder"] for item in about["configurations"]}
    for entry in comparison["configurations"]:
        entry["folder"] = folders[entry["name"]]
    write_files(folder, comparison)
    _write_report(folder, comparison, runs, f"Safeguard comparison: {about['name']}", png)
    return comparison


def report_run(folder: RunFolder, png: bool = False) -> dict:
    """report.html of a single run folder: a comparison of one configuration."""
    run = read_run(folder.path)
    comparison = {
        "status": "completed" if run.summary["status"] == "completed" else "partial",
        "not_run": [],
        **compare([run], 0),
    }
    trend = folder.path / TREND
    extra = [trend_section(read_trend(trend))] if trend.is_file() else []
    _write_report(folder, comparison, [run], f"Run report: {run.name}", png, extra)
    return comparison


def report_folder(path: Path, png: bool = False) -> tuple[str, dict]:
    """Rebuild the report of a comparison folder or a run folder; which one it was."""
    folder = RunFolder(path)
    if (path / "manifest.json").is_file() and folder.read_json("manifest.json").get("kind") == KIND:
        return KIND, report_comparison(folder, png)
    if (path / "summary.json").is_file():
        return "run", report_run(folder, png)
    if (path / "explore.json").is_file():
        from ..reports.explore import render_explore

        folder.write_text("report.html", render_explore(folder))
        return "explore", {}
    raise BadInput(
        f"{path}: not a run folder or a comparison folder (no summary.json), nor an explore "
        "folder (no explore.json)"
    )


def _write_report(
    folder: RunFolder,
    comparison: dict,
    runs: list[RunData],
    title: str,
    png: bool,
    extra: Sequence[str] = (),
) -> None:
    folder.write_text("report.html", render(comparison, runs, title, extra))
    if png:
        write_pngs(folder.path, comparison, runs)

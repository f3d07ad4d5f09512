"""`harness compare`: run an experiment under several configurations, or compare finished
runs, and write a comparison folder with report.html."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from ..backends import scheduler_address
from ..errors import EXIT_HARNESS_ERROR, EXIT_INTERRUPTED, BadInput
from ..experiment.comparison_file import load_comparison, toml_value
from ..run_folder import RunFolder
from .common import (
    JsonOutput,
    add_json_argument,
    add_override_arguments,
    add_simulation_arguments,
    output_folder,
)
from .terminal import progress_bar, terminal


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="compare safeguard configurations (a [matrix] file, or finished run folders)",
        description="Run every configuration of a comparison file ([matrix] and/or "
        "[[configurations]]) with the same seeds, or compare finished run folders (the first "
        "is the baseline), and write comparison.json, comparison.csv and a self-contained "
        "report.html. Exit codes: 0 ok, 2 bad input, 3 harness error (a lost worker; partial "
        "comparison written), 130 interrupted (partial comparison written).",
    )
    p.add_argument(
        "targets",
        nargs="+",
        metavar="EXPERIMENT.toml | RUN_DIR",
        help="a comparison file, or two or more run folders",
    )
    add_override_arguments(p)
    add_simulation_arguments(p, histories=False)
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="validate the file and list the configurations without running them",
    )
    add_json_argument(p, "the comparison folder and comparison.json")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    with JsonOutput(args) as output:
        return _compare(args, output)


def _compare(args: argparse.Namespace, output: JsonOutput) -> int:
    paths = [Path(p) for p in args.targets]
    err = terminal(stderr=True)
    if len(paths) > 1 or paths[0].is_dir():
        return _compare_runs(args, paths, output, err)
    extra = [f"experiment.replications={args.replications}"] if args.replications else []
    plan = load_comparison(paths[0], [*args.overrides, *extra])
    if args.dry_run:
        for i, c in enumerate(plan.configurations):
            mark = "  (baseline)" if i == plan.baseline else ""
            print(f"#{i + 1} {c.name}{mark}")
            for key, value in c.values:
                print(f"    {key} = {toml_value(value)}")
        output.document = {
            "configurations": [
                {"name": c.name, "baseline": i == plan.baseline, "values": dict(c.values)}
                for i, c in enumerate(plan.configurations)
            ]
        }
        return 0
    from ..pipeline.compare import run_matrix

    folder = output_folder(args, plan.name, "matrix.toml")
    first = plan.configurations[0].experiment
    # an importance run stops at its target relative error: no total is known ahead
    total = None if first.estimate.method == "importance" else first.experiment.replications
    with progress_bar(err) as bar:
        tasks = [
            bar.add_task(_short(f"#{i + 1} {c.name}"), total=total, start=False)
            for i, c in enumerate(plan.configurations)
        ]
        comparison = run_matrix(
            plan,
            folder,
            jobs=args.jobs,
            scheduler=scheduler_address(args.scheduler),
            resume=args.resume is not None,
            on_start=lambda i: bar.start_task(tasks[i]),
            on_progress=lambda i, n: bar.advance(tasks[i], n),
        )
    return _finish(comparison, folder, output, err)


def _compare_runs(
    args: argparse.Namespace, paths: list[Path], output: JsonOutput, err: Console
) -> int:
    for path in paths:
        if not path.is_dir():
            raise BadInput(f"{path}: no such run folder (give one comparison file or run folders)")
    if args.overrides or args.replications or args.dry_run or args.resume or args.scheduler:
        raise BadInput(
            "--set, --replications, --dry-run, --resume and --scheduler apply to a comparison "
            "file, not to run folders"
        )
    if len(paths) < 2:
        raise BadInput(
            f"{paths[0]}: give two or more run folders (harness report RUN_DIR reports one)"
        )
    from ..pipeline.compare import comparable_runs, compare_folders

    runs = comparable_runs(paths)
    folder = RunFolder.create("compare", args.out)
    return _finish(compare_folders(runs, folder), folder, output, err)


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _finish(comparison: dict, folder: RunFolder, output: JsonOutput, err: Console) -> int:
    from ..reports.console import print_comparison

    print_comparison(comparison, terminal())
    err.print(f"report: {folder.path / 'report.html'}")
    output.document = {
        "folder": str(folder.path),
        "report": str(folder.path / "report.html"),
        "comparison": folder.read_json("comparison.json"),
    }
    about = folder.read_json("manifest.json")
    if about["status"] == "failed":
        err.print(f"[red]harness error: {about.get('error')}; partial comparison[/red]")
        return EXIT_HARNESS_ERROR
    if comparison["status"] != "completed":
        err.print(f"[yellow]interrupted: partial comparison in {folder.path}[/yellow]")
        return EXIT_INTERRUPTED
    return 0

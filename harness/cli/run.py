"""`harness run EXPERIMENT.toml`: run an experiment and write a run folder."""

from __future__ import annotations

import argparse
import json

from rich.console import Console

from ..console import print_gates, print_summary
from ..results import RunFolder
from ..run import run_sim
from .common import (
    add_experiment_arguments,
    add_simulation_arguments,
    count,
    interrupted,
    load_experiment,
    simulate,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run an experiment (in-process simulator)",
        description="Run an experiment and write results/<name>-<time>/ with the resolved "
        "experiment, summary.json, replications.csv, histories and a manifest. Exit codes: "
        "0 ok, 1 a gate failed, 2 bad input, 130 interrupted (partial result written).",
    )
    add_experiment_arguments(p)
    add_simulation_arguments(p)
    p.add_argument("--seed", type=count(0), metavar="S", help="override the file's")
    p.add_argument("--json", action="store_true", help="print summary.json instead of a table")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="validate and print the resolved experiment without running it",
    )
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    experiment = load_experiment(args)
    out = Console()
    if args.dry_run:
        print(experiment.to_toml(), end="")
        return 0
    err = Console(stderr=True)
    folder = RunFolder.create(experiment.experiment.name, args.out)
    summary = simulate(args, experiment, folder, run_sim)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_summary(summary, out)
        print_gates(summary["gates"], out)
        err.print(f"run folder: {folder.path}")
    if summary["status"] != "completed":
        return interrupted(summary, folder, err)
    return 0 if all(g["passed"] for g in summary["gates"]) else 1

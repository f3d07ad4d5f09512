"""`harness run --estimator importance`: the command-line side of importance sampling."""

from __future__ import annotations

import argparse

from ..cli.terminal import terminal
from ..errors import BadInput
from ..experiment.model import Experiment
from ..run_folder import RunFolder

ESTIMATORS = ("crude", "importance")


def add_estimator_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--estimator",
        choices=ESTIMATORS,
        help="crude: every replication counts the same (default); importance: tilted, "
        "weighted replications until the [estimate] target relative error (estimate.method)",
    )


def estimator_override(args: argparse.Namespace) -> list[str]:
    """--estimator as an `estimate.method` override, if given."""
    chosen = getattr(args, "estimator", None)
    return [f"estimate.method={chosen!r}"] if chosen else []


def refuse_live(args: argparse.Namespace, experiment: Experiment) -> None:
    """Live mode estimates crudely: say so when importance sampling is asked for."""
    if experiment.estimate.method != "importance":
        return
    where = "--estimator importance" if args.estimator else "estimate.method = 'importance'"
    raise BadInput(
        f"{where}: live mode estimates crudely only; importance sampling needs the "
        "simulator (--mode sim)"
    )


def run_weighted(args: argparse.Namespace, experiment: Experiment) -> int:
    """Run by importance sampling, print the estimates; the exit code."""
    from ..cli.common import interrupted
    from ..cli.terminal import progress_bar
    from .report import print_estimate, run_importance

    folder = RunFolder.create(experiment.experiment.name, args.out)
    err = terminal(stderr=True)
    with progress_bar(err) as progress:
        task = progress.add_task(f"{experiment.experiment.name} (importance)", total=None)
        summary = run_importance(
            experiment,
            folder,
            jobs=args.jobs,
            on_progress=lambda stage, n: progress.update(
                task, advance=n, description=f"{experiment.experiment.name} ({stage})"
            ),
        )
    if args.json:
        import json

        print(json.dumps(summary, indent=2))
    else:
        from ..reports.console import print_gates

        print_estimate(summary, terminal())
        print_gates(summary["gates"], terminal())
        err.print(f"run folder: {folder.path}")
    if summary["status"] != "completed":
        return interrupted(summary, folder, err)
    return 0 if all(g["passed"] for g in summary["gates"]) else 1

"""`harness run` on an experiment with uncertain parameters: the command-line side."""

from __future__ import annotations

import argparse
import json

from ..cli.terminal import terminal
from ..errors import BadInput
from ..run_folder import RunFolder
from .spec import Study

DEFAULT_SAMPLES = 32


def add_uncertainty_arguments(parser: argparse.ArgumentParser) -> None:
    from ..cli.common import count

    group = parser.add_argument_group(
        "uncertain parameters",
        "When the experiment gives a distribution where a number goes, the run draws "
        "parameter sets (outer loop) and runs the replications for each (inner loop).",
    )
    group.add_argument(
        "--samples",
        type=count(2),
        metavar="N",
        help=f"parameter sets to draw (default {DEFAULT_SAMPLES})",
    )
    group.add_argument(
        "--sampling",
        choices=("lhs", "sobol"),
        default="lhs",
        help="lhs: Latin hypercube (default); sobol: scrambled Sobol' points (N a power of two)",
    )


def refuse_plain(args: argparse.Namespace, study: Study) -> None:
    """--samples means nothing without an uncertain parameter."""
    if not study.parameters and args.samples is not None:
        raise BadInput(
            f"--samples: {study.source} has no uncertain parameter "
            '(a distribution where a number goes: { dist = "uniform", low = 0.1, high = 0.3 })'
        )


def run_uncertain(args: argparse.Namespace, study: Study) -> int:
    """A two-level run; prints the band next to the sampling interval; the exit code."""
    from ..cli.common import interrupted
    from ..cli.run import report
    from ..cli.terminal import progress_bar
    from .report import print_band
    from .sampling import check_samples
    from .two_level import run_two_level

    samples = args.samples or DEFAULT_SAMPLES
    check_samples(samples, args.sampling)
    if study.median.estimate.method == "importance":
        raise BadInput("--estimator importance: uncertain parameters are run crudely only")
    folder = RunFolder.create(study.median.experiment.name, args.out)
    err = terminal(stderr=True)
    with progress_bar(err) as progress:
        task = progress.add_task("median parameters", total=study.median.experiment.replications)

        def advance(stage: str, n: int) -> None:
            if stage == "parameter sets" and progress.tasks[task].description != stage:
                progress.reset(task, total=samples, description=stage)
            progress.advance(task, n)

        summary = run_two_level(
            study,
            folder,
            samples=samples,
            sampling=args.sampling,
            jobs=args.jobs,
            keep_histories=args.histories,
            on_progress=advance,
        )
    if summary["status"] != "completed":
        return interrupted(summary, folder, err)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0 if all(g["passed"] for g in summary["gates"]) else 1
    code = report(argparse.Namespace(json=False), summary, folder, terminal(), err)
    print_band(summary["uncertainty"], terminal())
    return code

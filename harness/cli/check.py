"""`harness check EXPERIMENT.toml`: the CI gate. Run until every gate is settled, compare
with a baseline run, write JUnit XML, exit 1 on any failure."""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

from ..errors import BadInput
from ..estimate.command import add_estimator_argument, estimator_override
from ..run_folder.layout import EXPERIMENT
from .common import (
    JsonOutput,
    add_experiment_arguments,
    add_json_argument,
    add_simulation_arguments,
    harness_error,
    interrupted,
    load_experiment,
    output_folder,
    simulate,
)
from .terminal import terminal


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="check an experiment's gates (and a baseline) for CI, stopping once settled",
        description="Run an experiment in batches (the [check] table: confidence, batch) "
        "until every gate's outcome is settled, or all its replications ran; with "
        "--baseline, also fail when slip-through or exposure is significantly worse than "
        "in that earlier run folder of the same experiment. Writes a normal run folder and, "
        "with --junit, JUnit XML with one test case per gate and comparison. Exit codes: "
        "0 every gate held, 1 a gate failed or a regression was found, 2 bad input, 3 "
        "harness error (a lost worker; partial result written), 130 interrupted (partial "
        "result written). With importance sampling (--estimator importance or "
        "estimate.method), gates are decided on the weighted estimates.",
    )
    add_experiment_arguments(p)
    p.add_argument(
        "--baseline",
        metavar="RUN_DIR",
        help="an earlier run folder of the same experiment (same name, seed, population, "
        "operators, faults) to compare against",
    )
    p.add_argument("--junit", metavar="FILE", help="write JUnit XML here")
    p.add_argument(
        "--history",
        metavar="FILE",
        type=Path,
        help="append this check's gate values to FILE (JSON lines; created if missing) and "
        "chart the latest runs in report.html, so a safeguard eroding shows before its gate trips",
    )
    add_estimator_argument(p)
    add_simulation_arguments(p)
    add_json_argument(p, "the run folder, whether the check passed and summary.json")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    with JsonOutput(args) as output:
        return _check(args, output)


def _check(args: argparse.Namespace, output: JsonOutput) -> int:
    experiment = load_experiment(args, estimator_override(args))
    if not experiment.gates and args.baseline is None:
        raise BadInput(
            f"{args.experiment}: nothing to check: add [[gates]] to the file or give --baseline"
        )
    from ..pipeline.check import publish, run_check
    from ..reports.console import print_check, print_summary
    from ..verdicts import junit, trend
    from ..verdicts.against_baseline import load_baseline

    baseline = load_baseline(args.baseline, experiment) if args.baseline is not None else None
    junit_path = junit.check_target(args.junit) if args.junit is not None else None
    earlier = trend.read(args.history) if args.history is not None else []
    out, err = terminal(), terminal(stderr=True)
    folder = output_folder(args, experiment.experiment.name, EXPERIMENT)
    check = simulate(args, experiment, folder, partial(run_check, baseline=baseline))
    if check.estimator == "importance":
        from ..estimate.report import print_estimate

        print_estimate(check.summary, out)
    else:
        print_summary(check.summary, out)
    print_check(check, out)
    if junit_path is not None:
        junit.write(check, junit_path)
        err.print(f"JUnit XML: {junit_path}")
    publish(check, args.history, earlier)
    err.print(f"run folder: {folder.path}")
    output.document = {
        "run_folder": str(folder.path),
        "passed": check.passed,
        "summary": check.summary,
    }
    if check.error is not None:
        return harness_error(check.summary, folder, err)
    if check.interrupted:
        return interrupted(check.summary, folder, err)
    return 0 if check.passed else 1

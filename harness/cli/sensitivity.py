"""`harness sensitivity EXPERIMENT.toml`: which uncertain parameter matters most."""

from __future__ import annotations

import argparse
import json

from ..errors import BadInput
from ..run_folder import RunFolder
from .common import add_experiment_arguments, count, experiment_overrides
from .terminal import progress_bar, terminal

DEFAULT_SAMPLES = 64
DEFAULT_REPLICATIONS = 10


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sensitivity",
        help="rank the uncertain parameters by how much each moves the slip-through rate",
        description="Global sensitivity analysis (SALib) of the protected slip-through rate "
        "and the shift incident probability to the experiment's uncertain parameters (those "
        "given as a distribution). Writes sensitivity.json, sensitivity.csv and report.html "
        "to a folder. Exit codes: 0 ok, 2 bad input, 130 interrupted.",
    )
    add_experiment_arguments(p)
    p.add_argument(
        "--method",
        choices=("sobol", "morris"),
        default="sobol",
        help="sobol: first-order and total indices, N x (k+2) parameter sets (default); "
        "morris: screening, N x (k+1) sets, cheaper for many parameters",
    )
    p.add_argument(
        "--samples",
        type=count(2),
        default=DEFAULT_SAMPLES,
        metavar="N",
        help=f"base samples N (default {DEFAULT_SAMPLES}; a power of two for sobol)",
    )
    p.add_argument(
        "--replications",
        type=count(1),
        default=DEFAULT_REPLICATIONS,
        metavar="R",
        help=f"replications per parameter set (default {DEFAULT_REPLICATIONS})",
    )
    p.add_argument("--seed", type=count(0), metavar="S", help="override the file's")
    p.add_argument("--jobs", type=count(1), metavar="N", help="processes (default: all cores)")
    p.add_argument("--json", action="store_true", help="print sensitivity.json instead")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from ..uncertainty.spec import load_study

    study = load_study(args.experiment, experiment_overrides(args))
    if not study.parameters:
        raise BadInput(
            f"{args.experiment}: no uncertain parameter: give one a distribution, "
            'e.g. --set operators.0.error={dist="lognormal",median=0.003,error_factor=5}'
        )
    if args.method == "sobol":
        from ..uncertainty.sampling import check_samples

        check_samples(args.samples, "sobol")
    return run(args, study)


def run(args: argparse.Namespace, study) -> int:
    from ..uncertainty.charts import figures
    from ..uncertainty.report import print_sensitivity, render_page
    from ..uncertainty.sensitivity import csv_rows, run_study

    folder = RunFolder.create(f"{study.median.experiment.name}-sensitivity", args.out)
    k = len(study.parameters)
    total = args.samples * (k + 2 if args.method == "sobol" else k + 1)
    err = terminal(stderr=True)
    with progress_bar(err) as progress:
        task = progress.add_task(f"parameter sets ({args.method})", total=total)
        result = run_study(
            study,
            method=args.method,
            samples=args.samples,
            replications=args.replications,
            jobs=args.jobs,
            on_progress=lambda n: progress.advance(task, n),
        )
    folder.write_json("sensitivity.json", result)
    folder.write_table("sensitivity.csv", *csv_rows(result))
    folder.write_text("report.html", render_page(result, figures(result)))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_sensitivity(result, terminal())
        err.print(f"sensitivity folder: {folder.path}")
    return 0

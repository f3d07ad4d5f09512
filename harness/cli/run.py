"""`harness run EXPERIMENT.toml`: run an experiment and write a run folder."""

from __future__ import annotations

import argparse
import socket
import sys

from ..errors import BadInput
from ..estimate.command import (
    add_estimator_argument,
    estimator_override,
    refuse_live,
    run_weighted,
)
from ..experiment.model import Experiment
from ..run_folder import RunFolder
from ..run_folder.layout import EXPERIMENT
from ..uncertainty.command import add_uncertainty_arguments, refuse_plain, run_uncertain
from ..uncertainty.spec import load_study
from .common import (
    add_experiment_arguments,
    add_json_argument,
    add_simulation_arguments,
    add_target_argument,
    count,
    experiment_overrides,
    harness_error,
    in_live_process,
    interrupted,
    load_experiment,
    output_folder,
    port,
    print_json,
    relaunch,
    scale,
    simulate,
)
from .terminal import progress_interval, terminal

LIVE_ONLY = ("target", "admin_token", "users_per_operator", "time_scale", "workers", "web")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run an experiment (in-process simulator, or live against a served target)",
        description="Run an experiment and write results/<name>-<time>/ with the resolved "
        "experiment, summary.json, replications.csv, histories and a manifest. Exit codes: "
        "0 ok, 1 a gate failed, 2 bad input, 3 harness error (a lost worker, a failed live "
        "run; partial result written), 130 interrupted (partial result written).",
    )
    add_experiment_arguments(p)
    add_simulation_arguments(p)
    p.add_argument("--seed", type=count(0), metavar="S", help="override the file's")
    add_json_argument(p, "summary.json instead of a table")
    add_estimator_argument(p)
    add_uncertainty_arguments(p)
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="validate and print the resolved experiment without running it",
    )
    live = p.add_argument_group(
        "live mode",
        "Operators as Locust users over HTTP, with the file's [live] settings; "
        "--replications sets live.replications.",
    )
    live.add_argument(
        "--mode",
        choices=("sim", "live"),
        default="sim",
        help="sim: the in-process simulator (default); live: Locust users against a served "
        "target, which the harness starts on a free loopback port unless --target is given",
    )
    add_target_argument(live, "attack this running `harness serve`")
    live.add_argument(
        "--users-per-operator",
        type=count(1),
        metavar="K",
        help="concurrent sessions per operator, all with its own token (live.users_per_operator)",
    )
    live.add_argument(
        "--time-scale",
        type=scale,
        metavar="X",
        help="simulated seconds per wall second (live.time_scale; with --target: the target's)",
    )
    live.add_argument(
        "--workers", type=count(1), metavar="N", help="run the users on N local Locust workers"
    )
    live.add_argument(
        "--expect-workers",
        type=count(1),
        metavar="M",
        help="also wait for M workers joining from other machines (`harness worker`)",
    )
    live.add_argument(
        "--master-bind",
        default="127.0.0.1",
        metavar="HOST",
        help="where the master listens for workers (default 127.0.0.1; 0.0.0.0 for others)",
    )
    live.add_argument(
        "--master-port", type=port, metavar="P", help="the master's port (default 5557)"
    )
    live.add_argument("--web", action="store_true", help="open Locust's web UI for watching")
    live.add_argument("--web-port", type=port, default=8089, metavar="P", help="(default 8089)")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    if args.mode == "live":
        return live(args)
    given = [name for name in LIVE_ONLY if getattr(args, name) not in (None, False)]
    if given:
        raise BadInput(f"--{given[0].replace('_', '-')} needs --mode live")
    study = load_study(args.experiment, experiment_overrides(args, estimator_override(args)))
    refuse_plain(args, study)
    if study.parameters and not args.dry_run:
        return run_uncertain(args, study)
    experiment = study.median
    out = terminal()
    if args.dry_run:
        print(experiment.to_toml(), end="")
        return 0
    if experiment.estimate.method == "importance":
        return run_weighted(args, experiment)
    from ..pipeline.run import run_sim

    err = terminal(stderr=True)
    folder = output_folder(args, experiment.experiment.name, EXPERIMENT)
    summary = simulate(args, experiment, folder, run_sim)
    return report(args, summary, folder, out, err)


def live(args: argparse.Namespace) -> int:
    """Live mode: validate here, then run in a process where Locust was imported first.
    A Ctrl-C before that process can stop a run cleanly leaves nothing behind, and says
    so; after it, the run folder keeps what was measured, marked interrupted."""
    for option in ("jobs", "scheduler", "resume"):
        if getattr(args, option) is not None:
            raise BadInput(f"--{option}: live mode runs its users with --workers")
    try:
        experiment = load_live_experiment(args)
        if args.dry_run:
            print(experiment.to_toml(), end="")
            return 0
        if not in_live_process():
            relaunch(args.argv)
        from ..drivers.live.run import LiveOptions, run_live
        from ..drivers.live.stopping import Stopping

        stopping = Stopping.on_signals()
    except KeyboardInterrupt:
        print(
            "harness: interrupted before the live run started; nothing was written", file=sys.stderr
        )
        return 130
    folder = RunFolder.create(experiment.experiment.name, args.out)
    options = LiveOptions(
        target=args.target,
        admin_token=args.admin_token,
        time_scale=args.time_scale,
        workers=args.workers or 0,
        expect_workers=args.expect_workers or 0,
        master_bind=args.master_bind,
        master_port=args.master_port or (free_port() if not args.expect_workers else 5557),
        web=args.web,
        web_port=args.web_port,
        histories=args.histories,
        command=tuple(["harness", *redacted(args.argv)]),
        stats_seconds=progress_interval(),
    )
    summary = run_live(experiment, folder, options, stopping)
    return report(args, summary, folder, terminal(), terminal(stderr=True))


def report(args: argparse.Namespace, summary: dict, folder: RunFolder, out, err) -> int:
    """Print the summary; the exit code."""
    from ..reports.console import print_gates, print_summary

    if args.json:
        print_json(summary)
    else:
        print_summary(summary, out)
        print_gates(summary["gates"], out)
        err.print(f"run folder: {folder.path}")
    if summary["status"] == "failed":
        return harness_error(summary, folder, err)
    if summary["status"] != "completed":
        return interrupted(summary, folder, err)
    return 0 if all(g["passed"] for g in summary["gates"]) else 1


def load_live_experiment(args: argparse.Namespace) -> Experiment:
    """The experiment with --set, --seed and the live options as [live] overrides."""
    extra = {"live.time_scale": args.time_scale, "live.users_per_operator": args.users_per_operator}
    given = [f"{k}={v!r}" for k, v in extra.items() if v is not None]
    given += estimator_override(args)
    experiment = load_experiment(args, given, replications_key="live.replications")
    refuse_live(args, experiment)
    return experiment


def redacted(argv: list[str]) -> list[str]:
    """The command line as the manifest records it: without the admin token."""
    shown = list(argv)
    for i, word in enumerate(shown):
        if word == "--admin-token" and i + 1 < len(shown):
            shown[i + 1] = "(hidden)"
        elif word.startswith("--admin-token="):
            shown[i] = "--admin-token=(hidden)"
    return shown


def free_port() -> int:
    """A free loopback port for the master of local workers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

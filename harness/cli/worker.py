"""`harness worker --master HOST`: join a live run's master as a Locust worker."""

from __future__ import annotations

import argparse

from ..interrupts import release_signals
from .common import in_live_process, port, relaunch


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "worker",
        help="join a live run on another machine as a Locust worker",
        description="Join the master of `harness run EXPERIMENT.toml --mode live "
        "--expect-workers N` as one of its Locust workers: the master sends the experiment, "
        "the target's URL and the operators' credentials, and this process runs the "
        "operators it is given until the master quits.",
    )
    p.add_argument("--master", required=True, metavar="HOST", help="the master's address")
    p.add_argument(
        "--master-port", type=port, default=5557, metavar="P", help="its port (default 5557)"
    )
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    if not in_live_process():
        relaunch(args.argv)
    from ..drivers.live.cluster import run_worker

    release_signals()  # Ctrl-C stops the worker as it always does
    return run_worker(args.master, args.master_port)

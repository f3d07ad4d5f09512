"""Arguments and helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from contextlib import redirect_stdout
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, TypeVar

from rich.console import Console

from targets.moderation.clock import MAX_TIME_SCALE

from ..backends import SCHEDULER_VARIABLE, scheduler_address
from ..drivers.client import ADMIN_TOKEN_VARIABLE
from ..errors import EXIT_HARNESS_ERROR, EXIT_INTERRUPTED, BadInput
from ..experiment.model import Experiment, load
from ..interrupts import exec_holding_signals
from ..run_folder import RunFolder
from .terminal import progress_bar, terminal

T = TypeVar("T")


def count(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {value}")
        return value

    return parse


def port(text: str) -> int:
    """A TCP port; 0 lets the system pick a free one."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 to 65535, got {value}")
    return value


def scale(text: str) -> float:
    """A time scale: simulated seconds per wall second, 0 for a manual clock."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value <= MAX_TIME_SCALE:
        raise argparse.ArgumentTypeError(
            f"must be 0 (manual clock) to {MAX_TIME_SCALE:,.0f}, got {text}"
        )
    return value


def add_experiment_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiment", metavar="EXPERIMENT.toml", help="the experiment file")
    add_override_arguments(parser)


def add_override_arguments(
    parser: argparse.ArgumentParser, *, out: bool = True, what: str = "the file"
) -> None:
    """--set, which every command that takes an experiment takes, and --out for those that
    write a folder."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="dotted.key=value",
        help=f"override any key of {what} (repeatable), e.g. "
        "--set safeguards.two_person_rule.enabled=true --set operators.0.count=4",
    )
    if out:
        parser.add_argument(
            "--out",
            metavar="DIR",
            help="write the run folder here (default: results/<name>-<time>)",
        )


def add_simulation_arguments(parser: argparse.ArgumentParser, *, histories: bool = True) -> None:
    """How many replications run, on how many processes, and how many histories a run folder
    keeps, for the commands that run replications."""
    parser.add_argument("--replications", type=count(1), metavar="N", help="override the file's")
    parser.add_argument(
        "--jobs", type=count(1), metavar="N", help="processes for replications (default: all cores)"
    )
    parser.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help=f"run the replications on this Dask cluster (default: ${SCHEDULER_VARIABLE}, "
        "else local processes); needs the dask extra",
    )
    parser.add_argument(
        "--resume",
        metavar="DIR",
        help="continue the interrupted run of the same file (and --set) in this folder",
    )
    if histories:
        parser.add_argument(
            "--histories",
            type=count(0),
            default=1,
            metavar="K",
            help="write the full history of the first K replications (default 1)",
        )


def add_json_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """--json: one document on stdout, for scripts and CI."""
    parser.add_argument(
        "--json",
        action="store_true",
        help=f"print {what} as one JSON document on stdout (messages go to stderr)",
    )


def print_json(document: Any) -> None:
    print(json.dumps(document, indent=2))


class JsonOutput:
    """With --json, everything the command prints while inside goes to stderr, and the
    `document` set inside is printed alone on stdout on the way out, so stdout parses as
    JSON. Without --json, nothing changes."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.enabled: bool = getattr(args, "json", False)
        self.document: Any = None
        self._redirect = redirect_stdout(sys.stderr)

    def __enter__(self) -> JsonOutput:
        if self.enabled:
            self._redirect.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.enabled:
            return
        self._redirect.__exit__(kind, exc, tb)
        if exc is None and self.document is not None:
            print_json(self.document)


def add_target_argument(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    what: str = "a served target (harness serve) to play against instead of the in-process one",
) -> None:
    """--target URL and the admin token that goes with it."""
    parser.add_argument("--target", metavar="URL", help=what)
    parser.add_argument(
        "--admin-token",
        metavar="TOKEN",
        help=f"the target's admin token (default: ${ADMIN_TOKEN_VARIABLE})",
    )


def load_experiment(
    args: argparse.Namespace,
    extra: Sequence[str] = (),
    replications_key: str = "experiment.replications",
) -> Experiment:
    """The experiment file with its overrides (`experiment_overrides`)."""
    return load(args.experiment, experiment_overrides(args, extra, replications_key))


def experiment_overrides(
    args: argparse.Namespace,
    extra: Sequence[str] = (),
    replications_key: str = "experiment.replications",
) -> list[str]:
    """--set overrides, then `extra` ones, and --replications (as `replications_key`) and
    --seed where given."""
    overrides = [*args.overrides, *extra]
    if getattr(args, "replications", None) is not None:
        overrides.append(f"{replications_key}={args.replications}")
    if getattr(args, "seed", None) is not None:
        overrides.append(f"experiment.seed={args.seed}")
    return overrides


def simulate(
    args: argparse.Namespace, experiment: Experiment, folder: RunFolder, run: Callable[..., T]
) -> T:
    """`run(experiment, folder, ...)` (run_sim, run_check) with the simulation arguments,
    behind a progress bar on stderr."""
    with progress_bar(terminal(stderr=True)) as progress:
        task = progress.add_task(
            experiment.experiment.name, total=experiment.experiment.replications
        )
        return run(
            experiment,
            folder,
            jobs=args.jobs,
            scheduler=scheduler_address(args.scheduler),
            resume=args.resume is not None,
            keep_histories=args.histories,
            on_progress=lambda n: progress.advance(task, n),
        )


def output_folder(args: argparse.Namespace, name: str, file: str) -> RunFolder:
    """Where a command writes: the folder --resume continues (one with `file`, which the
    recorder checks holds the same experiment), or a new one (--out, else
    results/<name>-<time>)."""
    if args.resume is None:
        return RunFolder.create(name, args.out)
    if args.out is not None:
        raise BadInput("--resume DIR writes into DIR: leave out --out")
    if not (Path(args.resume) / file).is_file():
        raise BadInput(f"--resume {args.resume}: not a folder this command wrote (no {file})")
    return RunFolder(Path(args.resume))


def harness_error(summary: dict, folder: RunFolder, err: Console) -> int:
    """Say that the machinery failed and where the partial result is; the exit code 3."""
    done = summary["replications"]
    reason = summary.get("error") or summary.get("live", {}).get("reason")
    err.print(
        f"[red]harness error: {reason}; partial result ({done['completed']} of "
        f"{done['requested']} replications) in {folder.path}[/red]"
    )
    return EXIT_HARNESS_ERROR


def interrupted(summary: dict, folder: RunFolder, err: Console) -> int:
    """Say where the partial result of an interrupted run is; the exit code 130."""
    done = summary["replications"]
    err.print(
        f"[yellow]interrupted: partial result ({done['completed']} of {done['requested']} "
        f"replications) in {folder.path}[/yellow]"
    )
    return EXIT_INTERRUPTED


def in_live_process() -> bool:
    """Whether this process imported Locust first (`python -m harness.drivers.live`), as
    live mode needs: gevent must patch the standard library before anything imports ssl."""
    return "locust" in sys.modules


def relaunch(argv: Sequence[str]) -> NoReturn:
    """Run this command again as a live-mode process, in place of this one: one process,
    so a Ctrl-C at the terminal reaches it once, and a signal sent to this process reaches
    the run. Signals in between are held until it can take them."""
    exec_holding_signals(["-m", "harness.drivers.live", *argv])

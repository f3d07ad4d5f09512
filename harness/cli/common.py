"""Arguments and helpers shared by the subcommands."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..experiment import Experiment, load


def count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def add_experiment_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiment", metavar="EXPERIMENT.toml", help="the experiment file")
    add_set_argument(parser, "the file")
    parser.add_argument(
        "--out", metavar="DIR", help="write the run folder here (default: results/<name>-<time>)"
    )


def add_set_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="dotted.key=value",
        help=f"override any key of {what} (repeatable), e.g. "
        "--set safeguards.two_person_rule.enabled=true --set operators.0.count=4",
    )


def add_target_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        metavar="URL",
        help="a live target to play against instead of the in-process one",
    )


def load_experiment(args: argparse.Namespace, extra: Sequence[str] = ()) -> Experiment:
    return load(args.experiment, [*args.overrides, *extra])


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )

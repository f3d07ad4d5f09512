"""The `harness` command. Each subcommand is a module with `register(subparsers)`.

Subcommand modules import the simulator, statistics, charts, search and HTTP stack inside
their handlers, once the input is valid: those libraries take seconds to load, and --help,
--version, --dry-run and bad input answer without them (tests/test_startup.py)."""

from __future__ import annotations

import argparse
import signal
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from .. import __version__
from ..errors import EXIT_BAD_INPUT, EXIT_HARNESS_ERROR, EXIT_INTERRUPTED, BadInput, HarnessError
from ..interrupts import exit_at_once_on_signals

with exit_at_once_on_signals("harness: interrupted while starting; nothing was written"):
    from . import (
        check,
        compare,
        explore,
        replay,
        report,
        run,
        schema,
        sensitivity,
        serve,
        worker,
    )

COMMANDS = (run, sensitivity, compare, report, check, serve, worker, explore, replay, schema)


class Parser(argparse.ArgumentParser):
    """Usage mistakes in one line, like every other bad input, with where to read more.
    Subcommand parsers are made of the same class."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="harness",
        description="Chaos and safeguard testing for moderation tooling: how often does a "
        "protected account slip through, and for how long is it down?",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes (harness/errors.py): 0 ok, 1 a gate or check failed, 2 bad input,
    3 harness error, 130 interrupted."""
    with exit_at_once_on_signals("harness: interrupted while starting; nothing was written"):
        args = build_parser().parse_args(argv)  # nothing has started yet either
    try:
        args.argv = list(sys.argv[1:] if argv is None else argv)
        signal.signal(signal.SIGTERM, _terminate)
        return args.handler(args)
    except BadInput as exc:
        print(f"harness: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("harness: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except HarnessError as exc:
        print(f"harness: harness error: {exc}", file=sys.stderr)
        return EXIT_HARNESS_ERROR
    except Exception as exc:  # a bug or a broken machine, not the system under test
        traceback.print_exc()
        print(f"harness: harness error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_HARNESS_ERROR

"""`harness schema [--comparison]`: the JSON Schema of experiment (or comparison) files, for
editors to complete keys and flag mistakes as they are typed (docs/schema.md)."""

from __future__ import annotations

import argparse
import json
import os
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of experiment files, for editor completion and checks",
        description="Print the JSON Schema of experiment files to stdout (with --comparison: "
        "of comparison files, which add [matrix], [[configurations]] and [compare]). Save it "
        "next to your experiments and point taplo or Even Better TOML at it with a "
        "`#:schema ./experiment.schema.json` line at the top of a TOML file.",
    )
    p.add_argument(
        "--comparison",
        action="store_true",
        help="the schema of comparison files (`harness compare`)",
    )
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from ..experiment.schema import file_schema

    try:
        print(json.dumps(file_schema(args.comparison), indent=2), flush=True)
    except BrokenPipeError:  # `harness schema | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
    return 0

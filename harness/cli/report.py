"""`harness report DIR`: rebuild report.html of a comparison or run folder from its files."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import BadInput
from .common import add_json_argument, print_json
from .terminal import terminal


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write report.html for a finished run or comparison folder",
        description="Rebuild report.html (and, for a comparison folder, comparison.json and "
        "comparison.csv) from the folder's files, without running anything. A run folder "
        "gets a report of its one configuration; an explore folder, of the ways past it "
        "found (or what its search established). Exit codes: 0 ok, 2 bad input.",
    )
    p.add_argument(
        "folder", metavar="RUN_DIR", help="a run folder, a comparison folder or an explore folder"
    )
    p.add_argument("--png", action="store_true", help="also write the charts as charts/<name>.png")
    add_json_argument(p, "the folder's kind and the report's path")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    path = Path(args.folder)
    if not path.is_dir():
        raise BadInput(f"{path}: no such folder")
    from ..pipeline.compare import report_folder

    kind, _ = report_folder(path, png=args.png)
    report = path / "report.html"
    terminal(stderr=True).print(f"{kind} report: {report}")
    if args.json:
        print_json({"kind": kind, "folder": str(path), "report": str(report)})
    return 0

"""`harness replay TRACE`: play a trace written by `harness explore` and say whether its
finding still happens."""

from __future__ import annotations

import argparse

from ..explore.findings import Finding
from ..explore.steps import DEPTH
from ..explore.trace import read_trace, trace_experiment
from .common import JsonOutput, add_json_argument, add_override_arguments, add_target_argument


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replay",
        help="replay a trace found by `harness explore`",
        description="Play a trace's steps against a fresh target built from the trace's "
        "experiment (with --set overrides, e.g. a fixed safeguard) and report what happens. "
        "Exit codes: 1 the finding reproduces (or another one happens), 0 it no longer "
        "does, 2 bad input.",
    )
    p.add_argument("trace", metavar="TRACE", help="a trace.json written by harness explore")
    add_override_arguments(p, out=False, what="the trace's experiment")
    add_target_argument(p)
    add_json_argument(p, "whether the finding still happens")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    with JsonOutput(args) as output:
        return _replay(args, output)


def _replay(args: argparse.Namespace, output: JsonOutput) -> int:
    trace = read_trace(args.trace)
    experiment = trace_experiment(trace, args.trace, args.overrides)
    from ..explore.narrate import headline
    from ..explore.runs import Setup

    setup = Setup.build(
        experiment,
        trace.seed,
        tuple(trace.faults),
        trace.mistakes,
        DEPTH,
        args.target,
        args.admin_token,
    )
    setup.space.check(trace.steps, args.trace)
    attempt = setup.player.play(trace.steps)
    name = experiment.experiment.name
    print(f"{name}: replaying {len(trace.steps)} steps from {args.trace}")
    for line in setup.narrator.lines(attempt):
        print(f"  {line}")
    recorded, found = trace.finding, attempt.finding
    outcome = _outcome(recorded, found)
    output.document = {
        "trace": args.trace,
        "outcome": outcome,
        "recorded": headline(recorded),
        "found": None if found is None else headline(found),
    }
    if found is None:
        print(f"no longer reproduces: recorded {headline(recorded)}")
        return 0
    if outcome == "reproduces":
        print(f"reproduces: {headline(found)}")
    else:
        print(f"a different finding: {headline(found)}; recorded {headline(recorded)}")
    return 1


def _outcome(recorded: Finding, found: Finding | None) -> str:
    """reproduces, different (another finding happens) or gone."""
    if found is None:
        return "gone"
    same = (found.kind, found.step, found.detail) == (recorded.kind, recorded.step, recorded.detail)
    return "reproduces" if same else "different"

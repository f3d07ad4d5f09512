"""`harness explore --exhaustive` and `--most-likely`: the search, and what it prints.

A way past is printed as numbered steps with its trace file, exactly as the sampling
search prints one; when there is none, the output is a statement a person can sign, with
the bounds, the state count and the symmetry assumptions it rests on. A budget that stops
the search first is said, with the depth that was fully covered."""

from __future__ import annotations

import argparse

from ..experiment.model import Experiment
from ..explore import statement
from ..run_folder import RunFolder


def run(args: argparse.Namespace, experiment: Experiment) -> tuple[int, RunFolder]:
    """Exit codes as for sampling: 0 none found, 1 a way past, 130 interrupted; and the
    run folder."""
    from ..explore.bounded import run_bounded
    from ..explore.runs import Setup
    from .explore import EXHAUSTIVE_DEPTH

    depth = args.depth or EXHAUSTIVE_DEPTH
    setup = Setup.build(
        experiment, experiment.experiment.seed, args.faults, args.mistakes, depth, None
    )
    folder = RunFolder.create(f"{experiment.experiment.name}-explore", args.out)
    done = run_bounded(setup, folder, most=args.most_likely, seconds=args.time, states=args.states)
    name, searched = experiment.experiment.name, done.searched
    bounds, took = statement.bounds(done.summary), statement.took(done.summary)
    if searched.stopped_by == "interrupted":
        print(f"{name}: interrupted after {took}; partial record in {folder.path}")
        return 130, folder
    if done.ways:
        _print_ways(done, name, bounds, took, folder)
        return 1, folder
    _print_none(done, name)
    print(f"run folder: {folder.path}")
    return 0, folder


def _print_ways(done, name: str, bounds: str, took: str, folder: RunFolder) -> None:
    from ..explore.narrate import headline

    if done.mode == "exhaustive":
        way, trace, file = done.ways[0]
        steps = len(trace.steps)
        print(
            f"{name}: a shortest way past in {steps} step{'s' * (steps != 1)} (breadth "
            f"first: every shorter sequence was tried; {took}; probability "
            f"{way.probability:.3g} per occurrence)"
        )
        _print_trace(trace, folder.path / file, headline, "")
        return
    print(f"{name}: the {len(done.ways)} most likely ways past within {bounds} ({took}):")
    for rank, (way, trace, file) in enumerate(done.ways, start=1):
        steps = len(trace.steps)
        print(
            f"{rank}. probability {way.probability:.3g} per occurrence "
            f"({steps} step{'s' * (steps != 1)})"
        )
        _print_trace(trace, folder.path / file, headline, "   ")


def _print_trace(trace, path, headline, indent: str) -> None:
    for line in trace.narration:
        print(f"{indent}  {line}")
    print(f"{indent}{headline(trace.finding)}")
    print(f"{indent}trace: {path}  (harness replay {path})")


def _print_none(done, name: str) -> None:
    headline, *details = statement.none_found(done.summary)
    print(f"{name}: {headline}")
    for line in [*details, *statement.space_lines(done.summary), "assumptions:"]:
        print(f"  {line}")
    for assumption in done.assumptions:
        print(f"    - {assumption}")

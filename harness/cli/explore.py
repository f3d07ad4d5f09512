"""`harness explore EXPERIMENT.toml`: search for the shortest way past the safeguards."""

from __future__ import annotations

import argparse

from targets.moderation import TARGET_FAULTS, parse_duration

from ..errors import BadInput
from ..experiment.model import Experiment
from ..explore.findings import KINDS
from ..explore.steps import DEPTH
from ..run_folder import RunFolder
from .common import (
    JsonOutput,
    add_experiment_arguments,
    add_json_argument,
    add_target_argument,
    count,
    load_experiment,
)

BUDGET = 5000  # sequences searched by default (about 5 to 10 seconds on one core)
EXHAUSTIVE_DEPTH = 6  # bounded searches (both kinds): seconds of CPU on the recommended safeguards
BOUND = 50  # the most moves or mistakes a search can be asked for
TOP = 3  # ways past --most-likely prints by default


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explore",
        help="search for the shortest sequence of operator actions and faults past the safeguards",
        description="Search the experiment's operators' possible actions, waits and faults "
        "for a way past its safeguards: " + "; ".join(KINDS.values()) + ". The shortest "
        "sequence found is printed as numbered steps and written to "
        "results/<name>-explore-<time>/trace.json for `harness replay`. Exit codes: 0 "
        "nothing found within the budget, 1 a way past found, 2 bad input, 130 interrupted.",
    )
    add_experiment_arguments(p)
    _add_mode_arguments(p)
    _add_bounds_arguments(p)
    p.add_argument(
        "--compare-with",
        metavar="RUN_DIR",
        help="a run folder of the same experiment (`harness run`, best with --estimator "
        "importance): print how the way past's probability per occurrence compares with "
        "the slip rate per protected trial it measured",
    )
    add_json_argument(p, "the run folder, explore.json and the trace files")
    p.set_defaults(handler=main)


def _add_mode_arguments(p: argparse.ArgumentParser) -> None:
    """Which search, and its budget."""
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--exhaustive",
        action="store_true",
        help="try every sequence of moves up to --depth, breadth first: the first way past "
        "found is a shortest one, and none found is a bounded proof (default: sample "
        "sequences with Hypothesis)",
    )
    mode.add_argument(
        "--most-likely",
        type=count(1),
        nargs="?",
        const=TOP,
        metavar="N",
        help=f"the N most probable ways past (default {TOP}) within --depth and --mistakes, "
        "each with its probability per occurrence",
    )
    budget = p.add_mutually_exclusive_group()
    budget.add_argument(
        "--budget",
        type=count(1),
        metavar="N",
        help=f"sequences to sample before giving up (default {BUDGET:,})",
    )
    budget.add_argument(
        "--time", type=_duration, metavar="T", help="search for this long instead, e.g. 30s, 5m"
    )
    p.add_argument(
        "--states",
        type=count(1),
        metavar="N",
        help="with --exhaustive or --most-likely: stop after this many distinct states",
    )
    p.add_argument("--seed", type=count(0), metavar="S", help="search seed (default: the file's)")
    add_target_argument(p)


def _add_bounds_arguments(p: argparse.ArgumentParser) -> None:
    """What the search may try: faults, mistakes, depth."""
    p.add_argument(
        "--faults",
        type=_faults,
        default=TARGET_FAULTS,
        metavar="KIND,...",
        help="faults that may start and stop during the search (default: all the target "
        f"supports: {', '.join(TARGET_FAULTS)}; 'none' for none)",
    )
    p.add_argument(
        "--mistakes",
        type=count(0, BOUND),
        default=1,
        metavar="N",
        help="honest mistakes a trace may hold (default 1: a safeguard must survive any "
        "one person's error); deliberate acts are not limited",
    )
    p.add_argument(
        "--depth",
        type=count(1, BOUND),
        metavar="N",
        help=f"longest sequence of moves tried (default {DEPTH} sampled, "
        f"{EXHAUSTIVE_DEPTH} exhaustive or most likely; at most {BOUND})",
    )


def _check_mode(args: argparse.Namespace, bounded: bool) -> None:
    """Options that belong to the other kind of search, said in one line."""
    flag = "--exhaustive" if args.exhaustive else "--most-likely"
    if bounded and args.target is not None:
        raise BadInput(
            f"{flag} searches the in-process target only (it copies the target's state at "
            "every step); drop --target, or sample a served target without it"
        )
    if bounded and args.budget is not None:
        raise BadInput(f"--budget counts sampled sequences; with {flag} use --states or --time")
    if not bounded and args.states is not None:
        raise BadInput("--states counts the states of --exhaustive or --most-likely")


def _duration(text: str) -> float:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be longer than 0s, got {text!r}")
    return seconds


def _faults(text: str) -> tuple[str, ...]:
    if text.strip() == "none":
        return ()
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    for kind in kinds:
        if kind not in TARGET_FAULTS:
            raise argparse.ArgumentTypeError(
                f"unknown fault {kind!r}; one of {', '.join(TARGET_FAULTS)} (or 'none')"
            )
    return kinds


def main(args: argparse.Namespace) -> int:
    bounded = args.exhaustive or args.most_likely is not None
    _check_mode(args, bounded)
    experiment = load_experiment(args)
    measured = _measured(args, experiment)
    with JsonOutput(args) as output:
        if bounded:
            from .explore_bounded import run

            code, folder = run(args, experiment)
        else:
            code, folder = _sample(args, experiment)
        output.document = {
            "run_folder": str(folder.path),
            "explore": folder.read_json("explore.json"),
            "traces": sorted(str(p) for p in folder.path.glob("trace*.json")),
        }
        if measured is not None and code != 130:
            output.document["compared_with"] = _compare(args, folder, measured)
    return code


def _measured(args: argparse.Namespace, experiment: Experiment) -> dict | None:
    """--compare-with's slip rate, read (and refused if it is not a run of this
    experiment) before anything is searched."""
    if args.compare_with is None:
        return None
    from pathlib import Path

    from ..explore.against import measured_slip

    return measured_slip(Path(args.compare_with), experiment.experiment.name)


def _compare(args: argparse.Namespace, folder: RunFolder, measured: dict) -> dict:
    """Print the first way past's probability beside the measured slip rate."""
    from ..explore.against import comparison

    ways = folder.read_json("findings.json")["ways"]
    probability = ways[0]["probability"] if ways else None
    label = "most likely way past" if args.most_likely else "shortest way past found"
    lines = comparison(probability, measured, label)
    for line in lines:
        print(line)
    return {"probability": probability, "slip_rate": measured, "lines": lines}


def _sample(args: argparse.Namespace, experiment: Experiment) -> tuple[int, RunFolder]:
    """The sampling search (Hypothesis) and what it prints; the exit code and the folder."""
    args.depth = args.depth or DEPTH
    from ..explore.narrate import headline
    from ..explore.runs import TRACE_FILE, Setup, explore

    name = experiment.experiment.name
    setup = Setup.build(
        experiment,
        experiment.experiment.seed,  # --seed, where given, is set on the experiment
        args.faults,
        args.mistakes,
        args.depth,
        args.target,
        args.admin_token,
    )
    folder = RunFolder.create(f"{name}-explore", args.out)
    budget = None if args.time is not None else (args.budget or BUDGET)
    done = explore(setup, folder, budget=budget, seconds=args.time)
    searched, trace = done.searched, done.trace
    tried = (
        f"{searched.sequences:,} sequences ({searched.steps:,} moves, up to {args.depth} "
        f"each) in {searched.seconds:.1f}s"
    )
    if searched.interrupted:
        print(f"{name}: interrupted after {tried}; partial record in {folder.path}")
        return 130, folder
    if trace is None:
        space = done.summary["space"]
        print(f"{name}: no way past found in {tried}")
        print(f"  operators: {', '.join(space['operators'])}")
        print(
            f"  accounts: {' '.join(space['accounts'])}; faults: "
            f"{', '.join(space['faults']) or 'none'}; mistakes allowed: {space['mistakes']}"
        )
        print(f"run folder: {folder.path}")
        return 0, folder
    steps = len(trace.steps)
    shrunk = f", shrunk from {searched.first_length} steps" if searched.first_length > steps else ""
    print(
        f"{name}: a way past in {steps} step{'s' * (steps != 1)} (found in sequence "
        f"{searched.sequences:,} after {searched.seconds:.1f}s{shrunk})"
    )
    for line in trace.narration:
        print(f"  {line}")
    print(headline(trace.finding))
    path = folder.path / TRACE_FILE
    print(f"trace: {path}  (harness replay {path})")
    return 1, folder

"""How fast `harness explore` searches, and how reliably it finds known ways past.

Prints the search's sequences per second on the recommended safeguards (where it finds
nothing, so every sequence is generated and played), next to a baseline measured in the
same run: the same number of sequences played by the player alone, without Hypothesis
generating them (the ceiling of the search). Then the exhaustive search on the same
safeguards with all faults, for a fixed wall time each with one and two mistakes allowed:
distinct states per second and the depth fully covered (ways past are counted and not
continued, so the search goes on to the bound), with the CPU time and the machine's load,
since on a shared machine wall time says little alone. Then, for ways past with a known
shape, how many of several search seeds find one within the budget, and how many
sequences that took (median and worst).

    python benchmarks/bench_explore.py [--budget N] [--seconds S] [--seeds K]
                                       [--only throughput|exhaustive|reliability]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
from pathlib import Path

from hypothesis import Phase, find, settings
from hypothesis.errors import NoSuchExample

from harness.experiment.model import load
from harness.explore.exhaustive import enumerate_moves
from harness.explore.runs import Setup
from harness.explore.search import search
from harness.explore.steps import DEPTH
from targets.moderation import TARGET_FAULTS

ROOT = Path(__file__).resolve().parent.parent
INCIDENT = ROOT / "experiments" / "incident-2017.toml"
RECOMMENDED = ROOT / "experiments" / "safeguards-recommended.toml"
FAIL_OPEN = ["safeguards.two_person_rule.fail=open", "safeguards.protected_list.fail=open"]
KNOWN = [  # (what, experiment, overrides, mistakes allowed, steps of the shortest way)
    ("2017: one click", INCIDENT, [], 1, 1),
    (
        "2017 + escalate + leaver lockout: the leaver alone",
        INCIDENT,
        ["safeguards.protected_list.mode=escalate", "safeguards.leaver_lockout.enabled=true"],
        0,
        4,
    ),
    ("recommended, failing open", RECOMMENDED, FAIL_OPEN, 1, 2),
    (
        "recommended, no protected list, colluders name each other",
        RECOMMENDED,
        [
            "safeguards.protected_list.mode=off",
            "safeguards.two_person_rule.chooser=requester",
            "operators.0.collude=true",
        ],
        1,
        2,
    ),
]


def setup(path: Path, overrides: list[str], mistakes: int, seed: int) -> Setup:
    return Setup.build(load(path, overrides), seed, TARGET_FAULTS, mistakes, DEPTH, None)


def throughput(budget: int) -> None:
    s = setup(RECOMMENDED, [], 1, 0)
    start = time.perf_counter()
    searched = search(s.player, seed=0, budget=budget)
    elapsed = time.perf_counter() - start
    assert searched.attempt is None, "the recommended safeguards are expected to hold"
    generated = []

    def keep(moves: list) -> bool:
        generated.append(moves)
        return False

    config = settings(max_examples=budget, database=None, phases=[Phase.generate])
    with contextlib.suppress(NoSuchExample):
        find(s.space.sequences(), keep, settings=config)
    start = time.perf_counter()
    for moves in generated:
        s.player.play(moves)
    bare = time.perf_counter() - start
    print(f"recommended safeguards, {budget:,} sequences, nothing found:")
    print(f"  search (Hypothesis + player)   {budget / elapsed:8,.0f} sequences/s")
    print(f"  baseline: player alone         {len(generated) / bare:8,.0f} sequences/s")


def exhaustive(seconds: float) -> None:
    print(f"exhaustive search, recommended safeguards, all faults, {seconds:.0f}s each:")
    for mistakes in (1, 2):
        s = setup(RECOMMENDED, [], mistakes, 0)
        load = os.getloadavg()[0]
        cpu = time.process_time()
        done = enumerate_moves(s.player, seconds=seconds, first=False)
        cpu = time.process_time() - cpu
        shortest = len(done.attempt.taken) if done.attempt else "-"
        print(
            f"  {mistakes} mistake{'s' * (mistakes > 1)}: {done.states / done.seconds:7,.0f} "
            f"states/s; depth {done.covered} fully covered ({done.states:,} states, "
            f"{done.ways:,} ways past reached, shortest {shortest} steps); "
            f"{done.seconds:.0f}s wall, {cpu:.0f}s CPU, load {load:.1f}"
        )


def reliability(budget: int, seeds: int) -> None:
    print(f"known ways past, {seeds} seeds, budget {budget:,} sequences each:")
    for what, path, overrides, mistakes, steps in KNOWN:
        needed, lengths = [], set()
        start = time.perf_counter()
        for seed in range(seeds):
            searched = search(
                setup(path, overrides, mistakes, seed).player, seed=seed, budget=budget
            )
            if searched.attempt is not None:
                needed.append(searched.sequences)
                lengths.add(len(searched.attempt.taken))
        elapsed = time.perf_counter() - start
        spread = (
            f"median {statistics.median(needed):,.0f}, worst {max(needed):,} sequences"
            if needed
            else "-"
        )
        shortest = "/".join(str(n) for n in sorted(lengths)) or "-"
        print(
            f"  {what:58} found {len(needed)}/{seeds} ({spread}); steps {shortest} "
            f"(shortest known {steps}); {elapsed:.1f}s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--only", choices=("throughput", "exhaustive", "reliability"))
    args = parser.parse_args()
    if args.only in (None, "throughput"):
        throughput(args.budget)
    if args.only in (None, "exhaustive"):
        exhaustive(args.seconds)
    if args.only in (None, "reliability"):
        reliability(args.budget, args.seeds)


if __name__ == "__main__":
    main()

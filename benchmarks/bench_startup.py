"""How long the `harness` command takes before it does anything.

Runs `--help`, `--version`, a `--dry-run` and a bad-input error (an experiment file with a
misspelt key) as fresh processes, interleaved with `python -c pass` (the interpreter's own
start-up, the floor) measured in the same run, and prints the median and the fastest of
each, and the median CPU time, which a busy machine disturbs less, next to the load
average. The aim is under 0.5 s for every one on the project's
2-core machine: the command line imports the simulator, the statistics, the charts, the
search and the HTTP stack only once it has something to run.

    python benchmarks/bench_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HARNESS = [sys.executable, "-m", "harness"]
BAD_FILE = '[experiment]\nname = "typo"\n\n[populaton]\naccounts = 100\n'


def commands(bad: Path) -> dict[str, tuple[list[str], int]]:
    """What is timed: a label, the command line and the exit code it must give."""
    return {
        "python -c pass (the floor)": ([sys.executable, "-c", "pass"], 0),
        "harness --help": ([*HARNESS, "--help"], 0),
        "harness --version": ([*HARNESS, "--version"], 0),
        "harness run experiments/ci-gate.toml --dry-run": (
            [*HARNESS, "run", "experiments/ci-gate.toml", "--dry-run"],
            0,
        ),
        "harness run typo.toml (bad input, exit 2)": ([*HARNESS, "run", str(bad)], 2),
    }


def timed(argv: list[str], expected: int) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user and system) of one run of `argv`."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != expected:
        sys.exit(f"{' '.join(argv)}: exit {done.returncode}, expected {expected}\n{done.stderr}")
    return seconds, after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each command (default 7)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        bad = Path(scratch, "typo.toml")
        bad.write_text(BAD_FILE)
        timing = commands(bad)
        for argv, expected in timing.values():  # compile the bytecode once, untimed
            timed(argv, expected)
        times: dict[str, list[tuple[float, float]]] = {label: [] for label in timing}
        for _ in range(args.runs):  # interleaved, so a busy moment hits every command alike
            for label, (argv, expected) in timing.items():
                times[label].append(timed(argv, expected))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{args.runs} runs each, {os.cpu_count()} cores, load average {load}")
    print(f"{'command':52} {'wall, median':>13} {'fastest':>8} {'CPU, median':>12}")
    for label, runs in times.items():
        wall, cpu = zip(*runs, strict=True)
        print(
            f"{label:52} {statistics.median(wall):>12.2f}s {min(wall):>7.2f}s "
            f"{statistics.median(cpu):>11.2f}s"
        )


if __name__ == "__main__":
    main()

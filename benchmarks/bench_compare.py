"""Wall time of `harness compare` for a 4-configuration, 1,000-replication comparison of the
incident population (protected list off/escalate x two-person rule off/on).

Prints it next to a baseline measured in the same run: the same four configurations run as
four plain `harness run`s one after another (same replications, same cores, each writing
its run folder), so the difference is what comparing costs (statistics, comparison files,
report.html). The four runs handed to the backend at once, as `harness compare` does, are
timed too: the same folders, and no slower than one after another (the pool's processes
are started once, and none waits idle at the end of each configuration).
Aim: the comparison finishes in under a minute on a two-core machine. CPU seconds (this
process and its replication workers) are printed too: on a machine shared with other work,
wall time says as much about the neighbours as about the harness.

    python benchmarks/bench_compare.py [--replications N] [--jobs N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time
from pathlib import Path

import tomli_w

from harness.backends.replications import default_jobs
from harness.cli import main as harness
from harness.experiment.comparison_file import load_comparison
from harness.experiment.model import read_toml
from harness.pipeline.run import SimRun, run_sim, run_sims
from harness.run_folder import RunFolder
from harness.world.population import build_population

ROOT = Path(__file__).resolve().parent.parent
MATRIX = {
    "safeguards.protected_list.mode": ["off", "escalate"],
    "safeguards.two_person_rule.enabled": [False, True],
}


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the replication workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        raw = read_toml(ROOT / "experiments/incident-2017.toml")
        raw["experiment"]["replications"] = args.replications
        raw["matrix"] = MATRIX
        path = root / "matrix.toml"
        path.write_text(tomli_w.dumps(raw), encoding="utf-8")

        build_population.cache_clear()
        start, cpu = time.perf_counter(), cpu_seconds()
        for i, configuration in enumerate(load_comparison(path).configurations):
            run_sim(configuration.experiment, RunFolder(root / f"run-{i}"), jobs=args.jobs)
        plain, plain_cpu = time.perf_counter() - start, cpu_seconds() - cpu

        build_population.cache_clear()
        start, cpu = time.perf_counter(), cpu_seconds()
        runs = [
            SimRun(configuration.experiment, RunFolder(root / f"together-{i}"))
            for i, configuration in enumerate(load_comparison(path).configurations)
        ]
        run_sims(runs, jobs=args.jobs)
        together, together_cpu = time.perf_counter() - start, cpu_seconds() - cpu
        for i in range(len(runs)):
            same = [
                (root / f"{kind}-{i}" / "summary.json").read_bytes() for kind in ("run", "together")
            ]
            assert same[0] == same[1], "a configuration's summary differs when run together"

        build_population.cache_clear()
        start, cpu = time.perf_counter(), cpu_seconds()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = harness(
                ["compare", str(path), "--out", str(root / "cmp"), "--jobs", str(args.jobs)]
            )
        compared, compared_cpu = time.perf_counter() - start, cpu_seconds() - cpu
        assert code == 0, f"harness compare exited {code}"

    total = 4 * args.replications
    print(
        f"incident population, 4 configurations x {args.replications:,} replications, "
        f"{args.jobs} processes"
    )
    rows = [
        ("harness compare (runs, statistics, report)", compared, compared_cpu),
        ("baseline: the same work as 4 harness runs", plain, plain_cpu),
        ("the 4 runs handed over at once", together, together_cpu),
        ("cost of comparing", compared - plain, compared_cpu - plain_cpu),
    ]
    print(f"{'':44} wall s   CPU s")
    for what, wall, cpu in rows:
        print(f"{what + ':':44} {wall:6.1f}  {cpu:6.1f}")
    print(f"handed over at once / one after another: {together / plain:.0%} of the wall time")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {default_jobs()} cores")
    print(f"replications per second, compare: {total / compared:.0f}")
    print(f"aim: under 60 s -> {'met' if compared < 60 else 'NOT met'}")


if __name__ == "__main__":
    main()

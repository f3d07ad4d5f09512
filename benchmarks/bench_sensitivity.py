"""A sensitivity study (Sobol' indices) of four uncertain parameters on the incident
population, timed next to the same number of plain replications in the same run.

Parameters: the reviewers' error on a clear case and on a hard call, the tired reviewers'
hours into the shift and the departing insider's hazard window. Prints the wall time, the
widest 95% interval of any index (aim: narrower than 0.1) and the machine's load.
Aim: under 10 minutes on the 2-core machine.

    python benchmarks/bench_sensitivity.py [--method pce|sobol] [--samples N]
        [--replications R] [--jobs J]

pce (default): a chaos expansion fitted to N sets, each with its own replication seeds;
sobol: Saltelli's design, N x (k + 2) sets, all with the same seeds.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

from harness.experiment.model import load
from harness.uncertainty.evaluate import RATES, evaluate
from harness.uncertainty.sensitivity import run_study
from harness.uncertainty.spec import load_study

ROOT = Path(__file__).resolve().parent.parent
INCIDENT = ROOT / "experiments" / "incident-2017.toml"
UNCERTAIN = (
    'operators.0.error={dist="lognormal",median=0.003,error_factor=5}',
    'operators.0.ambiguous_error={dist="uniform",low=0.01,high=0.2}',
    'operators.1.hours_into_shift={dist="uniform",low=0,high=12}',
    'operators.2.hazard_window={dist="uniform",low=600,high=7200}',
)


def children_cpu() -> float:
    """CPU seconds of finished child processes (the pools' workers): what the study cost the
    machine, whatever else was running on it."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def widest_interval(indices: list[dict]) -> float:
    """The full width (twice the half-width) of the widest index interval of one rate."""
    return max(
        (2 * r[k] for r in indices for k in ("S1_conf", "ST_conf") if r[k] is not None),
        default=float("nan"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--method", choices=("sobol", "pce"), default="pce", help="Saltelli's design or a chaos fit"
    )
    parser.add_argument("--samples", type=int, default=4096, help="base samples N")
    parser.add_argument("--replications", type=int, default=1, help="per parameter set")
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    study = load_study(INCIDENT, UNCERTAIN)
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    start, cpu, own = time.perf_counter(), children_cpu(), time.process_time()
    result = run_study(
        study,
        method=args.method,
        samples=args.samples,
        replications=args.replications,
        jobs=args.jobs,
    )
    study_seconds, study_cpu = time.perf_counter() - start, children_cpu() - cpu
    parent_cpu = time.process_time() - own
    sets = result["evaluations"]
    plain = load(INCIDENT)
    start = time.perf_counter()
    evaluate([plain] * sets, args.replications, jobs=args.jobs, common_seeds=args.method != "pce")
    plain_seconds = time.perf_counter() - start
    widths = {rate: widest_interval(result["metrics"][rate]["indices"]) for rate in RATES}
    for row in result["metrics"][RATES[0]]["indices"]:
        print(
            f"  {row['parameter']:<34} ST {row['ST']:.3f} ± {row['ST_conf']:.3f}  "
            f"S1 {row['S1']:.3f} ± {row['S1_conf']:.3f}"
        )
    for rate in RATES:
        if "explained" in result["metrics"][rate]:
            print(f"  {rate}: the fit explains {result['metrics'][rate]['explained']:.0%}")
    print(f"{args.method}: {sets:,} parameter sets x {args.replications} replications")
    cores = os.cpu_count() or 1
    print(f"sensitivity study:         {study_seconds:8.1f} s")
    idle = max(parent_cpu, (study_cpu + parent_cpu) / cores)
    print(
        f"  CPU time: workers {study_cpu:.1f} s "
        f"({1000 * study_cpu / (sets * args.replications):.1f} ms a replication), "
        f"this process {parent_cpu:.1f} s; on {cores} idle cores about {idle:.0f} s of wall time"
    )
    print(f"same plain replications:   {plain_seconds:8.1f} s (median parameters, same run)")
    for rate, width in widths.items():
        print(f"widest 95% index interval: {width:8.3f} (aim < 0.1) for {rate}")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print(f"aim: under 10 minutes -> {'met' if study_seconds < 600 else 'NOT met'}")


if __name__ == "__main__":
    main()

"""What early stopping saves: `harness check` against running every planned replication.

For the gate experiment as it is and with each safeguard switched off in turn, prints the
check's verdict, the replications it ran and its wall time, next to the full run of all
planned replications measured in the same run (the baseline: what a check without
sequential looks costs), and whether both give the same verdict.

    python benchmarks/bench_check.py [EXPERIMENT.toml] [--set dotted.key=value ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from harness.experiment.model import load
from harness.pipeline.check import run_check
from harness.pipeline.run import run_sim
from harness.run_folder import RunFolder

ROOT = Path(__file__).resolve().parent.parent
SWITCHES = (
    None,
    "safeguards.protected_list.mode=off",
    "safeguards.two_person_rule.enabled=false",
    "safeguards.leaver_lockout.enabled=false",
    "safeguards.rate_limit.enabled=false",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", nargs="?", default=str(ROOT / "experiments/ci-gate.toml"))
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    print(f"{'configuration':42} {'check':>22} {'full run':>22}  same verdict")
    with tempfile.TemporaryDirectory() as scratch:
        for index, switch in enumerate(SWITCHES):
            experiment = load(args.experiment, [*args.overrides, *([switch] if switch else [])])
            started = time.perf_counter()
            check = run_check(
                experiment, RunFolder(Path(scratch, f"check-{index}")), keep_histories=0
            )
            check_s = time.perf_counter() - started
            started = time.perf_counter()
            full = run_sim(experiment, RunFolder(Path(scratch, f"full-{index}")), keep_histories=0)
            full_s = time.perf_counter() - started
            full_passed = all(g["passed"] for g in full["gates"])
            verdict = "pass" if check.passed else "FAIL"
            print(
                f"{switch or 'as written':42} "
                f"{verdict} {check.replications:>5} reps {check_s:>5.1f}s   "
                f"{'pass' if full_passed else 'FAIL'} {full['replications']['completed']:>5} "
                f"reps {full_s:>5.1f}s  {'yes' if full_passed == check.passed else 'NO'}"
            )


if __name__ == "__main__":
    main()

"""How long building a population takes, up to the largest `population.accounts` allowed.

The population is built once per experiment (and shared by its replications and a
comparison's configurations); this prints its build time by size.

    python benchmarks/bench_population.py [ACCOUNTS ...]
"""

from __future__ import annotations

import sys
import time

from harness.experiment.model import MAX_ACCOUNTS, PopulationSpec
from harness.world.population import build_population


def main() -> None:
    sizes = [int(n) for n in sys.argv[1:]] or [5_000, 50_000, MAX_ACCOUNTS]
    print(f"{'accounts':>10} {'seconds':>8}")
    for accounts in sizes:
        started = time.perf_counter()
        build_population(PopulationSpec(accounts=accounts, protected=20), 1)
        print(f"{accounts:>10,} {time.perf_counter() - started:>8.1f}")


if __name__ == "__main__":
    main()

"""Live mode flat out: operator decisions per second, next to a plain Locust loop.

One `harness serve` process (memory store) serves a queue-work experiment at time scale
1,000,000: a simulated second is a microsecond of wall time, so the operators never wait
for their item time and the reporter files reports as fast as it can. On that one target,
alternating in the same run (the target reset before each):

- live mode: `harness run BENCH --mode live --target URL`, one shift of about `--seconds`
  wall seconds; decisions per second = the shift's decisions over its wall seconds of load
  (from summary.json): personas, history records, the board, retries, the checker;
- plain Locust: as many `FastHttpUser`s (operators plus reporters), each filing a report,
  claiming from the queue and posting the same decide request in a loop, with the same
  headers (credentials, an idempotency key on every write) and bodies.

An operator decision in live mode costs three requests (the report filed, the claim, the
decision), so the baseline makes exactly those three and the ratio measures what the
harness adds on top of Locust. Aim: live mode at 80% or more of the plain loop.

    python benchmarks/bench_live.py [--seconds 8] [--rounds 3] [--operators 8]
"""

import locust  # noqa: F401, I001  (first: gevent patches the standard library)

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomli_w
from locust import FastHttpUser, constant, task
from locust.env import Environment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from servers import harness_serve  # noqa: E402

from harness.drivers.client import HttpTarget  # noqa: E402

ADMIN = "bench-admin-token"
SCALE = 1_000_000


REPORTERS = 4  # live.reporters; the plain loop gets as many more users


def experiment(operators: int, seconds: float) -> dict:
    """Diligent reviewers who never err (every report is dismissed: one decide request,
    the same as the baseline's) and reports far faster than they can be worked."""
    return {
        "experiment": {"name": "bench-live", "seed": 1, "shift": f"{seconds * SCALE:.0f}s"},
        "population": {
            "accounts": 1000,
            "protected": 0,
            "reports_per_hour": 3_600_000,
            "violating_share": 0.0,
            "ambiguous_share": 0.0,
        },
        "operators": [
            {
                "persona": "diligent",
                "count": operators,
                "error": 0.0,
                "ambiguous_error": 0.0,
                "item_time": ["1s", "1s"],
            }
        ],
        "live": {
            "replications": 1,
            "reporters": REPORTERS,
            "probe_interval": f"{seconds * SCALE:.0f}s",
            "audit_interval": f"{seconds * SCALE:.0f}s",
        },
    }


def live_round(path: Path, url: str, folder: Path) -> float:
    command = ["run", str(path), "--mode", "live", "--target", url, "--out", str(folder)]
    done = subprocess.run(
        [sys.executable, "-m", "harness", *command, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "HARNESS_ADMIN_TOKEN": ADMIN},
        check=True,
    )
    summary = json.loads(done.stdout)
    return summary["metrics"]["decisions"] / summary["live"]["load_wall_seconds"]


def plain_round(url: str, tokens: list[str], seconds: float) -> float:
    """Locust users filing, claiming and deciding in a loop, as fast as they can."""
    free = iter(tokens)

    class Plain(FastHttpUser):
        host = url
        wait_time = constant(0)

        def on_start(self) -> None:
            self.token = f"Bearer {next(free)}"
            self.keys = itertools.count()

        def headers(self, token: bool = True) -> dict[str, str]:
            """Idempotency keys on every write, as the harness sends them."""
            key = {"Idempotency-Key": f"{id(self)}:{next(self.keys)}"}
            return {"Authorization": self.token, **key} if token else key

        @task
        def decide(self) -> None:
            report = {"account_id": 7, "reporter": "bench", "violating": False}
            self.client.post("/reports", json=report, headers=self.headers(token=False))
            claimed = self.client.post("/queue/claim", headers=self.headers()).json()["report"]
            if claimed is not None:
                self.client.post(
                    f"/reports/{claimed['id']}/decision",
                    json={"decision": "dismiss", "action": None, "second_approver": None},
                    headers=self.headers(),
                    name="/reports/{id}/decision",
                )

    env = Environment(user_classes=[Plain], host=url)
    runner = env.create_local_runner()
    runner.start(len(tokens), spawn_rate=len(tokens))
    time.sleep(seconds)
    runner.stop()
    decided = env.stats.get("/reports/{id}/decision", "POST").num_requests
    runner.quit()
    return decided / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--operators", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench-live.toml"
        path.write_text(tomli_w.dumps(experiment(args.operators, args.seconds)))
        serve = (str(path), "--time-scale", str(SCALE), "--admin-token", ADMIN)
        with harness_serve(*serve) as (_, url):
            admin = HttpTarget(url, ADMIN)
            operators = list(admin.credentials().values())
            tokens = [operators[i % len(operators)] for i in range(len(operators) + REPORTERS)]
            live, plain = [], []
            for i in range(args.rounds):
                admin.reset()
                live.append(live_round(path, url, Path(tmp) / f"live-{i}"))
                admin.reset()
                plain.append(plain_round(url, tokens, args.seconds))
                print(f"round {i + 1}: live {live[-1]:,.0f}/s, plain Locust {plain[-1]:,.0f}/s")
    ratio = statistics.median(live) / statistics.median(plain)
    print(
        f"decisions per second, median of {args.rounds} rounds ({args.operators} operators "
        f"and {REPORTERS} reporters, as many plain users; load average "
        f"{os.getloadavg()[0]:.2f}):\n"
        f"  harness live mode      {statistics.median(live):,.0f}\n"
        f"  plain Locust loop      {statistics.median(plain):,.0f}  (same three requests)\n"
        f"  live / plain           {ratio:.0%}  (aim: 80% or more)"
    )


if __name__ == "__main__":
    main()

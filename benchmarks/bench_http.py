"""Decisions per second through the served target's decide endpoint, next to a bare endpoint.

For each store (memory, SQLite) one server process is started the way `harness serve`
runs (one process, one event loop), seeded from the incident experiment, with enough
reports filed and claimed by one operator in advance. `wrk` (a C load generator, Debian
package `wrk`) then drives, on the same server in the same run, first `GET /health` (a
constant answer: the framework's floor) and then `POST /reports/{id}/decision`, each
request deciding a different claimed report. wrk takes a small share of one core, so on a
2-core machine the figures measure the server, not the client. Aim: decide at 50% or
more of the bare endpoint with the memory store.

    python benchmarks/bench_http.py [--seconds 4] [--rounds 3] [--connections 16]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.cli.serve import http_server, listen, served_spec
from harness.experiment import load
from targets.moderation import ModerationService
from targets.moderation.api import ServedTarget
from targets.moderation.store import MemoryStore, SqliteStore

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENT = ROOT / "experiments/incident-2017.toml"
DECIDE_LUA = """
local id = tonumber(os.getenv("BENCH_FIRST")) - 1
local limit = tonumber(os.getenv("BENCH_REPORTS"))
local body = '{"decision":"approve","action":"suspend"}'
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
}
request = function()
  id = id + 1
  if id > limit then id = 0 end  -- out of claimed reports: a 404 makes the run invalid
  return wrk.format("POST", "/reports/" .. id .. "/decision", headers, body)
end
"""


def serve_prepared(store_path: str | None, reports: int, ready) -> None:
    """Server process: the incident experiment's target with `reports` claimed by r1."""
    store = SqliteStore(store_path) if store_path else MemoryStore()
    served = ServedTarget.open(store, lambda: served_spec(load(EXPERIMENT)), time_scale=0)
    token = next(op.token for op in served.service.operators() if op.id == "r1")
    accounts = [a for a in range(1, 5001) if not served.service.account(a).protected]
    for i in range(reports):
        served.call(ModerationService.file_report, "bench", accounts[i % len(accounts)])
        served.call(ModerationService.claim, token)
    sock = listen("127.0.0.1", 0)
    ready.send((sock.getsockname()[1], token))
    http_server(served).run(sockets=[sock])


def wrk(url: str, seconds: int, connections: int, script: Path | None = None, **env) -> dict:
    """Requests per second, latency percentiles and failed answers of one wrk run."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, env={**os.environ, **env}
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p99": re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def measure(store_path: str | None, args: argparse.Namespace, lua: Path) -> tuple[dict, dict]:
    """Median of `args.rounds` alternating bare and decide runs on one server."""
    here, there = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(
        target=serve_prepared, args=(store_path, args.reports, there), daemon=True
    )
    server.start()
    bare, decide = [], []
    try:
        while not here.poll(1):
            if not server.is_alive():
                sys.exit("the server process failed (see above)")
        port, token = here.recv()
        url = f"http://127.0.0.1:{port}"
        wrk(f"{url}/health", 1, args.connections)  # warm up
        first = 1
        for _ in range(args.rounds):
            bare.append(wrk(f"{url}/health", args.seconds, args.connections))
            run = wrk(
                url,
                args.seconds,
                args.connections,
                lua,
                BENCH_TOKEN=token,
                BENCH_FIRST=str(first),
                BENCH_REPORTS=str(args.reports),
            )
            decide.append(run)
            first += run["requests"] + 10 * args.connections  # skip any still in flight
    finally:
        server.terminate()
        server.join(10)
    if any(run["errors"] for run in decide):
        sys.exit("some decisions failed: raise --reports above the decisions made")
    return median(bare), median(decide)


def median(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda run: run["rate"])[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=4, help="per run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per figure")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--reports", type=int, default=150_000, help="claimed in advance")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench_http.py needs wrk (Debian: apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        lua = Path(tmp, "decide.lua")
        lua.write_text(DECIDE_LUA)
        rows = [
            ("memory", *measure(None, args, lua)),
            ("sqlite", *measure(str(Path(tmp, "bench.db")), args, lua)),
        ]
    print(
        f"served incident-2017; wrk, 1 thread, {args.connections} connections; median of "
        f"{args.rounds} alternating {args.seconds} s runs per figure"
    )
    print(f"{'store':<8}{'bare GET /health':>22}{'decide':>22}{'decide / bare':>16}")
    for store, bare, decide in rows:
        print(
            f"{store:<8}{bare['rate']:>12,.0f} req/s (p99 {bare['p99']:>6})"
            f"{decide['rate']:>12,.0f} dec/s (p99 {decide['p99']:>6})"
            f"{decide['rate'] / bare['rate']:>14.0%}"
        )
    memory_ratio = rows[0][2]["rate"] / rows[0][1]["rate"]
    verdict = "met" if memory_ratio >= 0.5 else "NOT met"
    print(f"aim: decide >= 50% of bare with the memory store -> {verdict}")


if __name__ == "__main__":
    main()

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
from harness.experiment.model import load
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


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(
    url: str, seconds: int, connections: int, pid: int, script: Path | None = None, **env
) -> dict:
    """One wrk run: requests per second, the server's CPU time per request, the 99th
    percentile latency and the count of failed answers."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    cpu = cpu_seconds(pid)
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, env={**os.environ, **env}
    ).stdout
    cpu = cpu_seconds(pid) - cpu
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "per_cpu_second": requests / cpu,
        "requests": requests,
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
        wrk(f"{url}/health", 1, args.connections, server.pid)  # warm up
        first = 1
        for _ in range(args.rounds):
            bare.append(wrk(f"{url}/health", args.seconds, args.connections, server.pid))
            run = wrk(
                url,
                args.seconds,
                args.connections,
                server.pid,
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
    print(
        "throughput is what wrk saw; per server CPU-second is what one core of the server "
        "would sustain (steadier on a shared machine)"
    )
    header = f"{'':<24}{'bare GET /health':>18}{'decide':>12}{'decide / bare':>15}"
    print(header)
    for store, bare, decide in rows:
        for label, key in (("throughput /s", "rate"), ("per server CPU-second", "per_cpu_second")):
            print(
                f"{store + ' ' + label:<24}{bare[key]:>18,.0f}{decide[key]:>12,.0f}"
                f"{decide[key] / bare[key]:>15.0%}"
            )
        print(f"{store + ' p99 latency':<24}{bare['p99']:>18}{decide['p99']:>12}")
    _, bare, decide = rows[0]
    for label, key in (("throughput", "rate"), ("per CPU-second", "per_cpu_second")):
        ratio = decide[key] / bare[key]
        verdict = "met" if ratio >= 0.5 else "NOT met"
        print(f"aim: decide >= 50% of bare with the memory store ({label}) -> {verdict}")


if __name__ == "__main__":
    main()

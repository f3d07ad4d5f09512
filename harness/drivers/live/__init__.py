"""Live mode: the experiment's operators as Locust users working a served moderation target
over HTTP, with reports arriving at the experiment's rate and faults injected on schedule.

Everything here runs in a process where Locust, and with it gevent's monkey-patching of the
standard library, was imported first (`python -m harness.drivers.live`); the command line
replaces itself with that process for `harness run --mode live` and `harness worker`.
Nothing outside this package imports it, so the simulator and the rest of the harness never
load gevent.

- `server`: the `harness serve` process the harness starts, stops and restarts
- `steady`: the steady state checked before load, and the rollback after it
- `clock`: shift time as the target's clock tells it
- `record`: one process's share of a shift's history
- `board`: what operators on any worker must know (reports' ground truth, who has work)
- `users`: operators and the reporter as Locust users
- `observe`: status probes and timers read from the audit log
- `nemesis`: faults on schedule
- `cluster`: master and workers (Locust's protocol and custom messages)
- `transport`: Locust's HTTP client behind the client's seam, every wait bounded
- `stopping`: Ctrl-C and SIGTERM, in two steps
- `shift`: one shift from reset to its history; `run`: the whole run into a run folder
"""

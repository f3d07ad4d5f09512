"""Live mode end to end. Importing Locust patches the standard library with gevent, so live
runs happen in `harness` subprocesses, never inside the test process; each test starts
them on 127.0.0.1 with bounded shifts and stops what it starts."""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from conftest import EXPERIMENTS, ROOT, interrupt_once_written
from servers import ADMIN, harness_serve, running, served

from harness.backends.replications import run_replications
from harness.experiment.model import from_raw
from harness.run_folder import RunFolder
from harness.statistics.summary import summarize
from harness.world.environment import Environment

QUICK = ["10s", "30s"]
SMALL_LIVE: dict[str, Any] = {
    "experiment": {"name": "live-small", "seed": 7, "replications": 200, "shift": "30m"},
    "population": {
        "accounts": 60,
        "protected": 5,
        "reports_per_hour": 600,
        "protected_report_share": 0.3,
    },
    "operators": [
        {"persona": "random_approver", "approve_probability": 0.5, "count": 3, "item_time": QUICK},
        {"persona": "diligent", "role": "senior", "count": 1, "item_time": QUICK},
    ],
    "live": {"replications": 8, "time_scale": 1800},
}
"""Rubber-stampers on a queue with many protected reports: about 37% slip through, so a
few live shifts give an informative interval. A shift takes 1 s of wall time."""

AGREEMENT: dict[str, Any] = {
    **SMALL_LIVE,
    "population": {**SMALL_LIVE["population"], "protected_report_share": 0.9},
    "live": {"replications": 4, "time_scale": 600},
}
"""For comparing with the simulator, a pace a busy machine keeps: at time scale 600 an
item takes 17 to 50 ms of wall time, more than the tool's answers to its claim and its
decision together (10 to 20 ms when every core is busy), so live operators decide about
as often as simulated ones. At 1800 they managed a quarter of that on a busy machine, and
the interval widened with the missing trials. With nearly every report against a
protected account, four shifts (3 s of wall time each) give about a thousand trials."""

RUN_FILES = {
    "experiment.toml",
    "manifest.json",
    "summary.json",
    "replications.csv",
    "outages.csv",
    "histories/replication-0000.jsonl",
    "locust_requests.csv",
    "locust_failures.csv",
    "locust_report.html",
}


def harness(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def summary_of(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


def requests_by_name(folder: Path) -> dict[str, int]:
    return {
        row["Name"]: int(row["Request Count"])
        for row in RunFolder(folder).read_table("locust_requests.csv")
    }


def overlap(a: list[float], b: list[float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def test_a_live_run_writes_a_sim_shaped_run_folder_and_agrees_with_the_simulator(
    tmp_path, write_experiment
):
    out = tmp_path / "live"
    experiment_file = str(write_experiment(AGREEMENT))
    every = {"HARNESS_PROGRESS_SECONDS": "1"}
    done = harness("run", experiment_file, "--mode", "live", "--out", str(out), env=every)
    assert done.returncode == 0, done.stderr
    assert {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} >= RUN_FILES
    # headless, it says how the load goes while it runs; Locust's own report of every shift
    assert re.search(
        r"^live: shift [1-4] of 4: [\d,]+ requests, [\d,]+ failed, ", done.stderr, re.M
    )
    locust_report = (out / "locust_report.html").read_text()
    assert "/reports/{id}/decision" in locust_report
    live = summary_of(out)
    assert live["mode"] == "live" and live["status"] == "completed"
    assert live["replications"] == {"requested": 4, "completed": 4}

    experiment = from_raw(AGREEMENT, "live-small")
    result = run_replications(Environment.build(experiment), 200, jobs=1)
    sim = summarize(result.ordered())
    assert set(live["metrics"]) == set(sim)
    live_slip, sim_slip = live["metrics"]["protected_slip_through"], sim["protected_slip_through"]
    assert overlap(live_slip["ci95"], sim_slip["ci95"]), (live_slip, sim_slip)
    assert live_slip["ci95"][1] - live_slip["ci95"][0] < 0.15  # informative, not trivially wide
    assert live_slip["trials"] > 300

    # the history is the harness's own: every request invoked, then answered
    first = [json.loads(line) for line in (out / "histories/replication-0000.jsonl").open()]
    decisions = [op for op in first if op["f"] == "decide"]
    assert {op["type"] for op in decisions} == {"invoke", "ok"}
    # Locust counted the same decisions the checker found in the histories
    assert requests_by_name(out)["/reports/{id}/decision"] == live["metrics"]["decisions"]
    assert live["live"]["exposure_resolution_seconds"] == 600


def test_slip_through_rises_during_a_fail_open_outage_and_not_during_a_fail_closed_one(
    tmp_path,
):
    out = tmp_path / "outage"
    done = harness(
        "run",
        str(EXPERIMENTS / "outage-live.toml"),
        "--mode",
        "live",
        "--replications",
        "3",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    summary = summary_of(out)
    fail_open, fail_closed = (f["protected_slip_through"] for f in summary["faults"])
    calm = summary["outside_faults"]["protected_slip_through"]
    assert fail_open["ci95"][0] > calm["ci95"][1]  # significantly higher than without faults
    assert fail_closed["ci95"][0] <= calm["ci95"][1]  # not higher
    assert fail_closed["rate"] < fail_open["ci95"][0]
    assert "protected_list_outage 1h-2h" in done.stdout

    report = harness("report", str(out))
    assert report.returncode == 0, report.stderr
    page = (out / "report.html").read_text()
    assert 'id="fault-windows"' in page and "approval_service_outage (2h30m to 3h30m)" in page


def test_two_workers_share_the_operators_against_a_running_target(tmp_path, write_experiment):
    path = write_experiment(SMALL_LIVE)
    with harness_serve(str(path), "--time-scale", "1800", "--admin-token", ADMIN) as (_, url):
        out = tmp_path / "workers"
        done = harness(
            "run",
            str(path),
            "--mode",
            "live",
            "--target",
            url,
            "--workers",
            "2",
            "--replications",
            "2",
            "--out",
            str(out),
            env={"HARNESS_ADMIN_TOKEN": ADMIN},
        )
    assert done.returncode == 0, done.stderr
    summary = summary_of(out)
    assert summary["live"]["workers"] == 2 and summary["replications"]["completed"] == 2
    ops = [json.loads(line) for line in (out / "histories/replication-0000.jsonl").open()]
    deciders = {op["process"] for op in ops if op["f"] == "decide" and op["type"] == "ok"}
    assert deciders == {"r1", "r2", "r3", "s1"}  # operators on both workers worked
    assert requests_by_name(out)["/reports/{id}/decision"] == summary["metrics"]["decisions"]
    assert not (out / "target.sqlite").exists()  # the target is the running one


@pytest.mark.parametrize(
    "change, reason",
    [
        ("lost", r"worker [01] \(.+\) was lost: it quit or stopped answering: "),
        ("joined", r"worker 2 \(.+\) joined: "),
    ],
)
def test_a_worker_lost_or_joining_fails_the_run_saying_which(
    change, reason, tmp_path, write_experiment
):
    """Locust hands the users out again round-robin when a worker is lost or joins, which
    would split an operator's sessions across processes: the run stops and says why."""
    raw = {**SMALL_LIVE, "live": {"replications": 5, "time_scale": 120}}  # 15-second shifts
    out, port = tmp_path / "run", str(free_port())
    run = ["run", str(write_experiment(raw)), "--mode", "live", "--expect-workers", "2"]
    master = subprocess.Popen(
        [sys.executable, "-m", "harness", *run, "--master-port", port, "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    workers = [worker(port), worker(port)]
    try:
        table, deadline = out / "replications.csv", time.time() + 120
        while time.time() < deadline and (
            not table.exists() or len(table.read_text().splitlines()) < 2
        ):
            time.sleep(0.1)
        if change == "lost":  # during the second shift
            os.killpg(workers[0].pid, signal.SIGKILL)
        else:
            workers.append(worker(port))
        master.communicate(timeout=120)
    finally:
        for process in (master, *workers):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert master.returncode == 3  # a harness error, not a failed gate
    summary = summary_of(out)
    assert summary["status"] == "failed" and summary["replications"]["completed"] == 1
    assert re.match(reason, summary["live"]["reason"]), summary["live"]["reason"]


def worker(port: str) -> subprocess.Popen:
    """A live-mode worker joining the master on this machine at `port`."""
    master = ["--master", "127.0.0.1", "--master-port", port]
    return subprocess.Popen(
        [sys.executable, "-m", "harness.drivers.live", "worker", *master],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def small_target(tmp_path_factory):
    """A running `harness serve` of the small experiment."""
    folder = tmp_path_factory.mktemp("target")
    path = folder / "small.toml"
    path.write_text(tomli_w.dumps(SMALL_LIVE), encoding="utf-8")
    with harness_serve(str(path), "--time-scale", "1800", "--admin-token", ADMIN) as (_, url):
        yield path, url


def without_latency(document: dict) -> None:
    mapping = document["paths"]["/admin/faults"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["discriminator"]["mapping"]
    del mapping["latency"]


def test_an_unreachable_target_is_refused_in_one_line(tmp_path, small_target):
    path, _ = small_target
    message = "cannot reach it (GET /health: connection refused)"
    assert_refused(path, "http://127.0.0.1:9", message, tmp_path)


def test_a_target_that_answers_something_else_is_refused(tmp_path, small_target):
    path, _ = small_target

    class Other(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'{"status": "green"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Other)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        assert_refused(path, url, "not healthy (GET /health answered", tmp_path)
    finally:
        server.shutdown()


def test_a_wrong_admin_token_is_refused(tmp_path, small_target):
    path, url = small_target
    assert_refused(path, url, "refused the admin token", tmp_path, token="wrong")


def test_a_fault_the_target_does_not_support_is_refused(tmp_path, write_experiment):
    raw = {**SMALL_LIVE, "faults": [{"kind": "latency", "at": "10m", "duration": "10m"}]}
    path = write_experiment(raw)
    env = Environment.build(from_raw(raw, "test"), secret="s")
    with running(served(env.target_spec(0), time_scale=1800), openapi=without_latency) as url:
        assert_refused(path, url, "faults.0.kind = 'latency': --target", tmp_path)


def test_a_restart_fault_needs_a_target_the_harness_started(
    tmp_path, write_experiment, small_target
):
    _, url = small_target
    raw = {**SMALL_LIVE, "faults": [{"kind": "restart", "at": "10m", "duration": "1m"}]}
    message = "faults.0.kind = 'restart': the harness can restart only"
    assert_refused(write_experiment(raw), url, message, tmp_path)


def assert_refused(path: Path, url: str, message: str, tmp_path: Path, token: str = ADMIN):
    """Live mode against `url` exits 2 with one line naming the problem, before any load,
    and records the run as aborted."""
    folder = tmp_path / "run"
    done = harness(
        "run", str(path), "--mode", "live", "--target", url, "--admin-token", token,
        "--out", str(folder),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("harness: "), done.stderr
    assert message in lines[0]
    summary = summary_of(folder)
    assert summary["status"] == "aborted" and summary["metrics"]["decisions"] == 0
    assert json.loads((folder / "manifest.json").read_text())["status"] == "aborted"


def test_ctrl_c_keeps_what_was_measured_and_stops_the_target(tmp_path, write_experiment):
    raw = {**SMALL_LIVE, "live": {"replications": 30, "time_scale": 1800}}
    out = tmp_path / "run"
    code, _, err = interrupt_once_written(
        ["run", str(write_experiment(raw)), "--mode", "live", "--out", str(out)],
        out / "replications.csv",
        rows=2,
    )
    assert code == 130, err
    summary = summary_of(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert summary["status"] == manifest["status"] == "interrupted"
    assert 1 <= summary["replications"]["completed"] < 30
    assert summary["metrics"]["protected_slip_through"]["trials"] > 0
    assert summary["metrics"]["indeterminate"]["operations"] >= 0
    assert not pid_alive(manifest["target_pid"])
    partial = summary["live"]["interrupted_shift"]
    if partial is not None:  # Ctrl-C came during a shift: its history is kept too
        assert (out / f"histories/replication-{partial['replication']:04d}.jsonl").exists()


def test_a_second_signal_ends_a_stuck_run_within_seconds(tmp_path, write_experiment):
    """With the target frozen, a first Ctrl-C would wait for each final probe to time out;
    a second Ctrl-C (or SIGTERM) skips them and kills the target."""
    raw = {**SMALL_LIVE, "live": {"replications": 30, "time_scale": 1800}}
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", str(write_experiment(raw)), "--mode", "live",
         "--out", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    target = None
    try:
        wait_for_rows(out / "replications.csv", 2)
        (target,) = children(proc.pid)  # the served target
        os.kill(target, signal.SIGSTOP)  # the target answers nothing from now on
        proc.send_signal(signal.SIGINT)
        time.sleep(1)
        proc.send_signal(signal.SIGINT)
        stopped = time.monotonic()
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - stopped
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        if target is not None and pid_alive(target):
            os.kill(target, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert took < 20, took
    assert "Traceback" not in err
    summary = summary_of(out)
    assert summary["status"] == "interrupted"
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    assert summary["replications"]["completed"] >= 1
    assert not pid_alive(target)


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def wait_for_rows(table: Path, rows: int) -> None:
    deadline = time.monotonic() + 120
    while not table.exists() or len(table.read_text().splitlines()) < rows:
        assert time.monotonic() < deadline, f"{table} did not get {rows} lines"
        time.sleep(0.1)


@pytest.mark.parametrize("after", [0.3, 2.5])
def test_ctrl_c_in_the_first_seconds_says_what_it_left(tmp_path, write_experiment, after):
    """Whenever it comes, a Ctrl-C gives no traceback: either one line saying nothing was
    written, or a run folder marked interrupted."""
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", str(write_experiment(SMALL_LIVE)), "--mode",
         "live", "--out", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        time.sleep(after)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    if (out / "manifest.json").exists():
        assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
        assert summary_of(out)["status"] == "interrupted"
    else:
        assert err.strip().endswith("nothing was written"), err


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_restart_of_the_target_keeps_its_state(tmp_path, write_experiment):
    raw = {
        **SMALL_LIVE,
        # an hour of shift (6 s of wall time) after the restart: a standby process serves
        # the store at once, however long a new process would take to start
        "experiment": {**SMALL_LIVE["experiment"], "shift": "90m"},
        "faults": [{"kind": "restart", "at": "30m", "duration": "2m"}],
        "live": {"replications": 1, "time_scale": 600},
    }
    out = tmp_path / "run"
    done = harness("run", str(write_experiment(raw)), "--mode", "live", "--out", str(out))
    assert done.returncode == 0, done.stderr
    log = (out / "target.log").read_text()
    assert log.count("serving ") == 2 and "journaled commands replayed" in log
    ops = [json.loads(line) for line in (out / "histories/replication-0000.jsonl").open()]
    down, up = (op["time"] for op in ops if op["f"] == "fault" and op["type"] == "ok")
    before = {
        op["value"]["report"]
        for op in ops
        if op["f"] == "claim"
        and op["type"] == "ok"
        and op["time"] < down
        and op["value"]["report"] is not None
    }
    decided_after = {
        op["value"]["report"]
        for op in ops
        if op["f"] == "decide" and op["type"] == "ok" and op["time"] > up
    }
    assert before & decided_after  # reports claimed before the crash were decided after it
    assert summary_of(out)["metrics"]["indeterminate"]["operations"] > 0  # the crash was felt


@pytest.fixture
def busy_machine():
    """Every core kept busy by another process while the test runs."""
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 2)
    ]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


KILL_THE_OBSERVER = """
import locust  # noqa: F401  (gevent patches the standard library first)
import json, random, sys
import gevent
from locust.event import Events
from harness.drivers.live.clock import ShiftClock
from harness.drivers.live.observe import Observer
from harness.drivers.live.record import Recorder
from harness.drivers.live.transport import harness_target
from harness.world.environment import Environment
from harness.experiment.model import from_raw

url, token, raw = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
experiment = from_raw(raw, "test")
protected = Environment.build(experiment).population.protected_ids
target = harness_target(url, token, Events().request)
clock = ShiftClock.of(target)
recorder = Recorder(clock, float("inf"), "t")
observer = Observer(target, recorder, clock, protected, experiment.live)
random.seed(1)
for _ in range(100):  # the observer's work, killed mid-request as a shift's end kills it
    watching = [gevent.spawn(observer.probe_all), gevent.spawn(observer.read_audit)]
    gevent.sleep(random.uniform(0, 0.02))
    gevent.killall(watching)
recorder.take()
with gevent.Timeout(30, False):
    observer.probe_all()  # the shift's final probes
answered = [op for op in recorder.take() if op[2] == "ok"]
print(len(answered), "of", len(protected), "answered")
"""


def test_killing_the_observer_mid_request_leaves_the_harness_able_to_probe(
    small_target, busy_machine
):
    """A greenlet killed while it took a connection from the harness's pool used to keep
    that connection for good: the shift's final probes then waited forever."""
    _, url = small_target
    done = subprocess.run(
        [sys.executable, "-c", KILL_THE_OBSERVER, url, ADMIN, json.dumps(SMALL_LIVE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["5", "of", "5", "answered"], done.stdout


def test_the_command_line_and_the_simulator_never_load_gevent(tmp_path):
    code = (
        "import sys\n"
        "import harness.cli\n"
        f"assert harness.cli.main(['run', {str(EXPERIMENTS / 'incident-2017.toml')!r}, "
        f"'--replications', '4', '--jobs', '2', '--out', {str(tmp_path / 'run')!r}]) == 0\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent'))\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr

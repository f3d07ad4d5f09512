"""Where replications run: the local pool and a Dask cluster give the same results bit for bit,
a lost worker never hangs a run (its work is retried once, else the run stops with a partial
result and the harness-error exit code 3), and an interrupted run resumes to the same
summary as an uninterrupted one."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT, interrupt_once_written, small, small_raw

from harness.backends import local
from harness.backends.replications import run_chunk, run_replications
from harness.errors import EXIT_HARNESS_ERROR
from harness.world.environment import Environment

HARNESS = [sys.executable, "-m", "harness"]
DASK = str(Path(sys.executable).parent / "dask")
STOP_BOUND = 90  # seconds a run may take to finish or stop once a worker is killed
RUN_BOUND = 300  # seconds a whole run may take on a busy machine before it counts as a hang
REPLICATIONS = 400  # a few seconds of work on two processes


def summary_of(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


def metrics_of(folder: Path) -> dict:
    return summary_of(folder)["metrics"]


def rows(folder: Path) -> int:
    table = folder / "replications.csv"
    return len(table.read_text().splitlines()) if table.exists() else 0


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Path:
    import tomli_w

    path = tmp_path_factory.mktemp("exp") / "small.toml"
    path.write_text(tomli_w.dumps(small_raw(experiment__replications=REPLICATIONS)))
    return path


@pytest.fixture(scope="module")
def local_run(experiment, tmp_path_factory) -> Path:
    """The experiment run uninterrupted on the local pool: what every other way must equal."""
    out = tmp_path_factory.mktemp("local") / "run"
    done = subprocess.run(
        [*HARNESS, "run", str(experiment), "--jobs", "2", "--out", str(out), "--json"],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return out


def test_results_do_not_depend_on_the_number_of_processes():
    env = Environment.build(small())
    one = run_replications(env, 12, jobs=1)
    two = run_replications(env, 12, jobs=2)
    assert one.ordered() == two.ordered() and len(one.metrics) == 12


def _die_at_replication_5(env, indices, keep):
    """A chunk whose worker process dies (as the out-of-memory killer makes it), every time."""
    if 5 in indices:
        os._exit(1)
    return run_chunk(env, indices, keep)


def _die_once_at_replication_5(mark: Path):
    """A chunk whose worker process dies the first time only (`mark` is created then)."""

    def run(env, indices, keep):
        if 5 in indices and not mark.exists():
            mark.touch()
            os._exit(1)
        return run_chunk(env, indices, keep)

    return run


def test_a_pool_worker_that_dies_twice_stops_the_run_with_a_partial_result(
    monkeypatch, tmp_path, write_experiment
):
    from harness.cli import main

    monkeypatch.setattr(local, "run_chunk", _die_at_replication_5)  # forked workers inherit it
    path, out = write_experiment(small_raw(experiment__replications=40)), tmp_path / "run"
    started = time.monotonic()
    assert main(["run", str(path), "--jobs", "2", "--out", str(out)]) == EXIT_HARNESS_ERROR
    assert time.monotonic() - started < STOP_BOUND
    summary = summary_of(out)
    assert summary["status"] == "failed" and "died twice" in summary["error"]
    assert 0 < summary["replications"]["completed"] < 40
    assert "5" not in [line.split(",")[0] for line in (out / "replications.csv").open()]


def test_a_pool_worker_that_dies_once_is_retried(monkeypatch, tmp_path, write_experiment):
    from harness.cli import main

    path = str(write_experiment(small_raw(experiment__replications=40)))
    fresh, retried, mark = tmp_path / "fresh", tmp_path / "retried", tmp_path / "died"
    assert main(["run", path, "--jobs", "2", "--out", str(fresh)]) == 0
    monkeypatch.setattr(local, "run_chunk", _die_once_at_replication_5(mark))
    assert main(["run", path, "--jobs", "2", "--out", str(retried)]) == 0
    assert mark.exists()
    assert summary_of(retried) == summary_of(fresh)


def test_check_reports_a_harness_error_not_a_failed_gate(monkeypatch, tmp_path, write_experiment):
    import xml.etree.ElementTree as ET

    import xmlschema

    from harness.cli import main

    monkeypatch.setattr(local, "run_chunk", _die_at_replication_5)
    gates = [{"metric": "decisions", "min": 1}]
    path = write_experiment(small_raw(experiment__replications=40, gates=gates))
    junit, out = tmp_path / "junit.xml", tmp_path / "run"
    args = ["check", str(path), "--jobs", "2", "--out", str(out), "--junit", str(junit)]
    assert main(args) == EXIT_HARNESS_ERROR
    xmlschema.XMLSchema(ROOT / "tests" / "junit.xsd").validate(junit)
    suite = ET.parse(junit).getroot().find("testsuite")
    assert (suite.get("failures"), suite.get("errors")) == ("0", "1")
    assert suite.find("testcase/error").get("type") == "HarnessError"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "failed" and "died twice" in summary["error"]


def test_a_comparison_stopped_by_a_harness_error_resumes_to_the_same_comparison(
    monkeypatch, tmp_path, write_experiment
):
    from harness.cli import main

    raw = small_raw(experiment__replications=20)
    raw["matrix"] = {"safeguards.two_person_rule.enabled": [False, True]}
    path = str(write_experiment(raw))
    fresh, stopped = tmp_path / "fresh", tmp_path / "stopped"
    assert main(["compare", path, "--jobs", "2", "--out", str(fresh)]) == 0
    with monkeypatch.context() as patch:
        patch.setattr(local, "run_chunk", _die_at_replication_5)
        assert main(["compare", path, "--jobs", "2", "--out", str(stopped)]) == EXIT_HARNESS_ERROR
    assert json.loads((stopped / "manifest.json").read_text())["status"] == "failed"
    assert main(["compare", path, "--jobs", "2", "--resume", str(stopped)]) == 0
    comparisons = [json.loads((f / "comparison.json").read_text()) for f in (fresh, stopped)]
    assert comparisons[0] == comparisons[1]


def children(pid: int) -> list[int]:
    """The processes `pid` forked (pool workers share its command line)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        return [int(c) for c in text.split() if Path(f"/proc/{c}/cmdline").read_bytes() == cmdline]
    except OSError:
        return []


def run_and_kill(args: list[str], out: Path, kill) -> subprocess.CompletedProcess:
    """Run `harness ARGS`, call `kill()` once a few chunks are in `out`, and wait; a run
    still going STOP_BOUND seconds after the kill fails the test (and is killed)."""
    proc = subprocess.Popen(
        [*HARNESS, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.time() + 120
        while rows(out) < 30 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        kill(proc.pid)
        stdout, stderr = proc.communicate(timeout=STOP_BOUND)
    finally:
        if proc.poll() is None:
            for pid in [proc.pid, *children(proc.pid)]:
                os.kill(pid, signal.SIGKILL)
            proc.communicate()
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)


def assert_finished_or_stopped(done: subprocess.CompletedProcess, out: Path, reference: Path):
    """Either the lost work was retried (identical metrics) or the run stopped as a harness
    error with its partial result marked as such."""
    summary = json.loads((out / "summary.json").read_text())
    if done.returncode == 0:
        assert summary["metrics"] == metrics_of(reference)
    else:
        assert done.returncode == EXIT_HARNESS_ERROR, done.stderr
        assert summary["status"] == "failed" and "harness error" in done.stderr
        assert summary["replications"]["completed"] < REPLICATIONS


def test_check_does_not_hang_when_a_pool_worker_is_killed(experiment, local_run, tmp_path):
    """The out-of-memory killer's case: one pool worker SIGKILLed mid-run."""

    def kill_a_worker(pid: int) -> None:
        workers = children(pid)
        assert workers, "no pool worker to kill"
        os.kill(workers[0], signal.SIGKILL)

    out = tmp_path / "run"
    args = ["check", str(experiment), "--jobs", "2", "--out", str(out)]
    args += ["--baseline", str(local_run)]
    done = run_and_kill(args, out, kill_a_worker)
    assert done.returncode in (0, 1, EXIT_HARNESS_ERROR), done.stderr
    if done.returncode != EXIT_HARNESS_ERROR:
        assert "Traceback" not in done.stderr


def test_run_retries_the_work_of_a_killed_pool_worker(experiment, local_run, tmp_path):
    out = tmp_path / "run"
    done = run_and_kill(
        ["run", str(experiment), "--jobs", "2", "--out", str(out)],
        out,
        lambda pid: os.kill(children(pid)[0], signal.SIGKILL),
    )
    assert_finished_or_stopped(done, out, local_run)


def test_an_interrupted_run_resumes_to_the_same_summary(experiment, local_run, tmp_path):
    out = tmp_path / "run"
    args = ["run", str(experiment), "--jobs", "2", "--out", str(out)]
    code, _, err = interrupt_once_written(args, out / "replications.csv", rows=30)
    assert code == 130, err
    assert json.loads((out / "summary.json").read_text())["status"] == "interrupted"
    resumed = subprocess.run(
        [*HARNESS, "run", str(experiment), "--jobs", "2", "--resume", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert metrics_of(out) == metrics_of(local_run)


def test_an_interrupted_check_resumes_to_the_same_summary(experiment, local_run, tmp_path):
    """Against a baseline of the same experiment, the check runs every batch: long enough
    to interrupt, and its gates and comparisons are those of the uninterrupted check."""
    whole, out = tmp_path / "whole", tmp_path / "run"
    # looks of 20 replications: an idle machine runs all 400 in about a second, and the
    # interrupt must land while batches are left
    batches = ["--set", "check.batch=20"]
    check = ["check", str(experiment), "--jobs", "2", "--baseline", str(local_run), *batches]
    done = subprocess.run(
        [*HARNESS, *check, "--out", str(whole)], cwd=ROOT, capture_output=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    code, _, err = interrupt_once_written([*check, "--out", str(out)], out / "replications.csv", 30)
    assert code == 130, err
    assert summary_of(out)["status"] == "interrupted"
    resumed = subprocess.run(
        [*HARNESS, *check, "--resume", str(out)], cwd=ROOT, capture_output=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    assert summary_of(out) == summary_of(whole)
    assert summary_of(out)["check"]["replications_run"] == REPLICATIONS


def test_resume_refuses_a_folder_of_another_experiment(experiment, local_run, tmp_path):
    done = subprocess.run(
        [
            *HARNESS,
            "run",
            str(experiment),
            "--set",
            "experiment.seed=8",
            "--resume",
            str(local_run),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "--resume" in done.stderr and "differs" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def loopback_cluster(**variables: str) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """A Dask scheduler and two single-threaded workers on loopback, started with the
    installed `dask` command (the workers with tests/dask_hooks.py preloaded and
    `variables` in their environment); stopped (all of them) afterwards."""
    pytest.importorskip("distributed")
    from distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": ROOT}
    port = address.rsplit(":", 1)[1]
    scheduler = subprocess.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"], **quiet
    )
    worker = [DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"]
    worker += ["--host", "127.0.0.1", "--preload", str(ROOT / "tests" / "dask_hooks.py")]
    env = {**os.environ, **variables}
    workers = [subprocess.Popen(worker, env=env, **quiet) for _ in range(2)]
    try:
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address, workers
    finally:
        for process in (*workers, scheduler):
            if process.poll() is None:
                process.terminate()
        for process in (*workers, scheduler):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def cluster() -> Iterator[tuple[str, list[subprocess.Popen]]]:
    with loopback_cluster() as started:
        yield started


def test_a_loopback_cluster_gives_the_local_pools_metrics(experiment, local_run, cluster, tmp_path):
    address, _ = cluster
    out = tmp_path / "run"
    done = subprocess.run(
        [*HARNESS, "run", str(experiment), "--scheduler", address, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert metrics_of(out) == metrics_of(local_run)


def test_a_comparison_on_a_loopback_cluster_is_the_local_comparison(cluster, tmp_path):
    """Every configuration's chunks go to the two workers at once; each configuration's
    summary.json and the comparison are those of the local pool."""
    address, _ = cluster
    matrix = str(ROOT / "experiments" / "safeguard-matrix.toml")
    comparisons = []
    for where in (["--jobs", "2"], ["--scheduler", address]):
        out = tmp_path / where[0].strip("-")
        done = subprocess.run(
            [*HARNESS, "compare", matrix, "--replications", "4", "--out", str(out), *where],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        comparison = json.loads((out / "comparison.json").read_text())
        summaries = [
            summary_of(p.parent) for p in sorted(out.glob("configurations/*/summary.json"))
        ]
        comparisons.append((comparison["configurations"], comparison["tests"], summaries))
    assert len(comparisons[0][2]) == 9 and comparisons[0] == comparisons[1]


def run_on(address: str, experiment: Path, out: Path) -> subprocess.CompletedProcess:
    """`harness run` on the cluster at `address`; still running after RUN_BOUND seconds
    fails the test (a hang)."""
    return subprocess.run(
        [*HARNESS, "run", str(experiment), "--scheduler", address, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_BOUND,
    )


def test_a_chunk_whose_dask_worker_dies_once_is_retried(experiment, local_run, tmp_path):
    mark = tmp_path / "died"
    with loopback_cluster(HARNESS_TEST_DIE_AT="100", HARNESS_TEST_DIE_ONCE=str(mark)) as (
        address,
        workers,
    ):
        done = run_on(address, experiment, tmp_path / "run")
        assert mark.exists() and sum(w.poll() is not None for w in workers) == 1
    assert done.returncode == 0, done.stderr
    assert summary_of(tmp_path / "run") == summary_of(local_run)


def test_a_chunk_whose_dask_worker_dies_twice_stops_the_run(experiment, tmp_path):
    with loopback_cluster(HARNESS_TEST_DIE_AT="100") as (address, workers):
        started = time.monotonic()
        done = run_on(address, experiment, tmp_path / "run")
        assert time.monotonic() - started < STOP_BOUND
        assert all(w.poll() is not None for w in workers)
    assert done.returncode == EXIT_HARNESS_ERROR, done.stderr
    summary = summary_of(tmp_path / "run")
    assert summary["status"] == "failed" and "harness error" in done.stderr
    assert "replications 100-" in summary["error"] and "2 times" in summary["error"]
    assert summary["replications"]["completed"] < REPLICATIONS


def test_the_scheduler_comes_from_the_environment_and_a_wrong_one_is_bad_input(
    experiment, tmp_path
):
    pytest.importorskip("distributed")
    done = subprocess.run(
        [*HARNESS, "run", str(experiment), "--out", str(tmp_path / "run")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HARNESS_SCHEDULER": f"tcp://127.0.0.1:{free_port()}"},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().startswith("harness: --scheduler tcp://127.0.0.1:")
    assert len(done.stderr.strip().splitlines()) == 1

"""Input that would never finish, or that broke the one-line promise, is one line and exit 2:
sizes past their documented bounds, endless durations, and paths that are not a readable
experiment file (a FIFO, a device, a symlink loop, a path through a file)."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys

import pytest
from conftest import ROOT, small_raw

from harness.cli import main

NINES = "9" * 400


def _harness(*args: str, timeout: float = 60) -> tuple[int, str]:
    """`python -m harness ARGS` with its memory capped at 2 GB and a deadline, so input that
    used to hang or fill memory fails the test instead of the machine; exit code, stderr."""

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=cap_memory,
    )
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"harness {' '.join(args)} did not finish within {timeout:g} s")
    return proc.returncode, err


def _one_line(err: str) -> str:
    assert "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    return err.strip()


def _entries(n: int, count: int) -> list[dict]:
    return [{"persona": "diligent", "count": count} for _ in range(n)]


TOO_LARGE = [
    ("shift of 1000 days", {"experiment__shift": "1000d"}, "experiment.shift", "at most 7d"),
    ("shift of 1e300 s", {"experiment__shift": 1e300}, "experiment.shift", "at most 7d"),
    ("endless shift", {"experiment__shift": float("inf")}, "experiment.shift", "at most 7d"),
    ("400-digit shift", {"experiment__shift": f"{NINES}s"}, "experiment.shift", "at most 7d"),
    ("400-digit seconds", {"restore__detect_after": int(NINES)}, "detect_after", "at most 365d"),
    ("endless restore", {"restore__detect_after": float("inf")}, "detect_after", "at most 365d"),
    ("endless report rate", {"population__reports_per_hour": float("inf")}, "reports_per_hour", ""),
    (
        "report rate past the bound",
        {"population__reports_per_hour": 1e6},
        "population.reports_per_hour",
        "at most 100,000",
    ),
    (
        "too many reports a shift",
        {"population__reports_per_hour": 90_000},
        "population.reports_per_hour",
        "at most 200,000",
    ),
    (
        "300 entries of 10,000 operators",
        {"operators": _entries(300, 10_000)},
        "operators",
        "at most 10,000",
    ),
    ("2 million accounts", {"population__accounts": 2_000_000}, "accounts", "at most 200,000"),
    (
        "compromised attempts",
        {"operators": [{"persona": "compromised", "count": 1000, "attempts": 1000}]},
        "operators",
        "at most 100,000",
    ),
    (
        "reports over the run",
        {"experiment__replications": 1_000_000, "population__reports_per_hour": 1000},
        "experiment.replications",
        "at most 100,000,000",
    ),
    ("too many replications", {"experiment__replications": 10**7}, "replications", "1,000,000"),
    (
        "endless error factor",
        {"operators": [{"persona": "diligent", "error_factor": float("inf")}]},
        "error_factor",
        "finite",
    ),
]


@pytest.mark.parametrize("name,overrides,key,bound", TOO_LARGE, ids=[t[0] for t in TOO_LARGE])
def test_a_size_past_its_bound_is_refused_by_the_dry_run(
    name, overrides, key, bound, tmp_path, capsys, write_experiment
):
    path = write_experiment(small_raw(**overrides))
    assert main(["run", str(path), "--dry-run"]) == 2
    err = _one_line(capsys.readouterr().err)
    assert key in err and bound in err, err


def test_an_endless_duration_stops_harness_serve_at_once(tmp_path, write_experiment):
    path = write_experiment(small_raw(restore__detect_after=float("inf")))
    code, err = _harness("serve", str(path), "--port", "0")
    assert code == 2
    assert "restore.detect_after = inf" in _one_line(err)


def test_deep_nesting_is_one_line(tmp_path, capsys, write_experiment):
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    assert main(["run", str(deep), "--dry-run"]) == 2
    assert "nested more than 16 deep" in _one_line(capsys.readouterr().err)
    path = write_experiment(small_raw())
    value = "[" * 5000 + "]" * 5000
    assert main(["run", str(path), "--dry-run", "--set", f"population.accounts={value}"]) == 2
    assert "nested more than 16 deep" in _one_line(capsys.readouterr().err)


def _symlink_loop(tmp_path):
    (tmp_path / "a.toml").symlink_to(tmp_path / "b.toml")
    (tmp_path / "b.toml").symlink_to(tmp_path / "a.toml")
    return tmp_path / "a.toml"


def _through_a_file(tmp_path):
    (tmp_path / "file.toml").write_text("")
    return tmp_path / "file.toml" / "x"


UNREADABLE = [
    ("symlink loop", _symlink_loop, "too many levels of symbolic links"),
    ("name too long", lambda tmp: tmp / ("x" * 300 + ".toml"), "file name too long"),
    ("path through a file", _through_a_file, "not a directory"),
    ("directory", lambda tmp: tmp, "not a regular file"),
]


@pytest.mark.parametrize("name,make,reason", UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_a_path_that_cannot_be_read_says_why(name, make, reason, tmp_path, capsys):
    path = make(tmp_path)
    assert main(["run", str(path), "--dry-run"]) == 2
    err = _one_line(capsys.readouterr().err)
    assert err.startswith(f"harness: {path}: ") and reason in err, err


def test_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "exp.toml"
    os.mkfifo(fifo)
    code, err = _harness("run", str(fifo), "--dry-run", timeout=30)
    assert code == 2 and "not a regular file" in _one_line(err)


def test_dev_zero_is_refused_not_read_until_memory_runs_out():
    code, err = _harness("run", "/dev/zero", "--dry-run", timeout=30)
    assert code == 2 and "not a regular file" in _one_line(err)


def test_a_file_larger_than_any_experiment_is_refused(tmp_path, capsys):
    big = tmp_path / "big.toml"
    big.write_text("# padding\n" * 200_000)
    assert main(["run", str(big), "--dry-run"]) == 2
    assert "larger than 1,000,000 bytes" in _one_line(capsys.readouterr().err)


def test_a_byte_order_mark_is_read_past(tmp_path, write_experiment, capsys):
    path = write_experiment(small_raw())
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert main(["run", str(path), "--dry-run"]) == 0
    assert 'name = "small"' in capsys.readouterr().out


def test_text_that_is_not_utf8_says_so(tmp_path, capsys):
    path = tmp_path / "utf16.toml"
    path.write_text('[experiment]\nname = "x"\n', encoding="utf-16")
    assert main(["run", str(path), "--dry-run"]) == 2
    assert "not UTF-8 text" in _one_line(capsys.readouterr().err)

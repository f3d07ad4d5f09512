"""What `harness check` leaves for CI besides its exit code: plain progress lines and
unwrapped verdicts in a log, the gate history and its chart, the job summary."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT, small_raw

from harness.cli import main
from harness.reports.trend import trend_chart
from harness.verdicts.trend import read

GATES = [
    {"metric": "protected_slip_through.rate", "max_upper_ci": 0.03},
    {"metric": "decisions", "min": 1},
]
PROGRESS = re.compile(r"^small: \d[\d,]*/100 \(\d+%\)( done)?, \d\d:\d\d:\d\d$")


def harness(*args: str, **env: str) -> subprocess.CompletedProcess:
    """The command as CI runs it: stdout and stderr are pipes, not a terminal."""
    environment = {**os.environ, "HARNESS_PROGRESS_SECONDS": "0.2", **env}
    environment.pop("COLUMNS", None)
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=300,
    )


@pytest.fixture
def gated(write_experiment):
    return write_experiment(small_raw(experiment__replications=100, check__batch=50, gates=GATES))


def test_a_log_gets_progress_lines_and_unwrapped_verdicts(tmp_path, gated):
    done = harness("check", str(gated), "--out", str(tmp_path / "run"))
    assert done.returncode == 0, done.stderr
    progress = [line for line in done.stderr.splitlines() if line.startswith("small:")]
    assert progress and all(PROGRESS.match(line) for line in progress), progress
    assert progress[0].startswith("small: 0/100")  # said when it starts, not only at the end
    gates = [line for line in done.stdout.splitlines() if line.startswith("gate ")]
    assert len(gates) == 2  # one line each, however long: a log has no window to wrap at
    assert all(re.search(r"\(observed [^)]+\); (settled after|decided on) ", g) for g in gates)
    assert "upper 95% bound of protected_slip_through.rate <= 3% (observed " in gates[0]


def test_the_gate_history_grows_and_is_charted(tmp_path, gated):
    history = tmp_path / "ci" / "gates.jsonl"
    for run in ("a", "b", "c"):
        assert (
            main(["check", str(gated), "--out", str(tmp_path / run), "--history", str(history)])
            == 0
        )
    lines = read(history)
    assert len(lines) == 3
    assert [g["label"] for g in lines[-1]["gates"]] == [
        "gate protected_slip_through.rate max_upper_ci 0.03",
        "gate decisions min 1",
    ]
    rate = lines[-1]["gates"][0]
    assert rate["ci95"][0] <= rate["value"] <= rate["ci95"][1]
    assert rate["observed"] < rate["bound"]  # what the gate read when it was settled
    assert all(line["passed"] for line in lines)
    kept = read(tmp_path / "c" / "trend.jsonl")  # the run folder keeps what it charted
    assert [line["run_folder"] for line in kept] == [str(tmp_path / r) for r in "abc"]
    report = (tmp_path / "c" / "report.html").read_text()
    assert "<h2>Gate history</h2>" in report and "The latest 3 check runs" in report


def test_the_trend_chart_has_a_panel_per_gate_with_every_run_inside_it(tmp_path, gated):
    history = tmp_path / "gates.jsonl"
    for run in ("a", "b"):
        main(["check", str(gated), "--out", str(tmp_path / run), "--history", str(history)])
    figure = trend_chart(read(history))
    axes = figure.get_axes()
    assert [ax.get_title(loc="left") for ax in axes] == [
        "gate protected_slip_through.rate max_upper_ci 0.03",
        "gate decisions min 1",
    ]
    for ax in axes:
        dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
        assert len(dots) == 2
        low, high = ax.get_ylim()
        for dot in dots:
            (x,), (y,) = dot.get_data()
            assert ax.get_xlim()[0] < x < ax.get_xlim()[1] and low <= y <= high


def test_a_history_file_that_is_not_one_is_refused_before_anything_runs(tmp_path, gated):
    history = tmp_path / "gates.jsonl"
    history.write_text(json.dumps({"gates": []}) + "\nnot json\n")
    done = harness("check", str(gated), "--out", str(tmp_path / "run"), "--history", str(history))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"harness: --history {history}: line 2 is not a line of a gate history (one JSON "
        "object per check, as harness check --history writes)"
    ]
    assert not (tmp_path / "run").exists()


def test_the_job_summary_is_written_when_ci_asks_for_one(tmp_path, write_experiment, monkeypatch):
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    failing = [*GATES, {"metric": "protected_slip_through.rate", "max_upper_ci": 0.002}]
    raw = small_raw(experiment__replications=100, check__batch=50, gates=failing)
    path = write_experiment(raw, "failing.toml")
    assert main(["check", str(path), "--out", str(tmp_path / "run")]) == 1
    text = summary.read_text()
    assert text.startswith("## Safeguard gates: small (failed)\n")
    rows = [
        line for line in text.splitlines() if line.startswith("| ✅") or line.startswith("| ❌")
    ]
    assert len(rows) == 3 and rows[2].startswith("| ❌ | `gate protected_slip_through.rate")
    assert (tmp_path / "run" / "report.html").is_file()


def test_no_job_summary_without_ci(tmp_path, gated, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert main(["check", str(gated), "--out", str(tmp_path / "run")]) == 0
    assert (tmp_path / "run" / "report.html").is_file()
    assert not list(tmp_path.glob("*.md"))

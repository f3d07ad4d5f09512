"""`--json` on every command that writes or reads a run folder: stdout is one JSON document
that agrees with the folder's files, the messages go to stderr, and the exit codes are the
same as without it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import small_raw
from test_exhaustive import STALE_FEED_LATE
from test_explore import experiment, write

from harness.cli import main

GATES = [{"metric": "decisions", "min": 1}]


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, object, str]:
    """Run `harness ARGV --json` in this process: exit code, parsed stdout, stderr."""
    code = main([*argv, "--json"])
    printed = capsys.readouterr()
    return code, json.loads(printed.out), printed.err


def read(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


def test_check_prints_the_summary_and_the_verdicts(tmp_path, capsys, write_experiment):
    path = write_experiment(small_raw(experiment__replications=4, gates=GATES))
    out = tmp_path / "run"
    code, doc, err = run_json(["check", str(path), "--jobs", "1", "--out", str(out)], capsys)
    assert code == 0
    assert doc["run_folder"] == str(out) and doc["passed"] is True
    assert doc["summary"] == read(out / "summary.json")
    assert [v["passed"] for v in doc["summary"]["check"]["gates"]] == [True]
    assert f"run folder: {out}" in err


def test_check_keeps_exit_code_1_for_a_failed_gate(tmp_path, capsys, write_experiment):
    gates = [{"metric": "decisions", "max": 0}]
    path = write_experiment(small_raw(experiment__replications=4, gates=gates))
    argv = ["check", str(path), "--jobs", "1", "--out", str(tmp_path / "run")]
    code, doc, _ = run_json(argv, capsys)
    assert code == 1 and doc["passed"] is False


@pytest.fixture
def runs(tmp_path, write_experiment) -> list[Path]:
    """Two finished run folders of the same small experiment, one with a safeguard on."""
    folders = []
    for i, enabled in enumerate((False, True)):
        raw = small_raw(experiment__replications=4)
        raw["safeguards"] = {"two_person_rule": {"enabled": enabled}}
        out = tmp_path / f"run{i}"
        assert main(["run", str(write_experiment(raw, f"e{i}.toml")), "--out", str(out)]) == 0
        folders.append(out)
    return folders


def test_compare_prints_comparison_json(tmp_path, capsys, runs):
    capsys.readouterr()
    out = tmp_path / "cmp"
    code, doc, err = run_json(["compare", *map(str, runs), "--out", str(out)], capsys)
    assert code == 0
    assert doc["folder"] == str(out) and doc["report"] == str(out / "report.html")
    assert doc["comparison"] == read(out / "comparison.json")
    assert "report:" in err


def test_compare_dry_run_lists_the_configurations(tmp_path, capsys, write_experiment):
    raw = small_raw()
    raw["matrix"] = {"safeguards.two_person_rule.enabled": [False, True]}
    code, doc, err = run_json(["compare", str(write_experiment(raw)), "--dry-run"], capsys)
    assert code == 0 and "#2" in err
    assert [c["baseline"] for c in doc["configurations"]] == [True, False]
    assert doc["configurations"][1]["values"] == {"safeguards.two_person_rule.enabled": True}


def test_report_prints_the_report_path(capsys, runs):
    capsys.readouterr()
    code, doc, _ = run_json(["report", str(runs[0])], capsys)
    assert code == 0
    assert doc == {"kind": "run", "folder": str(runs[0]), "report": str(runs[0] / "report.html")}
    assert (runs[0] / "report.html").is_file()


def test_explore_and_replay_print_the_trace_and_whether_it_reproduces(tmp_path, capsys):
    path = write(tmp_path, experiment(*STALE_FEED_LATE))
    out = tmp_path / "found"
    argv = ["explore", str(path), "--exhaustive", "--mistakes", "0", "--depth", "3"]
    code, doc, err = run_json([*argv, "--out", str(out)], capsys)
    assert code == 1 and "a shortest way past in 3 steps" in err
    assert doc["run_folder"] == str(out)
    assert doc["explore"] == read(out / "explore.json")
    assert doc["traces"] == [str(out / "trace.json")]
    code, doc, err = run_json(["replay", doc["traces"][0]], capsys)
    assert code == 1 and "reproduces:" in err
    assert doc["outcome"] == "reproduces" and doc["found"] == doc["recorded"]


def test_replay_says_when_a_finding_is_gone(tmp_path, capsys):
    path = write(tmp_path, experiment(*STALE_FEED_LATE))
    argv = ["explore", str(path), "--exhaustive", "--mistakes", "0", "--depth", "3"]
    assert main([*argv, "--out", str(tmp_path / "found")]) == 1
    capsys.readouterr()
    fix = "safeguards.leaver_lockout.fail=closed"
    trace = str(tmp_path / "found" / "trace.json")
    code, doc, _ = run_json(["replay", trace, "--set", fix], capsys)
    assert code == 0 and doc["outcome"] == "gone" and doc["found"] is None


def test_sampled_explore_that_finds_nothing_prints_explore_json(tmp_path, capsys, write_experiment):
    path = write_experiment(small_raw())
    out = tmp_path / "none"
    argv = ["explore", str(path), "--budget", "5", "--faults", "none", "--out", str(out)]
    code, doc, _ = run_json(argv, capsys)
    assert code in (0, 1)
    assert doc["explore"] == read(out / "explore.json")
    assert doc["traces"] == ([str(out / "trace.json")] if code == 1 else [])

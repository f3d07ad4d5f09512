"""`harness run`: bad input, the run folder, dry runs, overrides, gates and interruption."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys

import pytest
from conftest import EXPERIMENTS, interrupt_once_written, small_raw

from harness.cli import main
from harness.experiment.model import load
from harness.history import read_jsonl

BAD_FILES = [
    ("missing file", None, "no such file"),
    ("invalid toml", "[experiment\nname = 1", "not valid TOML"),
    (
        "unknown key",
        {"population": {"acounts": 10}},
        "unknown key 'population.acounts'; did you mean 'accounts'?",
    ),
    ("unknown section", {"safegaurds": {}}, "did you mean 'safeguards'?"),
    (
        "probability too big",
        {"population": {"protected_report_share": 1.5}},
        "population.protected_report_share = 1.5: a share between 0 and 1",
    ),
    (
        "negative count",
        {"operators": [{"persona": "diligent", "count": -1}]},
        "operators.0.count = -1: at least 0",
    ),
    (
        "bad duration",
        {"experiment": {"name": "x", "shift": "8 hours"}},
        "experiment.shift = '8 hours': expected a duration such as '90s', '11m', '8h'",
    ),
    (
        "wrong type",
        {"safeguards": {"two_person_rule": {"enabled": "yes please"}}},
        "safeguards.two_person_rule.enabled = 'yes please': true or false",
    ),
    (
        "unknown persona",
        {"operators": [{"persona": "sleepy"}]},
        "operators.0.persona = 'sleepy': one of diligent, tired, random_approver, "
        "departing_insider, compromised",
    ),
    (
        "operator without a persona",
        {"operators": [{"count": 2}]},
        "operators.0.persona: missing: this key is required; one of diligent",
    ),
    (
        "persona key on the wrong persona",
        {"operators": [{"persona": "diligent", "approve_probability": 0.5}]},
        "unknown key 'operators.0.approve_probability'",
    ),
    (
        "bad enum",
        {"safeguards": {"protected_list": {"mode": "maybe"}}},
        "safeguards.protected_list.mode = 'maybe': one of 'off', 'escalate', 'block'",
    ),
    (
        "gate on an unknown metric",
        {"gates": [{"metric": "slip_rate", "max": 0.1}]},
        "gates.0.metric = 'slip_rate': unknown metric",
    ),
    (
        "gate without a bound",
        {"gates": [{"metric": "escalations"}]},
        "a gate needs exactly one of max, min, max_upper_ci or max_band_p95",
    ),
    (
        "fault after the shift",
        {"faults": [{"kind": "hr_feed_stale", "at": "9h", "duration": "1h"}]},
        "starts after the shift ends",
    ),
    (
        "escalate without seniors",
        {
            "operators": [{"persona": "diligent"}],
            "safeguards": {"protected_list": {"mode": "escalate"}},
        },
        "needs at least one senior",
    ),
]


def _merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@pytest.mark.parametrize("name,content,expected", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_experiment_is_one_line_and_exit_2(
    name, content, expected, tmp_path, capsys, write_experiment
):
    if content is None:
        path = tmp_path / "nope.toml"
    elif isinstance(content, str):
        path = tmp_path / "broken.toml"
        path.write_text(content)
    else:
        path = write_experiment(_merge(small_raw(), content))
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"harness: {path}"), err
    assert expected in err, err


def test_bad_override_names_the_set_option(tmp_path, capsys, write_experiment):
    path = write_experiment(small_raw())
    code = main(["run", str(path), "--set", "population.protected=0.5", "--dry-run"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--set population.protected=0.5" in err and "a whole number" in err
    assert main(["run", str(path), "--set", "operators.9.count=1", "--dry-run"]) == 2
    assert "operators has 2 entries" in capsys.readouterr().err
    assert main(["run", str(path), "--set", "nonsense", "--dry-run"]) == 2
    assert "expected dotted.key=value" in capsys.readouterr().err


USAGE_MISTAKES = [
    (["run", "x.toml", "--replications", "0"], "harness run: argument --replications"),
    (["frob"], "harness: argument COMMAND: invalid choice: 'frob'"),
    (["explore", "x.toml", "--budget", "5", "--time", "3s"], "not allowed with argument"),
]


@pytest.mark.parametrize("argv,expected", USAGE_MISTAKES, ids=[m[0][0] for m in USAGE_MISTAKES])
def test_a_usage_mistake_is_one_line_and_exit_2(capsys, argv, expected):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err and "--help" in err, err


def test_no_traceback_from_the_installed_command(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[population]\naccounts = 'many'\n")
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", str(broken)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_dry_run_prints_the_resolved_experiment_with_defaults(capsys):
    path = EXPERIMENTS / "incident-2017.toml"
    assert main(["run", str(path), "--dry-run", "--set", "experiment.replications=7"]) == 0
    out = capsys.readouterr().out
    assert "replications = 7" in out
    assert 'detect_after = "11m"' in out
    assert "error_factor = 5.0" in out  # a default the file does not spell out


@pytest.mark.parametrize("name", ["incident-2017", "safeguards-recommended"])
def test_the_resolved_experiment_loads_again_unchanged(tmp_path, name):
    """A run folder's experiment.toml (every key filled in, `role` on every persona)
    is itself a valid experiment file, so a run can be repeated from it."""
    resolved = load(EXPERIMENTS / f"{name}.toml")
    again = tmp_path / "experiment.toml"
    again.write_text(resolved.to_toml(), encoding="utf-8")
    assert load(again) == resolved


def test_run_writes_a_complete_run_folder(tmp_path, capsys, write_experiment):
    path = write_experiment(small_raw())
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out), "--histories", "2", "--jobs", "2"]) == 0
    printed = capsys.readouterr().out
    assert "protected slip-through" in printed
    summary = json.loads((out / "summary.json").read_text())
    metrics = summary["metrics"]
    for key in (
        "decisions",
        "protected_slip_through",
        "shift_incident_probability",
        "exposure_minutes",
        "caught_by",
        "wrongful_actions",
        "missed_violations",
        "queue_wait_minutes",
    ):
        assert key in metrics
    slip = metrics["protected_slip_through"]
    assert {"slips", "trials", "rate", "ci95"} <= set(slip) and len(slip["ci95"]) == 2
    assert set(metrics["exposure_minutes"]) >= {"mean", "p50", "p95", "max"}
    assert summary["status"] == "completed"
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"version", "seed", "python", "git_revision"} <= set(manifest)
    assert manifest["status"] == "completed"
    rows = list(csv.DictReader((out / "replications.csv").open()))
    assert [int(r["replication"]) for r in rows] == list(range(20))
    assert sum(int(r["decisions"]) for r in rows) == metrics["decisions"]
    histories = sorted((out / "histories").iterdir())
    assert [h.name for h in histories] == ["replication-0000.jsonl", "replication-0001.jsonl"]
    assert len(read_jsonl(histories[0])) > 100
    assert "[experiment]" in (out / "experiment.toml").read_text()


def test_json_output_and_default_results_folder(tmp_path, capsys, write_experiment, monkeypatch):
    path = write_experiment(small_raw())
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(path), "--json", "--replications", "3"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["replications"] == {"requested": 3, "completed": 3}
    (folder,) = (tmp_path / "results").iterdir()
    assert folder.name.startswith("small-")


def test_failed_gate_exits_1_and_passing_gate_exits_0(tmp_path, capsys, write_experiment):
    raw = small_raw(gates=[{"metric": "decisions", "min": 1}])
    assert main(["run", str(write_experiment(raw)), "--out", str(tmp_path / "a")]) == 0
    assert "PASS" in capsys.readouterr().out
    raw = small_raw(gates=[{"metric": "decisions", "max": 1}])
    assert main(["run", str(write_experiment(raw)), "--out", str(tmp_path / "b")]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "decisions <= 1" in out


@pytest.mark.parametrize(
    "signals",
    [(signal.SIGINT,), (signal.SIGTERM,), (signal.SIGINT, signal.SIGINT, signal.SIGTERM)],
    ids=["ctrl-c", "kill", "repeated"],
)
def test_interrupted_run_leaves_a_readable_partial_result(tmp_path, write_experiment, signals):
    path = write_experiment(small_raw(experiment__replications=100000))
    out = tmp_path / "run"
    code, _, err = interrupt_once_written(
        ["run", str(path), "--out", str(out), "--jobs", "2"],
        out / "replications.csv",
        signals=signals,
    )
    assert code == 130, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert 0 < summary["replications"]["completed"] < 100000
    assert summary["gates"] == []
    assert "partial result" in err
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"


def test_an_admin_token_in_the_environment_does_not_stop_a_sim_run(
    tmp_path, write_experiment, monkeypatch
):
    monkeypatch.setenv("HARNESS_ADMIN_TOKEN", "secret")
    path = write_experiment(small_raw(experiment__replications=2))
    assert main(["run", str(path), "--out", str(tmp_path / "run")]) == 0

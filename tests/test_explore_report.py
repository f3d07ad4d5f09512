"""An explore run's findings.json and report.html (`harness report EXPLORE_DIR`), and
`harness explore --compare-with RUN_DIR`: the way past's probability beside a measured
slip rate, each said per what it is."""

from __future__ import annotations

import json
from html import escape

from test_exhaustive import STALE_FEED_LATE, TWO_HOLES
from test_explore import HOLES, experiment, write

from harness.cli import main
from harness.estimate.weighted import mean_estimate

TWO_HOLES_PLAIN = {"population.ambiguous_share": 0}


def _narrated(out, trace: str) -> list[str]:
    """A trace's steps without their numbers, as the page escapes them."""
    lines = json.loads((out / trace).read_text())["narration"]
    return [escape(line.split(". ", 1)[1]) for line in lines]


def test_the_report_of_a_most_likely_run_shows_each_way_its_steps_and_probability(tmp_path, capsys):
    path = write(tmp_path, experiment(*TWO_HOLES, **TWO_HOLES_PLAIN))
    out = tmp_path / "ranked"
    argv = ["explore", str(path), "--most-likely", "2", "--depth", "3", "--faults", "none"]
    assert main([*argv, "--out", str(out)]) == 1
    assert main(["report", str(out)]) == 0
    assert "explore report:" in capsys.readouterr().err
    page = (out / "report.html").read_text()
    ways = json.loads((out / "findings.json").read_text())["ways"]
    assert [(w["steps"], round(w["probability"], 6)) for w in ways] == [(2, 0.25), (2, 0.0015)]
    assert "<h3>1. probability 0.25 per occurrence, 2 steps</h3>" in page
    assert "<h3>2. probability 0.0015 per occurrence, 2 steps</h3>" in page
    for way in ways:
        for step in _narrated(out, way["trace"]):
            assert f"<li>{step}</li>" in page
        assert escape(way["detail"]) in page and way["trace"] in page
    assert "<script" not in page and "http" not in page.split("</style>")[1]


def test_the_report_of_a_search_that_found_nothing_states_its_bounds_and_assumptions(
    tmp_path, capsys
):
    path = write(tmp_path, experiment(*STALE_FEED_LATE))
    out = tmp_path / "none"
    argv = ["explore", str(path), "--exhaustive", "--mistakes", "0", "--depth", "2"]
    assert main([*argv, "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["report", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "explore"
    page = (out / "report.html").read_text()
    summary = json.loads((out / "explore.json").read_text())
    states = summary["searched"]["states"]
    assert f"No way past within 2 steps and 0 mistakes: {states:,} distinct states" in page
    for assumption in summary["assumptions"]:
        assert f"<li>{escape(assumption)}</li>" in page
    assert "Ways past" not in page


def test_a_sampled_run_writes_findings_and_gets_a_report_too(tmp_path, capsys):
    operators, safeguards, mistakes, steps, *_ = HOLES["fail-open outage"]
    path = write(tmp_path, experiment(operators, safeguards))
    out = tmp_path / "sampled"
    assert main(["explore", str(path), "--mistakes", str(mistakes), "--out", str(out)]) == 1
    ways = json.loads((out / "findings.json").read_text())["ways"]
    assert len(ways) == 1 and ways[0]["steps"] == steps and 0 < ways[0]["probability"] < 1
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    for step in _narrated(out, "trace.json"):
        assert f"<li>{step}</li>" in page
    assert f"probability {ways[0]['probability']:.3g} per occurrence" in page


def _importance_run(folder, experiment_name: str, slips: list[float], trials: int) -> None:
    """A run folder as `harness run --estimator importance` writes it, reduced to what
    --compare-with reads: the weighted slip-through estimate."""
    slip = mean_estimate(slips)
    slip = {**slip, **{k: slip[k] / trials for k in ("estimate", "standard_error")}}
    slip["ci95"] = [x / trials for x in slip["ci95"]]
    folder.mkdir()
    summary = {
        "experiment": experiment_name,
        "estimator": "importance",
        "estimate": {
            "protected_slip_through": slip,
            "shift_incident_probability": slip,
            "unreliable": None,
        },
    }
    (folder / "summary.json").write_text(json.dumps(summary))


def test_compare_with_sets_the_probability_beside_the_weighted_slip_rate(tmp_path, capsys):
    path = write(tmp_path, experiment(*TWO_HOLES, **TWO_HOLES_PLAIN))
    run = tmp_path / "weighted"
    _importance_run(run, "hole", [0.03, 0.0] * 20, 20)  # 0.00075 per trial
    argv = ["explore", str(path), "--most-likely", "1", "--depth", "3", "--faults", "none"]
    assert main([*argv, "--compare-with", str(run), "--out", str(tmp_path / "o")]) == 1
    printed = capsys.readouterr().out
    assert (
        "most likely way past: 0.25 per occurrence; estimated slip rate: 0.00075 per "
        "protected trial (95%: " in printed
    )
    assert f"importance sampling, effective sample size 20) from {run}" in printed
    assert "the slip rate is 0.003 times the way's probability" in printed
    assert "per occurrence of its situation" in printed and "per protected trial" in printed


def test_compare_with_a_crude_run_gives_its_counts_and_interval(tmp_path, capsys):
    path = write(tmp_path, experiment(*TWO_HOLES, **TWO_HOLES_PLAIN))
    run = tmp_path / "crude"
    assert main(["run", str(path), "--replications", "4", "--jobs", "1", "--out", str(run)]) == 0
    capsys.readouterr()
    slip = json.loads((run / "summary.json").read_text())["metrics"]["protected_slip_through"]
    assert slip["slips"] > 0
    argv = ["explore", str(path), "--exhaustive", "--depth", "2", "--faults", "none"]
    assert main([*argv, "--compare-with", str(run), "--out", str(tmp_path / "o")]) == 1
    printed = capsys.readouterr().out
    low, high = slip["ci95"]
    assert (
        f"shortest way past found: 0.25 per occurrence; estimated slip rate: "
        f"{slip['rate']:.2g} per protected trial (95%: {low:.2g} to {high:.2g}; "
        f"{slip['slips']} of {slip['trials']} protected trials) from {run}"
    ) in printed
    assert f"the slip rate is {slip['rate'] / 0.25:.2g} times the way's probability" in printed


def test_compare_with_a_run_of_another_experiment_is_refused_before_searching(tmp_path, capsys):
    path = write(tmp_path, experiment(*STALE_FEED_LATE))
    other = tmp_path / "other"
    other.mkdir()
    (other / "summary.json").write_text(json.dumps({"experiment": "elsewhere"}))
    out = tmp_path / "run"
    argv = ["explore", str(path), "--exhaustive", "--compare-with", str(other)]
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(
        f"--compare-with {other}: a run of 'elsewhere', not of 'hole'; compare with a run "
        "of the same experiment"
    )
    assert len(err.splitlines()) == 1 and not out.exists()

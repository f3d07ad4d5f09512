"""Baseline comparisons: a real regression is flagged, noise is not, and a baseline from
another experiment is refused in one line."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from conftest import small, small_raw

from harness.backends.replications import run_replications
from harness.cli import main
from harness.pipeline.check import _row
from harness.verdicts.against_baseline import compare
from harness.world.environment import Environment

SAFEGUARDED = {
    "safeguards": {"protected_list": {"mode": "escalate"}, "two_person_rule": {"enabled": True}}
}


def _rows(slips: list[int], exposure: list[float]) -> dict[int, dict]:
    return {
        i: {"slips": s, "trials": 10, "exposure_minutes_total": e}
        for i, (s, e) in enumerate(zip(slips, exposure, strict=True))
    }


def test_identical_runs_are_not_worse_and_a_clear_regression_is():
    base = _rows([0, 1, 0, 0] * 10, [0, 11, 0, 0] * 10)
    same = compare(base, base, alpha=0.05)
    assert [c.metric for c in same] == ["protected_slip_through.rate", "exposure_minutes per shift"]
    assert all(c.p_value > 0.5 and not c.worse and c.pairs == 40 for c in same)
    worse = compare(_rows([3, 2, 2, 1] * 10, [33, 22, 22, 11] * 10), base, alpha=0.05)
    assert all(c.worse for c in worse)
    assert worse[0].candidate == pytest.approx(0.2) and worse[0].baseline == pytest.approx(0.025)
    assert all(c.p_adjusted >= c.p_value for c in worse)
    # better is not worse: the tests are one-sided
    assert not any(c.worse for c in compare(base, _rows([3] * 40, [33.0] * 40), alpha=0.05))
    # only replications both runs have are compared
    assert compare(base, {i: base[i] for i in range(5)}, alpha=0.05)[0].pairs == 5


def test_noise_raises_false_alarms_at_no_more_than_the_nominal_rate():
    """Null comparisons: blocks of replications of the same experiment with different
    seeds (what a change that only reshuffles random numbers looks like)."""
    experiment = small(experiment__shift="2h", population__protected_report_share=0.1)
    pairs, size = 40, 20
    result = run_replications(Environment.build(experiment), 2 * pairs * size, keep_histories=0)
    rows = {i: _row(i, m) for i, m in result.metrics.items()}

    def block(k: int) -> dict[int, dict]:
        return {j: rows[k * size + j] for j in range(size)}

    comparisons = [compare(block(2 * k), block(2 * k + 1), alpha=0.05) for k in range(pairs)]
    assert sum(c[0].baseline > 0 for c in comparisons) > pairs / 2  # slips to compare
    raw = [sum(c[i].p_value <= 0.05 for c in comparisons) for i in range(2)]
    family = sum(any(x.worse for x in c) for c in comparisons)
    # at 5% the count of alarms is at most Binomial(40, 0.05): 6 or more has chance 1.4%
    assert max(raw) <= 5 and family <= 5, (raw, family)


def test_check_flags_a_real_regression_against_the_baseline(tmp_path, capsys, write_experiment):
    raw = small_raw(
        experiment__replications=40, check__batch=20, population__protected_report_share=0.1
    )
    base = tmp_path / "base"
    assert main(["run", str(write_experiment({**raw, **SAFEGUARDED})), "--out", str(base)]) == 0
    path = write_experiment(raw, "candidate.toml")  # the same shift with the safeguards off
    junit = tmp_path / "junit.xml"
    args = ["check", str(path), "--baseline", str(base), "--junit", str(junit)]
    assert main([*args, "--out", str(tmp_path / "run")]) == 1
    assert "baseline FAIL protected_slip_through.rate" in capsys.readouterr().out
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["replications"]["completed"] == 20  # a regression settles at its look
    slip = summary["check"]["baseline"]["comparisons"][0]
    assert slip["worse"] and slip["baseline"] == 0 and slip["candidate"] > 0
    assert slip["p_adjusted"] <= slip["alpha"] == pytest.approx(0.025)  # 2 looks at 5%
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert set(cases) == {
        "baseline protected_slip_through.rate",
        "baseline exposure_minutes per shift",
    }
    failure = cases["baseline protected_slip_through.rate"].find("failure")
    assert failure.get("type") == "Regression" and str(base) in failure.text


def test_the_same_configuration_passes_against_its_own_baseline(tmp_path, capsys, write_experiment):
    path = write_experiment(small_raw(experiment__replications=30, check__batch=10))
    base = tmp_path / "base"
    assert main(["run", str(path), "--out", str(base)]) == 0
    assert main(["check", str(path), "--baseline", str(base), "--out", str(tmp_path / "c")]) == 0
    assert capsys.readouterr().out.count("baseline PASS") == 2
    summary = json.loads((tmp_path / "c" / "summary.json").read_text())
    assert summary["check"]["replications_run"] == 30  # absence of a regression needs them all


@pytest.fixture
def baseline(tmp_path, write_experiment):
    path = write_experiment(small_raw(experiment__replications=3), "base.toml")
    folder = tmp_path / "base"
    assert main(["run", str(path), "--out", str(folder)]) == 0
    return path, folder


@pytest.mark.parametrize(
    "change,expected",
    [
        (["--set", "experiment.name=other"], "a run of another experiment: experiment.name is "),
        (["--set", "experiment.seed=8"], "experiment.seed is 7 there, 8 here"),
        (["--set", "population.protected=6"], "population.protected is 5 there, 6 here"),
        (["--set", "operators.0.persona=tired"], "operators.0.persona is 'diligent' there"),
    ],
)
def test_a_baseline_from_another_experiment_is_one_line_and_exit_2(
    change, expected, baseline, capsys
):
    path, folder = baseline
    gate = ["--set", "gates=[{metric = 'decisions', min = 1}]"]
    assert main(["check", str(path), *gate, *change, "--baseline", str(folder)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and f"--baseline {folder}: " in err, err
    assert expected in err, err


def test_a_folder_that_is_not_a_usable_baseline_is_one_line_and_exit_2(baseline, tmp_path, capsys):
    path, folder = baseline
    summary = json.loads((folder / "summary.json").read_text())
    (folder / "summary.json").write_text(json.dumps({**summary, "status": "interrupted"}))
    cases = [
        (tmp_path / "nowhere", "no such run folder"),
        (tmp_path, "not a run folder (it has no experiment.toml)"),
        (folder, "the baseline run did not complete (status 'interrupted')"),
    ]
    for where, expected in cases:
        assert main(["check", str(path), "--baseline", str(where)]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and expected in err, err
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / "replications.csv").write_text("replication,slips\nzero,one\n")
    assert main(["check", str(path), "--baseline", str(folder)]) == 2
    assert "replications.csv line 2 is not a replication row" in capsys.readouterr().err


@pytest.mark.parametrize(
    "recorded,expected",
    [
        ({"manifest.json": {"version": "0.0.1"}}, "harness version is '0.0.1' there, '0.1.0' here"),
        ({"summary.json": {"mode": "live"}}, "mode is 'live' there, 'sim' here"),
    ],
)
def test_a_baseline_whose_replications_do_not_pair_is_refused_like_a_comparison(
    recorded, expected, baseline, capsys
):
    """Replications pair only when the same harness version ran both in the same mode:
    the one definition `harness compare` applies too."""
    path, folder = baseline
    for name, changes in recorded.items():
        data = json.loads((folder / name).read_text())
        (folder / name).write_text(json.dumps({**data, **changes}))
    assert main(["check", str(path), "--baseline", str(folder)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and f"--baseline {folder}: not comparable" in err
    assert expected in err, err

"""The pytest plugin in a temporary project: gates as test items, the fixture, bad input,
and no cost to test runs that do not use it."""

from __future__ import annotations

import subprocess
import sys

import pytest
import tomli_w
from conftest import small_raw

# Imported before pytester's in-process runs so they share it: each run forgets the modules
# it imported, and scipy's compiled parts cannot be imported twice in one process.
import harness.pipeline.check
import harness.pipeline.run  # noqa: F401

pytest_plugins = ["pytester"]

GATES = [
    {"metric": "protected_slip_through.rate", "max_upper_ci": 0.05},
    {"metric": "protected_slip_through.rate", "max_upper_ci": 0.001},
]


def _project(pytester, **overrides) -> None:
    raw = small_raw(experiment__replications=60, check__batch=30, **overrides)
    pytester.path.joinpath("experiments").mkdir()
    pytester.path.joinpath("experiments", "x.toml").write_text(tomli_w.dumps(raw))
    pytester.makepyfile(test_unrelated="def test_unrelated():\n    assert True\n")


def test_every_gate_of_the_file_becomes_a_test_item(pytester):
    _project(pytester, gates=GATES)
    result = pytester.runpytest("--safeguard-experiment", "experiments/x.toml", "-v")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*experiments/x.toml::gate protected_slip_through.rate max_upper_ci 0.05 PASSED*",
            "*experiments/x.toml::gate protected_slip_through.rate max_upper_ci 0.001 FAILED*",
            "*gate failed: upper 95% bound of protected_slip_through.rate <= 0.1% (observed *%*",
        ]
    )
    assert result.ret == 1
    assert "Traceback" not in result.stdout.str()
    (run,) = (pytester.path / "results").iterdir()  # one run for both gates
    assert (run / "summary.json").is_file()


def test_gates_can_be_selected_and_overridden(pytester):
    _project(pytester, gates=GATES)
    result = pytester.runpytest(
        "--safeguard-experiment=experiments/x.toml",
        "--safeguard-set=gates.1.max_upper_ci=0.05",
        f"--safeguard-out={pytester.path / 'runs'}",
        "-m",
        "safeguard_gate",
    )
    result.assert_outcomes(passed=2, deselected=1)
    assert len(list((pytester.path / "runs").iterdir())) == 1


def test_a_bad_experiment_file_is_a_usage_error(pytester):
    _project(pytester, gates=[{"metric": "protected_slip_thru.rate", "max": 0.1}])
    result = pytester.runpytest("--safeguard-experiment", "experiments/x.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--safeguard-experiment: *x.toml: gates.0.metric = *did you mean*"]
    )


def test_the_fixture_runs_an_experiment_for_a_test_to_assert_on(pytester):
    _project(pytester)
    pytester.makepyfile(
        test_safeguards="""
        def test_escalation_holds(safeguard_run):
            run = safeguard_run(
                "experiments/x.toml",
                "safeguards.protected_list.mode=escalate",
                "safeguards.two_person_rule.enabled=true",
                replications=20,
            )
            assert run.summary["replications"]["completed"] == 20
            assert run.metric("protected_slip_through.slips") == 0
            assert run.interval("protected_slip_through.rate")[1] < 0.01
            assert run.metric("caught_by.protected_list") > 0
            assert (run.folder / "replications.csv").is_file()

        def test_without_safeguards_accounts_slip(safeguard_run):
            run = safeguard_run("experiments/x.toml", replications=20, seed=3)
            assert run.metric("protected_slip_through.slips") > 0

        def test_a_bad_override_fails_in_one_line(safeguard_run):
            safeguard_run("experiments/x.toml", "population.acounts=3")
        """
    )
    result = pytester.runpytest("test_safeguards.py")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*unknown key 'population.acounts'; did you mean 'accounts'?*"])


def test_without_the_option_the_plugin_adds_nothing_and_imports_nothing(pytester):
    _project(pytester, gates=GATES)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["plugins: *safeguard-harness*"])  # loaded by its entry point
    assert not (pytester.path / "results").exists()
    probe = (
        "import sys, harness.pytest_plugin;"
        "print(sorted(m for m in sys.modules if m.startswith(('harness.', 'scipy', 'faker'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "['harness.pytest_plugin']"

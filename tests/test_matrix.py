"""Comparison files: how [matrix] and [[configurations]] expand, and one clear line for
everything wrong with them."""

from __future__ import annotations

import pytest
from conftest import EXPERIMENTS, small_raw

from harness.cli import main
from harness.experiment.comparison_file import load_comparison
from harness.experiment.model import load

MATRIX = {
    "safeguards.protected_list.mode": ["off", "escalate"],
    "safeguards.two_person_rule.enabled": [False, True],
}


def matrix_raw(**extra) -> dict:
    return {**small_raw(), "matrix": dict(MATRIX), **extra}


def test_matrix_expands_to_the_cross_product_first_key_slowest(write_experiment):
    plan = load_comparison(write_experiment(matrix_raw()))
    assert [c.name for c in plan.configurations] == [
        "protected_list.mode=off, two_person_rule.enabled=false",
        "protected_list.mode=off, two_person_rule.enabled=true",
        "protected_list.mode=escalate, two_person_rule.enabled=false",
        "protected_list.mode=escalate, two_person_rule.enabled=true",
    ]
    got = [
        (
            c.experiment.safeguards.protected_list.mode,
            c.experiment.safeguards.two_person_rule.enabled,
        )
        for c in plan.configurations
    ]
    assert got == [("off", False), ("off", True), ("escalate", False), ("escalate", True)]
    assert plan.baseline == 0
    seeds = {c.experiment.experiment.seed for c in plan.configurations}
    assert seeds == {7}  # one seed for all: common random numbers
    assert {c.experiment.population for c in plan.configurations} == {
        plan.configurations[0].experiment.population
    }


def test_named_configurations_follow_the_matrix_and_can_be_the_baseline(write_experiment):
    raw = matrix_raw(
        configurations=[
            {
                "name": "compromised",
                "set": {
                    "operators.0": {"persona": "compromised", "count": 3},
                    "safeguards.leaver_lockout.enabled": True,
                },
            }
        ],
        compare={"baseline": "compromised"},
    )
    plan = load_comparison(write_experiment(raw))
    assert len(plan.configurations) == 5
    last = plan.configurations[4]
    assert last.name == "compromised" and plan.baseline == 4
    assert last.experiment.operators[0].persona == "compromised"
    assert last.experiment.operators[0].count == 3
    assert last.experiment.safeguards.leaver_lockout.enabled
    assert last.experiment.safeguards.protected_list.mode == "off"  # the file's value


def test_bare_dotted_matrix_keys_read_like_quoted_ones(tmp_path):
    path = tmp_path / "bare.toml"
    text = (EXPERIMENTS / "incident-2017.toml").read_text()
    path.write_text(text + "\n[matrix]\nsafeguards.leaver_lockout.enabled = [false, true]\n")
    plan = load_comparison(path)
    assert [c.name for c in plan.configurations] == [
        "leaver_lockout.enabled=false",
        "leaver_lockout.enabled=true",
    ]


def test_overrides_apply_to_every_configuration(write_experiment):
    plan = load_comparison(
        write_experiment(matrix_raw()), ["experiment.replications=3", "population.accounts=400"]
    )
    assert {c.experiment.experiment.replications for c in plan.configurations} == {3}
    assert {c.experiment.population.accounts for c in plan.configurations} == {400}


def test_the_shipped_matrix_has_every_combination_and_the_2020_population():
    plan = load_comparison(EXPERIMENTS / "safeguard-matrix.toml")
    combos = {
        (
            s.protected_list.mode,
            s.two_person_rule.enabled,
            s.leaver_lockout.enabled,
        )
        for s in (c.experiment.safeguards for c in plan.configurations[:8])
    }
    assert len(combos) == 8
    personas = {o.persona for o in plan.configurations[8].experiment.operators}
    assert "compromised" in personas and "departing_insider" not in personas
    incident = load(EXPERIMENTS / "incident-2017.toml")
    for c in plan.configurations:
        assert c.experiment.population == incident.population
        assert c.experiment.experiment.seed == incident.experiment.seed


BAD = [
    (
        "matrix key not an experiment key",
        {"matrix": {"safeguards.two_person_rule.enable": [False, True]}},
        "'safeguards.two_person_rule.enable' is not an experiment key; "
        "did you mean 'safeguards.two_person_rule.enabled'?",
    ),
    (
        "empty list",
        {"matrix": {"safeguards.leaver_lockout.enabled": []}},
        "matrix: 'safeguards.leaver_lockout.enabled' = []: expected a non-empty list",
    ),
    (
        "not a list",
        {"matrix": {"safeguards.leaver_lockout.enabled": True}},
        "expected a non-empty list of values",
    ),
    (
        "wrongly typed value",
        {"matrix": {"safeguards.two_person_rule.enabled": [False, "maybe"]}},
        "configuration 'two_person_rule.enabled=maybe': "
        "safeguards.two_person_rule.enabled = 'maybe': true or false, without quotes",
    ),
    (
        "value listed twice",
        {"matrix": {"safeguards.protected_list.mode": ["off", "off"]}},
        "'safeguards.protected_list.mode': \"off\" is listed twice",
    ),
    (
        "a key that would break common random numbers",
        {"matrix": {"experiment.seed": [1, 2]}},
        "'experiment.seed' cannot differ between configurations",
    ),
    (
        "population in a named configuration",
        {"configurations": [{"name": "big", "set": {"population.accounts": 900}}]},
        "configurations.0.set: 'population.accounts' cannot differ",
    ),
    (
        "configuration without a name",
        {"configurations": [{"set": {"safeguards.leaver_lockout.enabled": True}}]},
        "configurations.0.name: missing",
    ),
    (
        "unknown key in a configuration",
        {"configurations": [{"name": "x", "sett": {}}]},
        "configurations.0: unknown key 'sett' (allowed here: name, set)",
    ),
    (
        "unknown baseline",
        {
            "matrix": {"safeguards.leaver_lockout.enabled": [False, True]},
            "compare": {"baseline": "leaver_lockout.enabled=ture"},
        },
        "compare.baseline = 'leaver_lockout.enabled=ture': no configuration has that name; "
        "did you mean 'leaver_lockout.enabled=true'?",
    ),
    (
        "duplicate names",
        {
            "matrix": {"safeguards.leaver_lockout.enabled": [False, True]},
            "configurations": [{"name": "leaver_lockout.enabled=true"}],
        },
        "two configurations are named 'leaver_lockout.enabled=true'",
    ),
    ("nothing to compare", {}, "nothing to compare"),
    (
        "a configuration that fails validation",
        {
            "operators": [{"persona": "diligent", "count": 3}],
            "matrix": {"safeguards.protected_list.mode": ["off", "escalate"]},
        },
        "configuration 'protected_list.mode=escalate': safeguards.protected_list.mode = "
        "'escalate' needs at least one senior operator",
    ),
]


@pytest.mark.parametrize("name,extra,expected", BAD, ids=[b[0] for b in BAD])
def test_bad_comparison_file_is_one_line_and_exit_2(
    name, extra, expected, tmp_path, capsys, write_experiment
):
    path = write_experiment({**small_raw(), **extra})
    assert main(["compare", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"harness: {path}"), err
    assert expected in err, err
    assert not (tmp_path / "out").exists()


def test_set_on_a_key_the_matrix_varies_is_refused(capsys, write_experiment):
    path = write_experiment(matrix_raw())
    code = main(["compare", str(path), "--set", "safeguards.protected_list.mode=block"])
    assert code == 2
    assert "'safeguards.protected_list.mode' differs between configurations" in (
        capsys.readouterr().err
    )


def test_harness_run_points_a_matrix_file_to_compare(capsys):
    assert main(["run", str(EXPERIMENTS / "safeguard-matrix.toml"), "--dry-run"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "run it with `harness compare`" in err


def test_dry_run_lists_the_configurations(capsys, write_experiment):
    path = write_experiment(matrix_raw())
    assert main(["compare", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "#1 protected_list.mode=off, two_person_rule.enabled=false  (baseline)" in out
    assert "#4 protected_list.mode=escalate, two_person_rule.enabled=true" in out
    assert 'safeguards.protected_list.mode = "escalate"' in out

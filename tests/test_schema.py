"""`harness schema` describes the files the harness accepts: every shipped experiment passes
it, and the mistakes the harness turns away (tests/test_messages.py) are flagged by an editor
checking against it too."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib

import jsonschema
import pytest
from conftest import ROOT, small_raw

from harness.experiment.model import COMPARISON_TABLES

EXPERIMENTS = sorted((ROOT / "experiments").glob("*.toml"))


def printed_schema(*argv: str) -> dict:
    """What `harness schema ARGV` prints, as a user would save it."""
    done = subprocess.run(
        [sys.executable, "-m", "harness", "schema", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def experiment_validator() -> jsonschema.Draft202012Validator:
    schema = printed_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def comparison_validator() -> jsonschema.Draft202012Validator:
    schema = printed_schema("--comparison")
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.name for p in EXPERIMENTS])
def test_every_shipped_file_passes(path, experiment_validator, comparison_validator):
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    compares = any(table in raw for table in COMPARISON_TABLES)
    validator = comparison_validator if compares else experiment_validator
    errors = [error.message for error in validator.iter_errors(raw)]
    assert errors == []


def test_an_experiment_file_has_no_comparison_tables(experiment_validator):
    raw = tomllib.loads((ROOT / "experiments/safeguard-matrix.toml").read_text("utf-8"))
    assert not experiment_validator.is_valid(raw)


@pytest.mark.parametrize(
    "value", ["8h", "1h30m", "90s", "2.5m", 28800, 28800.0], ids=lambda v: repr(v)
)
def test_durations_as_people_write_them(value, experiment_validator):
    assert experiment_validator.is_valid(small_raw(experiment__shift=value))


def typo() -> dict:
    raw = small_raw()
    raw["populaton"] = raw.pop("population")
    return raw


BAD = {
    "unknown key": typo(),
    "unknown nested key": small_raw(population__acounts=100),
    "share above 1": small_raw(population__violating_share=1.5),
    "share as a percentage": small_raw(population__protected_report_share=50),
    "negative share": small_raw(population__ambiguous_share=-0.1),
    "probability above 1": small_raw(operators__0__error=3),
    "unknown persona": small_raw(operators__0__persona="diligant"),
    "misspelt persona": small_raw(operators__0__persona="random-approver"),
    "unknown fault kind": small_raw(
        faults=[{"kind": "protected_list_outge", "at": "1h", "duration": "10m"}]
    ),
    "number as a string": small_raw(population__accounts="5000"),
    "share as a string": small_raw(population__protected_report_share="2%"),
    "gate bound as a string": small_raw(
        gates=[{"metric": "protected_slip_through.rate", "max": "0.5%"}]
    ),
    "duration in words": small_raw(experiment__shift="8 hours"),
    "duration without a unit": small_raw(experiment__shift="28800"),
    "no operators": small_raw(operators=[]),
}


@pytest.mark.parametrize("raw", BAD.values(), ids=BAD.keys())
def test_mistakes_are_flagged(raw, experiment_validator, comparison_validator):
    assert not experiment_validator.is_valid(raw)
    assert not comparison_validator.is_valid(raw)


def test_the_small_experiment_passes(experiment_validator):
    """The files above differ from this one by their mistake alone."""
    assert experiment_validator.is_valid(small_raw())


def test_a_reader_that_stops_early_is_no_error():
    """`harness schema | head`: the rest of the schema is not wanted, nothing went wrong."""
    done = subprocess.run(
        f"{sys.executable} -m harness schema | head -1; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "{\n", "")

"""JUnit XML from `harness check`: valid against the common schema, one case per gate,
failures that carry the observed value and the bound."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import xmlschema
from conftest import ROOT, small_raw

from harness.cli import main

SCHEMA = xmlschema.XMLSchema(ROOT / "tests" / "junit.xsd")

GATES = [
    {"metric": "protected_slip_through.rate", "max_upper_ci": 0.03},
    {"metric": "protected_slip_through.rate", "max_upper_ci": 0.002},
    {"metric": "decisions", "min": 1},
]


def test_junit_validates_and_has_one_case_per_gate(tmp_path, write_experiment):
    path = write_experiment(small_raw(experiment__replications=100, check__batch=50, gates=GATES))
    junit = tmp_path / "reports" / "gates.xml"
    assert main(["check", str(path), "--out", str(tmp_path / "run"), "--junit", str(junit)]) == 1
    SCHEMA.validate(junit)
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "gate protected_slip_through.rate max_upper_ci 0.03",
        "gate protected_slip_through.rate max_upper_ci 0.002",
        "gate decisions min 1",
    ]
    assert {c.get("classname") for c in cases} == {"safeguards.small"}
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "0")
    # each case's time is when its gate was settled: the two rate gates at the first look,
    # the count gate (a floor, never settled early) at the end of the whole check
    times = [float(c.get("time")) for c in cases]
    assert 0 < times[0] == times[1] <= times[2] <= float(suite.get("time"))
    assert cases[0].find("failure") is None and cases[2].find("failure") is None
    failure = cases[1].find("failure")
    message = failure.get("message")
    assert message.startswith("upper 95% bound of protected_slip_through.rate <= 0.2% (observed ")
    # settled at the first look; the count gate kept the check going to the end
    assert "settled after 50 replications (sequential interval [" in message
    assert str(tmp_path / "run") in failure.text
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["replications_run"] == "100" and properties["seed"] == "7"


def test_a_passing_check_writes_junit_without_failures_and_exits_0(tmp_path, write_experiment):
    path = write_experiment(small_raw(experiment__replications=100, gates=GATES[:1]))
    junit = tmp_path / "gates.xml"
    assert main(["check", str(path), "--out", str(tmp_path / "run"), "--junit", str(junit)]) == 0
    SCHEMA.validate(junit)
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "0" and len(list(root.iter("testcase"))) == 1


def test_a_junit_path_that_is_a_folder_is_refused_before_running(
    tmp_path, capsys, write_experiment
):
    path = write_experiment(small_raw(gates=GATES[:1]))
    assert main(["check", str(path), "--junit", str(tmp_path), "--out", str(tmp_path / "r")]) == 2
    assert "is a directory; give a file name such as junit.xml" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()

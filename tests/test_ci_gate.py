"""experiments/ci-gate.toml: the recommended safeguards pass, and switching off any one of
them fails the gate, each with a clear, early verdict."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import xmlschema
from conftest import EXPERIMENTS, ROOT

from harness.cli import main
from harness.experiment.model import load

CI_GATE = EXPERIMENTS / "ci-gate.toml"
GATE = "gate protected_slip_through.rate max_upper_ci 0.0015"
SWITCHES = {
    "protected list": "safeguards.protected_list.mode=off",
    "two-person rule": "safeguards.two_person_rule.enabled=false",
    "leaver lockout": "safeguards.leaver_lockout.enabled=false",
    "rate limit": "safeguards.rate_limit.enabled=false",
}


def _check(tmp_path, *overrides: str) -> tuple[int, ET.Element]:
    junit = tmp_path / "junit.xml"
    sets = [arg for item in overrides for arg in ("--set", item)]
    args = ["check", str(CI_GATE), *sets, "--out", str(tmp_path / "run"), "--histories", "0"]
    code = main([*args, "--junit", str(junit)])
    xmlschema.validate(junit, ROOT / "tests" / "junit.xsd")
    (case,) = ET.parse(junit).getroot().iter("testcase")
    return code, case


def test_the_ci_gate_runs_the_recommended_safeguards():
    ci_gate = load(CI_GATE)
    recommended = load(EXPERIMENTS / "safeguards-recommended.toml")
    assert ci_gate.safeguards == recommended.safeguards
    assert [g.kind for g in ci_gate.gates] == ["max_upper_ci"]


def test_the_recommended_configuration_passes_early(tmp_path):
    code, case = _check(tmp_path)
    assert code == 0
    assert case.get("name") == GATE and case.find("failure") is None
    assert "settled after" in case.find("system-out").text


@pytest.mark.parametrize("switch", SWITCHES.values(), ids=SWITCHES.keys())
def test_switching_off_any_one_safeguard_fails_the_gate(switch, tmp_path):
    code, case = _check(tmp_path, switch)
    assert code == 1
    assert case.get("name") == GATE
    message = case.find("failure").get("message")
    assert message.startswith("upper 95% bound of protected_slip_through.rate <= 0.15% (observed ")
    assert "settled after 100 replications" in message

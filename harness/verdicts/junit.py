"""JUnit XML for a check, so any CI system shows its gates as tests.

One <testsuite> per experiment with one <testcase> per gate and one per baseline comparison.
A failed gate carries the observed value and the bound in its <failure> message; a gate
an interrupted check (or one a harness error stopped) never settled is an <error>. The
format is the common Ant/Jenkins one (`tests/junit.xsd` describes what we write and the
tests validate against it). A gate's `time` is how long the check ran until that gate was
settled; a baseline comparison's is the whole check's.
"""

from __future__ import annotations

import socket
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from ..errors import BadInput
from ..pipeline.check import CheckResult


def check_target(path: str | Path) -> Path:
    """Where the JUnit file goes; refused up front (before any simulation) if unwritable."""
    target = Path(path)
    if target.is_dir():
        raise BadInput(f"--junit {path}: is a directory; give a file name such as junit.xml")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"--junit {path}: cannot create its folder ({exc.strerror})") from None
    return target


def build(check: CheckResult) -> ET.ElementTree:
    experiment = check.experiment
    name = experiment.experiment.name
    classname = f"safeguards.{name}"
    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=name,
        timestamp=time.strftime("%Y-%m-%dT%H:%M:%S"),
        hostname=socket.gethostname(),
        time=f"{check.seconds:.3f}",
    )
    _properties(suite, check)
    failures = errors = 0
    for index, gate in enumerate(experiment.gates):
        case = ET.SubElement(suite, "testcase", name=gate.label)
        case.set("classname", classname)
        case.set("time", f"{check.gate_seconds(index):.3f}")
        verdict = check.verdicts.get(index)
        if verdict is None:
            errors += 1
            ET.SubElement(case, "error", type=_unsettled(check)[0], message=_unsettled(check)[1])
        elif not verdict.passed:
            failures += 1
            failure = ET.SubElement(case, "failure", type="GateFailed", message=verdict.describe())
            failure.text = f"{verdict.describe()}\nrun folder: {check.folder.path}"
        else:
            ET.SubElement(case, "system-out").text = verdict.describe()
    for comparison in check.comparisons:
        case = ET.SubElement(suite, "testcase", name=f"baseline {comparison.metric}")
        case.set("classname", classname)
        case.set("time", f"{check.seconds:.3f}")
        if comparison.worse:
            failures += 1
            failure = ET.SubElement(
                case, "failure", type="Regression", message=comparison.describe()
            )
            failure.text = f"{comparison.describe()}\nbaseline: {check.baseline.path}"
        else:
            ET.SubElement(case, "system-out").text = comparison.describe()
    tests = len(experiment.gates) + len(check.comparisons)
    for element in (suite, suites):
        element.set("tests", str(tests))
        element.set("failures", str(failures))
        element.set("errors", str(errors))
    suite.set("skipped", "0")
    suites.set("time", f"{check.seconds:.3f}")
    ET.indent(suites)
    return ET.ElementTree(suites)


def _properties(suite: ET.Element, check: CheckResult) -> None:
    """Seed, replications, confidence, run folder and baseline as <property> entries."""
    properties = ET.SubElement(suite, "properties")
    for key, value in (
        ("seed", check.experiment.experiment.seed),
        ("estimator", check.estimator),
        ("replications_run", check.replications),
        ("replications_planned", check.plan.replications),
        ("confidence", check.plan.confidence),
        ("look_confidence", f"{check.plan.look_confidence:.6g}"),
        ("run_folder", check.folder.path),
        ("baseline", check.baseline.path if check.baseline else ""),
    ):
        ET.SubElement(properties, "property", name=key, value=str(value))


def _unsettled(check: CheckResult) -> tuple[str, str]:
    """Why a gate has no verdict: a harness error (not a failed gate), or an interrupt."""
    if check.error is not None:
        return "HarnessError", f"harness error before the gate was settled: {check.error}"
    return "Interrupted", "interrupted before the gate was settled"


def write(check: CheckResult, path: Path) -> Path:
    build(check).write(path, encoding="utf-8", xml_declaration=True)
    return path

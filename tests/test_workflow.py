"""The example CI workflow: it runs the gate experiment on every push, publishes the JUnit
results and keeps the run folder, whatever the outcome."""

from __future__ import annotations

import shlex

import yaml
from conftest import ROOT

from harness.cli import build_parser

WORKFLOW = ROOT / ".github" / "workflows" / "safeguards.yml"


def test_the_workflow_checks_the_gate_experiment_on_every_push_and_keeps_the_results():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert "push" in triggers and "pull_request" in triggers
    env = workflow["env"]
    assert (ROOT / env["EXPERIMENT"]).is_file()
    (job,) = workflow["jobs"].values()
    steps = {step.get("name", step.get("uses")): step for step in job["steps"]}
    # the check command is one the harness accepts, with JUnit into the run folder
    script = steps["Check the safeguard gates"]["run"]
    line = next(x for x in script.splitlines() if x.strip().startswith("harness check"))
    expand = {"$EXPERIMENT": env["EXPERIMENT"], "$RUN_DIR": env["RUN_DIR"]}
    words = [w for w in shlex.split(line)[1:] if w != "${baseline[@]}"]
    for variable, value in expand.items():
        words = [w.replace(variable, value) for w in words]
    args = build_parser().parse_args(words)
    assert args.command == "check" and args.experiment == env["EXPERIMENT"]
    assert args.out == env["RUN_DIR"] and args.junit == f"{env['RUN_DIR']}/junit.xml"
    assert "--baseline baseline" in script
    publish = steps["Publish the gate results"]
    assert publish["if"] == "always()" and "junit.xml" in publish["with"]["report_paths"]
    keep = steps["Keep the run folder"]
    assert keep["if"] == "always()" and keep["uses"].startswith("actions/upload-artifact@")
    assert keep["with"]["path"] == "${{ env.RUN_DIR }}"
    baseline = steps["Baseline from the target branch"]
    assert baseline["with"]["name"] == keep["with"]["name"]

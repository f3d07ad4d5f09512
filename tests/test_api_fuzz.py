"""Property-based fuzzing driven by the OpenAPI document: schemathesis with every check it
has (`st run --checks all`) against a real `harness serve` on 127.0.0.1, with working
credentials so that requests reach the core. Besides server errors this holds the service
to its own document: answers, statuses and headers conform to it, every request the
document allows is accepted (or refused only for a state reason: 401, 403, 404, 409),
every request it does not allow is refused, and the stateful phase chains calls.

The document is built for the served configuration, so both ways of choosing the second
approver are fuzzed. Runs are bounded by a number of examples per operation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import ROOT
from servers import ADMIN, bearer, harness_serve

EXPERIMENT = "experiments/safeguards-recommended.toml"
SECONDS = 240  # far above a run's length on a busy machine: a hung fuzzer fails, not hangs
ST = (
    "import sys; from schemathesis.cli import schemathesis; "
    "sys.argv[0] = 'st'; sys.exit(schemathesis())"
)
CONFIG = """
hooks = "fuzz_hooks"

[[operations]]
include-path-regex = "^/admin/"
headers = {{ Authorization = "Bearer {admin}" }}

[[operations]]
exclude-path-regex = "^/admin/"
headers = {{ Authorization = "Bearer {operator}" }}
"""


def fuzz(tmp_path: Path, examples: int, *serve_args: str, only: str | None = None) -> None:
    """Serve EXPERIMENT with `serve_args` and run schemathesis with all checks against it,
    as senior s1 (and the admin on /admin/); fails with schemathesis's report."""
    with harness_serve(EXPERIMENT, "--admin-token", ADMIN, "--time-scale", "0", *serve_args) as (
        _,
        url,
    ):
        operators = requests.get(f"{url}/admin/operators", headers=bearer(ADMIN), timeout=10)
        senior = next(o for o in operators.json() if o["role"] == "senior")
        config = tmp_path / "schemathesis.toml"
        config.write_text(CONFIG.format(admin=ADMIN, operator=senior["token"]))
        command = [
            sys.executable, "-c", ST, "--config-file", str(config), "run", f"{url}/openapi.json",
            "--checks", "all", "--max-examples", str(examples), "--workers", "1",
            "--no-color", "--suppress-health-check", "all",
        ]  # fmt: skip
        if only is not None:
            command += ["--include-path-regex", only]
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "tests"),
            "FUZZ_TARGET_URL": url,
            "FUZZ_ADMIN_TOKEN": ADMIN,
            "FUZZ_OPERATOR_TOKEN": senior["token"],
        }
        run = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=SECONDS
        )
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-6000:]
    assert " passed" in report and "Tested:" in report, report[-3000:]


def test_every_check_passes_where_the_system_chooses_the_second_approver(tmp_path):
    fuzz(tmp_path, 25)


def test_every_check_passes_where_the_requester_chooses_the_second_approver(tmp_path):
    fuzz(
        tmp_path,
        25,
        "--set",
        "safeguards.two_person_rule.chooser=requester",
        only="^/(reports|accounts)/",
    )


@pytest.mark.parametrize("chooser", ["system", "requester"])
def test_the_served_document_follows_the_chooser(chooser):
    with harness_serve(
        "--admin-token", ADMIN, "--time-scale", "0",
        "--set", "safeguards.two_person_rule.enabled=true",
        "--set", f"safeguards.two_person_rule.chooser={chooser}",
    ) as (_, url):  # fmt: skip
        document = requests.get(f"{url}/openapi.json", timeout=10).text
    assert ("second_approver" in document) == (chooser == "requester")

"""The command line answers --help, --version, a dry run and bad input without loading the
libraries only running needs (statistics, charts, search, HTTP stack, Locust): those take
seconds to import, and a user waiting for a usage line should not pay for them.

Checked by what a fresh interpreter has imported once the command returns, not by timing
(`benchmarks/bench_startup.py` measures the time)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import tomli_w
from conftest import ROOT, small_raw

HEAVY = (
    "scipy",
    "SALib",
    "matplotlib",
    "locust",
    "gevent",
    "fastapi",
    "uvicorn",
    "hypothesis",
    "requests",
    "dask",
    "distributed",
)

# Runs the command line in this interpreter, then prints the exit code and the heavy
# libraries imported, as JSON on the last line of stdout.
PROBE = """
import json, sys
from harness.cli import main
try:
    code = main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
heavy = sys.argv[1].split(",")
print(json.dumps([code, sorted(m for m in heavy if m in sys.modules)]))
"""


def probe(argv: list[str]) -> tuple[int, list[str], str]:
    """Exit code, heavy libraries imported, and stderr of `harness ARGV` in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(HEAVY), *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    code, imported = json.loads(done.stdout.splitlines()[-1])
    return code, imported, done.stderr


@pytest.fixture
def typo(tmp_path):
    """An experiment file with a misspelt key: the commonest bad input."""
    raw = small_raw()
    raw["populaton"] = raw.pop("population")
    path = tmp_path / "typo.toml"
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")
    return str(path)


ANSWERED_AT_ONCE = {
    "help": (["--help"], 0),
    "version": (["--version"], 0),
    "subcommand help": (["run", "--help"], 0),
    "usage mistake": (["run"], 2),
    "dry run": (["run", "experiments/ci-gate.toml", "--dry-run"], 0),
    "live dry run": (["run", "experiments/outage-live.toml", "--mode", "live", "--dry-run"], 0),
    "comparison dry run": (["compare", "experiments/safeguard-matrix.toml", "--dry-run"], 0),
    "uncertain dry run": (["run", "experiments/unknown-insider.toml", "--dry-run"], 0),
    "run, bad file": (["run", "{typo}"], 2),
    "sensitivity, bad file": (["sensitivity", "{typo}"], 2),
    "check, bad file": (["check", "{typo}"], 2),
    "compare, bad file": (["compare", "{typo}"], 2),
    "explore, bad file": (["explore", "{typo}"], 2),
    "serve, bad file": (["serve", "{typo}"], 2),
    "replay, no trace": (["replay", "no-such-trace.json"], 2),
    "report, no folder": (["report", "no-such-folder"], 2),
    "schema": (["schema"], 0),
    "comparison schema": (["schema", "--comparison"], 0),
}


@pytest.mark.parametrize("argv, code", ANSWERED_AT_ONCE.values(), ids=ANSWERED_AT_ONCE.keys())
def test_answers_without_loading_what_only_running_needs(argv, code, typo):
    got, imported, err = probe([word.format(typo=typo) for word in argv])
    assert got == code, err
    if code == 2:
        assert err.startswith("harness"), err  # one line in the project's words
    assert imported == [], f"harness {' '.join(argv)} imported {', '.join(imported)}"

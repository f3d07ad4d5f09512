"""Shared fixtures: small experiments that run in a fraction of a second."""

from __future__ import annotations

import copy
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from harness.experiment import Experiment, set_key, validate

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = ROOT / "experiments"

SMALL: dict[str, Any] = {
    "experiment": {"name": "small", "seed": 7, "replications": 20, "shift": "4h"},
    "population": {
        "accounts": 300,
        "protected": 5,
        "reports_per_hour": 120,
        "protected_report_share": 0.05,
    },
    "operators": [
        {"persona": "diligent", "count": 6},
        {"persona": "diligent", "role": "senior", "count": 2},
    ],
}


def small_raw(**overrides: Any) -> dict[str, Any]:
    """The small experiment as raw data, with dotted-key overrides (dots as '__')."""
    raw = copy.deepcopy(SMALL)
    for key, value in overrides.items():
        set_key(raw, key.replace("__", "."), value, "test")
    return raw


def small(**overrides: Any) -> Experiment:
    return validate(small_raw(**overrides), "small.toml")


def interrupt_once_written(args: list[str], table: Path, rows: int = 5) -> tuple[int, str]:
    """Start `python -m harness ARGS`, press Ctrl-C once `table` has `rows` lines, and
    return the exit code and what it printed on stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", *args],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline and (
        not table.exists() or len(table.read_text().splitlines()) < rows
    ):
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


@pytest.fixture
def write_experiment(tmp_path: Path):
    """Write raw experiment data to a TOML file and return its path."""

    def write(raw: dict[str, Any], name: str = "exp.toml") -> Path:
        path = tmp_path / name
        path.write_text(tomli_w.dumps(raw), encoding="utf-8")
        return path

    return write

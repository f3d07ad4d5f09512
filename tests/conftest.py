"""Shared fixtures: small experiments that run in a fraction of a second."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from harness.experiment.model import Experiment, set_key, validate

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


def interrupt_once_written(
    args: list[str],
    table: Path,
    rows: int = 5,
    signals: Sequence[int] = (signal.SIGINT,),
    after: float = 0.0,
) -> tuple[int, str, str]:
    """Start `python -m harness ARGS`, send `signals` (Ctrl-C by default) a moment apart
    `after` seconds once `table` has `rows` lines, and return the exit code and what it
    printed on stdout and stderr. A process that does not stop within a minute is killed
    (with its process group) and the test fails."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", *args],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so its workers can be killed too
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline and (
            not table.exists() or len(table.read_text().splitlines()) < rows
        ):
            time.sleep(0.1)
        time.sleep(after)
        for sig in signals:
            proc.send_signal(sig)
            time.sleep(0.05)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    return proc.returncode, out, err


@pytest.fixture
def write_experiment(tmp_path: Path):
    """Write raw experiment data to a TOML file and return its path."""

    def write(raw: dict[str, Any], name: str = "exp.toml") -> Path:
        path = tmp_path / name
        path.write_text(tomli_w.dumps(raw), encoding="utf-8")
        return path

    return write

"""Shared fixtures: small experiments that run in a fraction of a second."""

from __future__ import annotations

import copy
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


@pytest.fixture
def write_experiment(tmp_path: Path):
    """Write raw experiment data to a TOML file and return its path."""

    def write(raw: dict[str, Any], name: str = "exp.toml") -> Path:
        path = tmp_path / name
        path.write_text(tomli_w.dumps(raw), encoding="utf-8")
        return path

    return write

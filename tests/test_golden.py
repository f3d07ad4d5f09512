"""Golden outputs: every shipped experiment, same seed, gives the same summary bit for bit.

A refactoring must leave these files alone. A change that alters the model on purpose
regenerates them (`HARNESS_REGENERATE_GOLDEN=1 python -m pytest tests/test_golden.py`) and
says why in its commit message. `caught_by` counts every safeguard the target has; its
zero counts are left out of the comparison, so that adding a safeguard that no shipped
experiment switches on leaves these files alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXPERIMENTS, ROOT

GOLDEN = Path(__file__).resolve().parent / "golden"
REPLICATIONS = "12"
COMPARISONS = {"safeguard-matrix", "safeguards-stronger"}
CRUDE = {"safeguards-stronger"}
"""Files estimated by importance sampling, whose stopping point depends on the clock:
their golden summaries are of crude runs of the same configurations."""
SHIPPED = sorted(p.stem for p in EXPERIMENTS.glob("*.toml"))


def _harness(*args: str) -> None:
    """Run the CLI; a failed gate (exit 1) still writes the summary this test reads."""
    done = subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode in (0, 1), done.stderr


def _summaries(name: str, out: Path) -> dict[str, dict]:
    """Every summary.json the experiment's run writes, by configuration (or 'run')."""
    path = str(EXPERIMENTS / f"{name}.toml")
    if name in COMPARISONS:
        crude = ["--set", "estimate.method='crude'"] if name in CRUDE else []
        _harness(
            "compare",
            path,
            *crude,
            "--replications",
            REPLICATIONS,
            "--jobs",
            "1",
            "--out",
            str(out),
        )
        return {
            p.parent.name: json.loads(p.read_text())
            for p in sorted((out / "configurations").glob("*/summary.json"))
        }
    _harness("run", path, "--replications", REPLICATIONS, "--jobs", "1", "--out", str(out))
    return {"run": json.loads((out / "summary.json").read_text())}


def _without_zero_catches(node: object) -> object:
    """`node` with every zero count of `caught_by` (and `caught_by_protected`) left out."""
    if isinstance(node, dict):
        return {
            key: {k: v for k, v in value.items() if v != 0}
            if key.startswith("caught_by") and isinstance(value, dict)
            else _without_zero_catches(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_without_zero_catches(item) for item in node]
    return node


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_experiment_gives_its_golden_summary(name: str, tmp_path: Path) -> None:
    got = _without_zero_catches(_summaries(name, tmp_path / "out"))
    golden = GOLDEN / f"{name}.json"
    if os.environ.get("HARNESS_REGENERATE_GOLDEN") == "1":
        golden.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    assert got == _without_zero_catches(json.loads(golden.read_text()))


def test_every_shipped_experiment_has_a_golden_file() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == SHIPPED

"""Gate values across CI runs (`harness check --history FILE`): one JSON line per check,
so a team sees a safeguard eroding run after run before its gate trips.

Each line holds when the check ran, on which revision, whether it passed, and for each
gate its metric, bound, the value the gate reads (for `max_upper_ci` the interval's upper
end), the point value and its 95% interval. Lines are only ever appended; a line that is
not one of ours stops the check with its file and line number rather than being skipped.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BadInput
from ..metrics import interval, lookup

if TYPE_CHECKING:
    from ..pipeline.check import CheckResult

SHOWN = 30  # runs a chart shows: the latest ones


def entry(check: CheckResult, revision: str | None) -> dict:
    """This check as a line of the history."""
    metrics = check.summary.get("metrics", {})
    gates = []
    for index, gate in enumerate(check.experiment.gates):
        verdict = check.verdicts.get(index)
        value = lookup(metrics, gate.metric)
        gates.append(
            {
                "label": gate.label,
                "metric": gate.metric,
                "kind": gate.kind,
                "bound": gate.bound,
                "observed": None if verdict is None else verdict.result.observed,
                "value": value if isinstance(value, int | float) else None,
                "ci95": interval(metrics, gate.metric),
                "passed": None if verdict is None else verdict.passed,
            }
        )
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "experiment": check.experiment.experiment.name,
        "revision": revision,
        "run_folder": str(check.folder.path),
        "replications": check.replications,
        "passed": check.passed,
        "gates": gates,
    }


def read(path: Path) -> list[dict]:
    """Every line of a history file (none if it does not exist yet)."""
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"--history {path}: cannot be read ({exc})") from None
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            item = None
        if not isinstance(item, dict) or not isinstance(item.get("gates"), list):
            raise BadInput(
                f"--history {path}: line {number} is not a line of a gate history "
                "(one JSON object per check, as harness check --history writes)"
            )
        lines.append(item)
    return lines


def append(path: Path, line: dict) -> None:
    """Add one line, durably: CI keeps the file between runs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(line, sort_keys=True) + "\n")
        file.flush()
        os.fsync(file.fileno())

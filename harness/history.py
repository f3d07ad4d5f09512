"""The history: the ordered record of every operation the harness invoked and what came back.

After Jepsen, it is the only truth between the drivers and the checker. Each operation is a
tuple `(time, process, type, f, value)`:

- `time`: shift seconds; `process`: who acted (an operator id, "reporter", "attacker:r3",
  "target" for timers the harness observed, "probe", "nemesis");
- `type`: "invoke" (asked), then "ok" (it happened), "fail" (it certainly had no effect) or
  "info" (indeterminate: it may or may not have taken effect);
- `f`: the operation (file_report, claim, decide, second_approve, direct_action, timer,
  status, fault, shift_end);
- `value`: the request's arguments merged with what came back.

Drivers that complete an operation atomically (the simulator) record only the completion.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

INVOKE, OK, FAIL, INFO = "invoke", "ok", "fail", "info"
Op = tuple[float, str, str, str, dict[str, Any]]


def add_answer(value: dict[str, Any], out: Any) -> dict[str, Any]:
    """Add what the target answered (an `Outcome`) to an operation's history value."""
    value["outcome"] = status = out.status
    value["safeguard"] = out.safeguard
    value["pending"] = out.pending_id
    value["approver"] = out.approver
    value["escalated_report"] = out.report_id if status == "escalated" else None
    return value


class History:
    __slots__ = ("ops",)

    def __init__(self, ops: Iterable[Op] = ()) -> None:
        self.ops: list[Op] = list(ops)

    def record(self, time: float, process: str, type_: str, f: str, value: dict) -> None:
        self.ops.append((time, process, type_, f, value))

    def __iter__(self) -> Iterator[Op]:
        return iter(self.ops)

    def __len__(self) -> int:
        return len(self.ops)


def write_jsonl(ops: Iterable[Op], path: Path, replication: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for index, (time, process, type_, f, value) in enumerate(ops):
            row = {
                "replication": replication,
                "index": index,
                "time": round(time, 6),
                "process": process,
                "type": type_,
                "f": f,
                "value": value,
            }
            out.write(json.dumps(row, separators=(",", ":")) + "\n")


def read_jsonl(path: Path) -> History:
    """A history written by `write_jsonl`; a torn last line (a killed run) is dropped."""
    ops: list[Op] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                break
            ops.append((row["time"], row["process"], row["type"], row["f"], row["value"]))
    return History(ops)

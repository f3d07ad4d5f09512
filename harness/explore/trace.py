"""Trace files: a finding as a replayable JSON document.

A trace holds everything a replay needs and nothing it must guess: the resolved experiment
(every default filled in), the search seed (from which the target's seed derives), the
search's fault kinds and mistake allowance (a move beyond the allowance is not taken on
replay either), the minimal moves, the finding and the narration people read. It is
validated like an experiment file: any problem is one line naming the file and the key.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from targets.moderation import TARGET_FAULTS
from targets.moderation.config import Settings

from ..errors import BadInput
from ..experiment.model import Experiment, from_raw
from .findings import KINDS, Finding
from .steps import Move

FORMAT = "harness-explore-trace/1"


class TraceFinding(Settings):
    kind: Literal[tuple(KINDS)]  # type: ignore[valid-type]
    step: int = Field(ge=1)
    detail: str
    account: int | None = None


class Trace(Settings):
    format: Literal[FORMAT]  # type: ignore[valid-type]
    experiment: dict[str, Any]
    seed: int = Field(ge=0)
    faults: list[Literal[TARGET_FAULTS]]  # type: ignore[valid-type]
    mistakes: int = Field(ge=0)
    steps: list[Move] = Field(min_length=1)
    finding: TraceFinding
    narration: list[str]


def make_trace(
    experiment: Experiment,
    seed: int,
    faults: tuple[str, ...],
    mistakes: int,
    moves: list[Move],
    finding: Finding,
    narration: list[str],
) -> Trace:
    return Trace(
        format=FORMAT,
        experiment=experiment.model_dump(mode="json", exclude_none=True),
        seed=seed,
        faults=list(faults),
        mistakes=mistakes,
        steps=moves,
        finding=TraceFinding(**asdict(finding)),
        narration=narration,
    )


def dump(trace: Trace) -> str:
    return json.dumps(trace.model_dump(mode="json"), indent=2) + "\n"


def read_trace(path: str | Path) -> Trace:
    source = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{source}: no such file") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise BadInput(f"{source}: cannot read the file ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise BadInput(f"{source}: not valid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BadInput(f'{source}: not a trace file (expected "format": "{FORMAT}")')
    try:
        return Trace.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = ".".join(str(part) for part in error["loc"])
        raise BadInput(f"{source}: {loc}: {error['msg']}") from None


def trace_experiment(trace: Trace, source: str, overrides: list[str]) -> Experiment:
    """The trace's experiment, with `--set` overrides (e.g. a fixed safeguard) applied."""
    return from_raw(trace.experiment, f"{source} (experiment)", overrides)

"""Operators of an experiment: each [[operators]] entry expanded into named people with
their own credentials (reviewers r1, r2, ...; seniors s1, s2, ...)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from targets.moderation import OperatorRecord

from ..experiment.model import Experiment
from ..personas import OperatorEntry


@dataclass(frozen=True)
class OperatorSpec:
    record: OperatorRecord
    entry: OperatorEntry
    entry_index: int

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def token(self) -> str:
        return self.record.token

    @property
    def collude(self) -> bool:
        return self.entry.collude

    def describe(self) -> str:
        return f"{self.record.role} {self.id} ({self.entry.persona})"


def build_roster(experiment: Experiment, secret: str | None = None) -> tuple[OperatorSpec, ...]:
    """Operators in a stable order. Tokens derive from `secret` (default: the seed), so
    each operator holds credentials no other operator can guess from its own."""
    key = secret if secret is not None else f"seed:{experiment.experiment.seed}"
    counters = {"reviewer": 0, "senior": 0}
    roster = []
    for index, entry in enumerate(experiment.operators):
        exit_at = entry.exit_time(experiment.experiment.shift)
        for _ in range(entry.count):
            counters[entry.role] += 1
            op_id = f"{entry.role[0]}{counters[entry.role]}"
            token = hashlib.sha256(f"{key}:{op_id}".encode()).hexdigest()[:32]
            roster.append(
                OperatorSpec(OperatorRecord(op_id, entry.role, token, exit_at), entry, index)
            )
    return tuple(roster)

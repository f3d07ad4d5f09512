"""Everything needed to build a fresh moderation service, as one value.

The simulator builds one service per replication from it; the HTTP service builds one at
start and at every reset; the durable store keeps it (as JSON) so that a restarted service
is rebuilt with the same accounts, operators, safeguards and seed before its journal is
replayed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .clock import Clock
from .config import RestoreConfig
from .model import AccountProfile, OperatorRecord
from .safeguards import SafeguardsConfig
from .service import Journal, ModerationService


@dataclass(frozen=True)
class ServiceSpec:
    accounts: Mapping[int, AccountProfile]
    operators: tuple[OperatorRecord, ...]
    safeguards: SafeguardsConfig
    restore: RestoreConfig
    seed: int | str = 0

    def build(self, clock: Clock, journal: Journal | None = None) -> ModerationService:
        return ModerationService(
            self.accounts,
            self.operators,
            clock=clock,
            safeguards=self.safeguards,
            restore=self.restore,
            seed=self.seed,
            journal=journal,
        )

    def with_seed(self, seed: int | str) -> ServiceSpec:
        return replace(self, seed=seed)

    def with_tokens(self, tokens: Mapping[str, str]) -> ServiceSpec:
        """The same service with each operator's token replaced by `tokens[operator id]`."""
        return replace(
            self, operators=tuple(replace(o, token=tokens[o.id]) for o in self.operators)
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "accounts": [
                    [a.id, a.handle, a.name, a.followers, a.protected]
                    for a in self.accounts.values()
                ],
                "operators": [[o.id, o.role, o.token, o.exit_at] for o in self.operators],
                "safeguards": self.safeguards.model_dump(mode="json"),
                "restore": self.restore.model_dump(mode="json"),
                "seed": self.seed,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> ServiceSpec:
        data = json.loads(text)
        return cls(
            {row[0]: AccountProfile(*row) for row in data["accounts"]},
            tuple(OperatorRecord(*row) for row in data["operators"]),
            SafeguardsConfig.model_validate(data["safeguards"]),
            RestoreConfig.model_validate(data["restore"]),
            data["seed"],
        )

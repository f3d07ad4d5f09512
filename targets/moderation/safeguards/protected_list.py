"""Protected list: actions on protected accounts go to the senior queue or are refused."""

from __future__ import annotations

from collections.abc import Set
from typing import Literal

from ..config import FailMode, Settings
from ..model import BLOCKED, ESCALATED, OperatorRecord
from .base import AccountSafeguard, Dependency, Request, Verdict


class ProtectedListConfig(Settings):
    """Actions on protected accounts go to the senior queue (escalate) or are refused (block)."""

    mode: Literal["off", "escalate", "block"] = "off"
    fail: FailMode = "open"  # while the list is unreachable: open = nobody is protected


class ProtectedList(AccountSafeguard):
    name = "protected_list"
    title = "protected list"
    settings = ProtectedListConfig
    switched_on = {"mode": "escalate"}
    consulted = 40
    listed = 10
    on_request = True
    dependency = Dependency(
        "protected_list_outage",
        "the protected list service goes down",
        "the protected list is back",
    )
    config: ProtectedListConfig

    @property
    def active(self) -> bool:
        return self.config.mode != "off"

    def check(self, request: Request) -> Verdict | None:
        """Escalate (or block) an action on a protected account; a senior's own passes.

        While the list is unreachable, fail open treats nobody as protected and fail closed
        treats everybody as protected.
        """
        cfg, account = self.config, request.account
        protected = cfg.fail == "closed" if self.fault in self.faults else account.protected
        if not protected:
            return None
        if cfg.mode == "block":
            return Verdict(BLOCKED)
        return None if request.op.role == "senior" else Verdict(ESCALATED)

    def why_passed(
        self, op: OperatorRecord, at: float, faults: Set[str], second_approval: bool
    ) -> str | None:
        cfg = self.config
        if second_approval or cfg.mode == "off":
            return None
        if self.fault in faults and cfg.fail == "open":
            return "the protected list is unreachable and fails open"
        if op.role == "senior":
            return "a senior's own action is not escalated"
        return None


SAFEGUARD = ProtectedList

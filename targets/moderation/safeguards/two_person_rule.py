"""Two-person rule: a destructive action on a protected or high-reach account needs a second,
distinct approver (chosen by the system, or in the weak set-up by the requester)."""

from __future__ import annotations

from collections.abc import Set
from typing import Literal

from pydantic import Field

from ..config import FailMode, Settings
from ..model import AccountProfile, OperatorRecord
from .base import AccountSafeguard, Dependency

TWO_PERSON_RULE = "two_person_rule"


class TwoPersonRuleConfig(Settings):
    """A destructive action in scope needs a second, distinct approver."""

    enabled: bool = False
    scope: Literal["protected", "followers"] = "protected"
    min_followers: int = Field(1_000_000, ge=0)
    chooser: Literal["system", "requester"] = "system"  # requester is the weak set-up
    pool: Literal["any", "senior"] = "any"
    fail: FailMode = "open"  # while the approval service is down


class TwoPersonRule(AccountSafeguard):
    name = TWO_PERSON_RULE
    title = "two-person rule"
    settings = TwoPersonRuleConfig
    consulted = 50
    listed = 20
    dependency = Dependency(
        "approval_service_outage",
        "the approval service goes down",
        "the approval service is back",
    )
    config: TwoPersonRuleConfig

    def check(self, op: OperatorRecord, account: AccountProfile) -> str:
        """'skip', 'require' or 'block' (the approval service is down and fails closed)."""
        cfg = self.config
        if not cfg.enabled:
            return "skip"
        if cfg.scope == "protected":
            in_scope = account.protected
        else:
            in_scope = account.protected or account.followers >= cfg.min_followers
        if not in_scope:
            return "skip"
        if self.fault in self.faults:
            return "block" if cfg.fail == "closed" else "skip"
        return "require"

    def why_passed(
        self, op: OperatorRecord, at: float, faults: Set[str], second_approval: bool
    ) -> str | None:
        if second_approval:
            return "the second approval completes the two-person rule"
        cfg = self.config
        if cfg.enabled and self.fault in faults and cfg.fail == "open":
            return "the approval service is down; fail-open lets the action through"
        return None


SAFEGUARD = TwoPersonRule

"""Two-person rule: a destructive action on a protected or high-reach account needs a second,
distinct approver (chosen by the system, or in the weak set-up by the requester)."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Literal

from pydantic import Field

from ..config import FailMode, Settings
from ..errors import Forbidden, InvalidRequest, NotFound
from ..model import BLOCKED, PENDING_APPROVAL, AccountProfile, OperatorRecord
from .base import AccountSafeguard, Dependency, Request, Verdict


class TwoPersonRuleConfig(Settings):
    """A destructive action in scope needs a second, distinct approver."""

    enabled: bool = False
    scope: Literal["protected", "followers"] = "protected"
    min_followers: int = Field(1_000_000, ge=0)
    chooser: Literal["system", "requester"] = "system"  # requester is the weak set-up
    pool: Literal["any", "senior"] = "any"
    fail: FailMode = "open"  # while the approval service is down


class TwoPersonRule(AccountSafeguard):
    name = "two_person_rule"
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

    def check(self, request: Request) -> Verdict | None:
        """Hold an action in scope for a second approver: the one the requester named, or
        the system's draw. With the approval service down, or nobody left to approve, fail
        closed blocks the action and fail open lets it go on."""
        cfg = self.config
        if not self.in_scope(request.account):
            return None
        if self.fault not in self.faults:
            senior_only = cfg.pool == "senior"
            approver = request.second_approver or request.pick_approver(senior_only)
            if approver is not None:
                return Verdict(PENDING_APPROVAL, approver)
        return Verdict(BLOCKED) if cfg.fail == "closed" else None

    def in_scope(self, account: AccountProfile) -> bool:
        if self.config.scope == "protected":
            return account.protected
        return account.protected or account.followers >= self.config.min_followers

    def vet_second_approver(
        self, op: OperatorRecord, named: str, operators: Mapping[str, OperatorRecord], now: float
    ) -> None:
        cfg = self.config
        if cfg.chooser != "requester":
            raise InvalidRequest("the system chooses the second approver; omit second_approver")
        if named == op.id:
            raise Forbidden("an operator cannot be its own second approver")
        other = operators.get(named)
        if other is None:
            raise NotFound(f"operator {named} does not exist")
        if other.departed(now):
            raise InvalidRequest(f"operator {named} has departed")
        if cfg.pool == "senior" and other.role != "senior":
            raise InvalidRequest(f"second approvers must be seniors; {named} is a reviewer")

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

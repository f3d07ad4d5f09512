"""Safeguard settings. Each safeguard is switchable and parameterised as in DESIGN.md."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .durations import DAY, Duration

FailMode = Literal["open", "closed"]
Probability = Field(ge=0.0, le=1.0)


class Settings(BaseModel):
    """Strict settings: unknown keys are errors, values are validated (numbers are finite),
    instances are frozen."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )


class ProtectedListConfig(Settings):
    """Actions on protected accounts go to the senior queue (escalate) or are refused (block)."""

    mode: Literal["off", "escalate", "block"] = "off"
    fail: FailMode = "open"  # while the list is unreachable: open = nobody is protected


class TwoPersonRuleConfig(Settings):
    """A destructive action in scope needs a second, distinct approver."""

    enabled: bool = False
    scope: Literal["protected", "followers"] = "protected"
    min_followers: int = Field(1_000_000, ge=0)
    chooser: Literal["system", "requester"] = "system"  # requester is the weak set-up
    pool: Literal["any", "senior"] = "any"
    fail: FailMode = "open"  # while the approval service is down


class LeaverLockoutConfig(Settings):
    """Operators within `days_before_exit` of their exit date lose destructive permissions."""

    enabled: bool = False
    days_before_exit: float = Field(1.0, ge=0)
    # while the HR feed is stale: open = nobody counts as leaving, closed = anybody might be
    fail: FailMode = "open"

    def locks_from(self, exit_at: float) -> float:
        """When an operator leaving at `exit_at` loses destructive permissions (a fresh HR
        feed assumed)."""
        return exit_at - self.days_before_exit * DAY


class RateLimitConfig(Settings):
    """At most `max_actions` destructive actions per operator per `window`."""

    enabled: bool = False
    max_actions: int = Field(20, ge=1)
    window: Duration = Field(3600.0, gt=0)


class DelayedActionConfig(Settings):
    """Destructive actions on high-reach accounts wait `delay`; a monitor cancels wrongful ones
    with `cancel_probability` before they take effect."""

    enabled: bool = False
    min_followers: int = Field(1_000_000, ge=0)
    delay: Duration = Field(1800.0, gt=0)
    cancel_probability: float = Field(0.9, ge=0.0, le=1.0)


class AnomalyDetectionConfig(Settings):
    """An operator whose approval rate over `window` exceeds `threshold` is locked."""

    enabled: bool = False
    window: Duration = Field(3600.0, gt=0)
    min_decisions: int = Field(10, ge=1)
    threshold: float = Field(0.8, ge=0.0, le=1.0)


class RestoreConfig(Settings):
    """The restore monitor: a protected account that went down is restored after a delay
    (2017: 11 minutes)."""

    enabled: bool = True
    detect_after: Duration = Field(660.0, ge=0)
    distribution: Literal["fixed", "exponential"] = "fixed"


class SafeguardsConfig(Settings):
    protected_list: ProtectedListConfig = ProtectedListConfig()
    two_person_rule: TwoPersonRuleConfig = TwoPersonRuleConfig()
    leaver_lockout: LeaverLockoutConfig = LeaverLockoutConfig()
    rate_limit: RateLimitConfig = RateLimitConfig()
    delayed_action: DelayedActionConfig = DelayedActionConfig()
    anomaly_detection: AnomalyDetectionConfig = AnomalyDetectionConfig()


TargetFault = Literal["protected_list_outage", "approval_service_outage", "hr_feed_stale"]
TARGET_FAULTS: tuple[str, ...] = TargetFault.__args__
"""Faults that change what the core's safeguard dependencies answer."""

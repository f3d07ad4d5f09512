"""The experiment file's `[estimate]` table: how rates are estimated and when to stop."""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from targets.moderation import Duration
from targets.moderation.config import Settings


class EstimateSpec(Settings):
    """Crude Monte Carlo (the default: every replication counts the same), or importance
    sampling: a pilot tunes a tilt by the cross-entropy method, then tilted replications run
    until the slip-through's 95% half-width is within `target_relative_error` of the
    estimate, or the budget (replications of every stage, or seconds) is spent."""

    method: Literal["crude", "importance"] = "crude"
    target_relative_error: float = 0.2
    max_replications: int = 200_000
    max_seconds: Duration = 600.0
    pilot_replications: int = 200  # per pilot round, and again untilted for trials per shift

    @field_validator("target_relative_error")
    @classmethod
    def _share(cls, value: float) -> float:
        if not 0.0 < value <= 1.0:
            raise ValueError("must be more than 0 and at most 1 (0.2 means +-20% at 95%)")
        return value

    @field_validator("max_replications")
    @classmethod
    def _replications(cls, value: int) -> int:
        if not 1_000 <= value <= 100_000_000:
            raise ValueError("must be a whole number from 1,000 to 100,000,000")
        return value

    @field_validator("max_seconds")
    @classmethod
    def _seconds(cls, value: float) -> float:
        if not 1.0 <= value <= 7 * 86_400.0:
            raise ValueError("must be a duration from 1s to 7d")
        return value

    @field_validator("pilot_replications")
    @classmethod
    def _pilot(cls, value: int) -> int:
        if not 50 <= value <= 100_000:
            raise ValueError("must be a whole number from 50 to 100,000")
        return value

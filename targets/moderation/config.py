"""Settings shared by the target's parts, and the restore monitor's.

Each safeguard's settings live in its own module under `safeguards/`; `SafeguardsConfig`,
all of them under their names, is derived there.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .durations import Duration

FailMode = Literal["open", "closed"]


class Settings(BaseModel):
    """Strict settings: unknown keys are errors, values are validated (numbers are finite),
    instances are frozen."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )


class RestoreConfig(Settings):
    """The restore monitor: a protected account that went down is restored after a delay
    (2017: 11 minutes)."""

    enabled: bool = True
    detect_after: Duration = Field(660.0, ge=0)
    distribution: Literal["fixed", "exponential"] = "fixed"

"""The tired reviewer: judges as a diligent one, its error multiplied by time on shift."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Judging, JudgingPersona, register


class Tired(Judging):
    """Error multiplier rises with hours on shift (HSE human factors note 10; Tucker et al.
    2003; Folkard & Tucker 2003); degraded fitness x5 (SPAR-H, NUREG/CR-6883)."""

    persona: Literal["tired"]
    hours_into_shift: float = Field(
        4.0,
        ge=0,
        le=48,
        description="hours already worked at shift start: risk x1 up to 8 h, x2 at 12 h, "
        "x3 at 16 h (HSE human factors note 10; Folkard & Tucker 2003)",
    )
    night: bool = Field(False, description="night work, x1.3 (Folkard & Tucker 2003)")
    degraded_fitness: bool = Field(
        False, description="degraded fitness for duty, x5 (SPAR-H, NUREG/CR-6883)"
    )


def fatigue_multiplier(hours_on_shift: float) -> float:
    """Risk by time on shift: 1 up to 8 h, 2 at 12 h, 3 at 16 h, rising 0.25 an hour after
    (HSE human factors briefing note 10; Folkard & Tucker 2003)."""
    if hours_on_shift <= 8:
        return 1.0
    return 1.0 + (hours_on_shift - 8) / 4


def break_multiplier(hours_on_shift: float) -> float:
    """Within a 2-hour block without a break the risk in the last 30 minutes is twice that of
    the first 30 (Tucker et al. 2003); the block's mean multiplier is 1."""
    return 5 / 9 + (4 / 9) * (hours_on_shift % 2.0)


@register(Tired, rank=20)
class TiredPersona(JudgingPersona):
    entry: Tired

    def multiplier(self, now: float) -> float:
        hours = self.entry.hours_into_shift + now / 3600.0
        m = fatigue_multiplier(hours) * break_multiplier(hours)
        if self.entry.night:
            m *= 1.3
        if self.entry.degraded_fitness:
            m *= 5.0
        return m

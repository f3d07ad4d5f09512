"""The departing insider: on its last day, careless (or malicious) in the hour before exit."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from targets.moderation import Duration
from targets.moderation.durations import format_duration

from .base import Action, Item, Judging, JudgingPersona, register


class DepartingInsider(Judging):
    """Last day (CERT/SEI: most leaver misuse falls within 30-60 days of exit; 2017: the
    last hour of the last shift). Careless in the hazard window, optionally malicious."""

    persona: Literal["departing_insider"]
    action: Action = Field("deactivate", description="what this operator does when approving")
    exit_after: Duration | None = Field(
        None, description="when in the shift it leaves; default: at the end of the shift"
    )
    hazard_window: Duration = Field(
        3600.0,
        ge=0,
        description="the time before exit when it is careless: the 2017 incident's last hour "
        "(CERT/SEI: most leaver misuse within 30-60 days of exit)",
    )
    careless_multiplier: float = Field(
        10.0, ge=1.0, description="error multiplier in the hazard window; none published"
    )
    malicious: bool = Field(
        False, description="approves any protected-account report in the hazard window"
    )

    def exit_time(self, shift: float) -> float | None:
        return self.exit_after if self.exit_after is not None else shift

    def landmarks(self, exit_at: float) -> tuple[float, ...]:
        return (exit_at - self.hazard_window,)

    def acts_after_exit(self) -> bool:
        return self.malicious

    def traits(self) -> list[str]:
        return ["malicious"] if self.malicious else []


@register(DepartingInsider, rank=40)
class DepartingInsiderPersona(JudgingPersona):
    entry: DepartingInsider

    def in_hazard_window(self, now: float) -> bool:
        if self.exit_at is None:
            return False
        return self.exit_at - self.entry.hazard_window <= now < self.exit_at

    def multiplier(self, now: float) -> float:
        return self.entry.careless_multiplier if self.in_hazard_window(now) else 1.0

    def approve_probability(self, item: Item, now: float) -> float:
        if self.entry.malicious and item.protected and self.in_hazard_window(now):
            return 1.0
        return super().approve_probability(item, now)

    def names_lenient(self, now: float) -> bool:
        return self.entry.malicious and self.in_hazard_window(now)

    def likely_reason(self, now: float) -> str | None:
        if not self.in_hazard_window(now):
            return None
        mood = "malicious" if self.entry.malicious else "careless"
        return f"{mood} in the last {format_duration(self.entry.hazard_window)} before leaving"

"""The compromised operator: an attacker holding its phished credentials goes after
protected accounts directly through the admin tool (the 2020 takeover)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from targets.moderation import Duration

from .base import Action, Judging, JudgingPersona, Probability, register


class Compromised(Judging):
    """An attacker holding this operator's credentials goes after protected accounts
    directly through the admin tool (the 2020 takeover). The human works as diligent."""

    persona: Literal["compromised"]
    phish_probability: Probability = Field(
        0.33,
        description="credentials phished: industry phishing benchmarks, 0.33 untrained, "
        "0.18 after 90 days' training, 0.05 after a year",
    )
    attack_at: Duration | None = Field(
        None, description="when the attack starts; default: a uniformly random time in the shift"
    )
    attempts: int = Field(
        3, ge=1, le=1000, description="protected accounts the attacker goes after"
    )
    attack_interval: Duration = Field(
        60.0, gt=0, description="between attempts; a script goes faster"
    )
    attack_action: Action = Field("deactivate", description="what the attacker does")
    repeats: int = Field(
        0,
        ge=0,
        le=100,
        description="times the attacker sends each attempt again while it waits for its "
        "second approval, shopping for a more lenient approver (a red-team pass found a "
        "target that drew a new approver each time); the target should refuse each repeat",
    )
    repeat_every: Duration = Field(10.0, gt=0, description="between an attempt and its repeats")

    def after_shift(self, shift: float) -> str | None:
        return "attack_at" if self.attack_at is not None and self.attack_at >= shift else None

    def attempts_per_shift(self) -> int:
        return self.attempts * (1 + self.repeats)

    def attacked(self) -> bool:
        return True


@register(Compromised, rank=50)
class CompromisedPersona(JudgingPersona):
    """The human works as a diligent reviewer; the attacker uses the same credentials."""

    entry: Compromised

    def attack_plan(self, shift: float, protected_ids: Sequence[int]) -> list[tuple[float, int]]:
        if not protected_ids or not self.chance(self.rng, "phish", self.entry.phish_probability):
            return []
        start = self.entry.attack_at
        if start is None:
            start = self.rng.uniform(0.0, shift)
        chosen = self.rng.sample(list(protected_ids), min(self.entry.attempts, len(protected_ids)))
        step, again = self.entry.attack_interval, self.entry.repeat_every
        plan = [
            (start + step * i + again * k, account)
            for i, account in enumerate(chosen)
            for k in range(1 + self.entry.repeats)
        ]
        return [(at, account) for at, account in plan if at < shift]

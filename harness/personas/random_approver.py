"""The rubber-stamper: approves with a fixed probability whatever the report's merit."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Item, OperatorEntry, Persona, Probability, register


class RandomApprover(OperatorEntry):
    """Approves with probability p regardless of merit: vigilance research finds fatigue
    shifts the response bias toward "yes"."""

    persona: Literal["random_approver"]
    approve_probability: Probability = Field(
        0.5,
        description="approval regardless of merit: vigilance research (fatigue shifts the "
        'response bias toward "yes")',
    )


@register(RandomApprover, rank=30)
class RandomApproverPersona(Persona):
    entry: RandomApprover

    def approve_probability(self, item: Item, now: float) -> float:
        return self.entry.approve_probability

    def likely_reason(self, now: float) -> str | None:
        return "approves regardless of merit"

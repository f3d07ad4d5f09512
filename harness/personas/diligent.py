"""The diligent reviewer: judges on merit and errs at human-reliability rates."""

from __future__ import annotations

from typing import Literal

from .base import Judging, JudgingPersona, register


class Diligent(Judging):
    persona: Literal["diligent"]


@register(Diligent, rank=10)
class DiligentPersona(JudgingPersona):
    pass

"""Tilted draws: the seam's other side, where a replication's likelihood ratio is kept.

Personas and the target make every yes/no draw that can lead to a slip through a
replaceable `chance(rng, kind, p)` (`targets.moderation.bernoulli` by default). A `Tilt`
gives some kinds a shift of the log-odds: such a draw is yes with probability
q = p e^s / (1 - p + p e^s) instead of p, and the replication's weight is multiplied by
p/q or (1-p)/(1-q), so the weighted replication is an unbiased sample of the untilted
model. Every draw still uses exactly one uniform from the same stream, so a tilt changes
which way draws go and nothing else about the random streams.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

SLIPWARD: dict[str, int] = {
    "approve_protected": 1,  # a wrongful approval of a protected account's report
    "second_approve_protected": 1,  # a second approver waving a wrongful one through
    "phish": 1,  # an operator's credentials phished
    "cancel_protected": -1,  # the delay monitor cancelling a wrongful protected action
}
"""The kinds of draw a tilt may shift, and which way a slip lies (+1: yes, -1: no). A
tilt only ever moves a draw toward a slip. Approval kinds carry the role after a colon
(`approve_protected:senior`), so each stage of a chain of safeguards gets a shift of its
own."""

MAX_SHIFT = 12.0
"""The largest log-odds shift (odds times 160,000): beyond it weights carry no signal."""

CAP = 0.8
"""A tilt never makes the slip's side of a draw likelier than this (unless it already is):
the other side keeps a share of at least 1 - CAP, so the replications where it happens
(a second approver saying no, then another chain slipping) are still sampled, and their
weight is at most 1 / (1 - CAP). Without a cap the tuning can push a draw to certainty,
and the estimate misses those replications: unbiased in theory, low in every sample."""


def family(kind: str) -> str | None:
    """The tiltable family a kind belongs to (its name before any ':'), or None."""
    base = kind.partition(":")[0]
    return base if base in SLIPWARD else None


def shifted(p: float, shift: float) -> float:
    """p with its log-odds shifted by `shift`."""
    scale = math.exp(shift)
    return p * scale / (1.0 - p + p * scale)


def tilted_probability(p: float, shift: float) -> float:
    """p with its log-odds shifted by `shift`, the side it favours capped at `CAP`."""
    q = shifted(p, shift)
    return min(q, max(p, CAP)) if shift > 0 else max(q, min(p, 1.0 - CAP))


@dataclass(frozen=True)
class Tilt:
    """Log-odds shifts by kind; kinds it does not name get `default` when tiltable."""

    shifts: Mapping[str, float] = field(default_factory=dict)
    default: float = 0.0

    def shift(self, kind: str) -> float | None:
        """The shift of a draw of `kind` in the slip's direction's sign, None if untiltable."""
        base = family(kind)
        if base is None:
            return None
        return self.shifts.get(kind, self.default * SLIPWARD[base])

    def as_dict(self) -> dict:
        return {
            "shifts": {k: round(v, 6) for k, v in sorted(self.shifts.items())},
            "default": self.default,
        }


UNTILTED = Tilt()


class TiltedDraws:
    """One replication's draws under a tilt: its log-weight and, for tuning, every tiltable
    draw as (kind, p, yes)."""

    def __init__(self, tilt: Tilt, record: bool = False) -> None:
        self.tilt = tilt
        self.log_weight = 0.0
        self.draws: list[tuple[str, float, bool]] | None = [] if record else None

    def chance(self, rng: random.Random, kind: str, p: float) -> bool:
        u = rng.random()
        shift = self.tilt.shift(kind)
        if shift is None:
            return u < p
        if not shift or not 0.0 < p < 1.0:
            hit = u < p
        else:
            q = tilted_probability(p, shift)
            hit = u < q
            self.log_weight += math.log(p / q) if hit else math.log1p(-p) - math.log1p(-q)
        if self.draws is not None:
            self.draws.append((kind, p, hit))
        return hit

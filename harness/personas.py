"""Operator personas: how a generated operator decides (Mesa-style agents).

One persona object per operator per replication, holding that operator's random stream.
The simulator and the live Locust users call the same methods, so behaviour is identical
in both modes. Defaults and their sources are on the experiment's persona entries.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from targets.moderation import bernoulli

from .experiment import (
    Compromised,
    DepartingInsider,
    Judging,
    PersonaEntry,
    RandomApprover,
    Tired,
)

if TYPE_CHECKING:
    from .roster import OperatorSpec

# THERP conditional probability of failure given the first person failed (NUREG/CR-1278,
# table 20-17), as a function of the second person's nominal probability n.
THERP_DEPENDENCE = {
    "zero": lambda n: n,
    "low": lambda n: (1 + 19 * n) / 20,
    "moderate": lambda n: (1 + 6 * n) / 7,
    "high": lambda n: (1 + n) / 2,
    "complete": lambda n: 1.0,
}
Z95 = 1.6448536269514722  # the lognormal error factor is the 95th percentile over the median


class Item(NamedTuple):
    """What the harness knows about a piece of work; operators see only part of it."""

    account_id: int
    protected: bool
    violating: bool
    ambiguous: bool = False


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


def approval_kind(item: Item, role: str, second: bool = False) -> str:
    """What an approval draw is: a wrongful approval of a protected account's report by a
    reviewer or a senior, first or second (the draws a slip is made of), or any other."""
    kind = "second_approve" if second else "approve"
    return f"{kind}_protected:{role}" if item.protected and not item.violating else kind


class Persona:
    """Base persona: item time and the decision rule built on `approve_probability`.

    Every yes/no draw that can lead to a slip goes through `chance` (the target's
    `bernoulli` unless a caller swaps in a tilted one), named by its kind."""

    def __init__(self, entry: PersonaEntry, rng: random.Random, exit_at: float | None = None):
        self.entry = entry
        self.rng = rng
        self.chance: Callable[[random.Random, str, float], bool] = bernoulli
        self.exit_at = exit_at
        self.item_time = entry.item_time

    def item_seconds(self) -> float:
        low, high = self.item_time
        return low + (high - low) * self.rng.random()

    def approve_probability(self, item: Item, now: float) -> float:
        """Probability of approving `item` at shift second `now`."""
        raise NotImplementedError

    def action_for(self, item: Item, now: float) -> str:
        return self.entry.action

    def decide(self, item: Item, now: float) -> tuple[str, str | None]:
        """('approve', action) or ('dismiss', None)."""
        kind = approval_kind(item, self.entry.role)
        if self.chance(self.rng, kind, self.approve_probability(item, now)):
            return "approve", self.action_for(item, now)
        return "dismiss", None

    def second_approve_probability(
        self, item: Item, now: float, dependence: str, requester_colludes: bool
    ) -> float:
        """Probability of approving `item` as second approver. A wrongful request means the
        first approver failed, so the nominal probability passes through the THERP
        dependence level; colluders wave through each other's requests."""
        if self.entry.collude and requester_colludes:
            return 1.0
        p = self.approve_probability(item, now)
        return p if item.violating else THERP_DEPENDENCE[dependence](p)

    def second_approve(
        self, item: Item, now: float, dependence: str, requester_colludes: bool
    ) -> bool:
        """The verdict as second approver (colluders decide without drawing)."""
        p = self.second_approve_probability(item, now, dependence, requester_colludes)
        if self.entry.collude and requester_colludes:
            return True
        return self.chance(self.rng, approval_kind(item, self.entry.role, second=True), p)

    def choose_second_approver(self, colluders: Sequence[str]) -> str | None:
        """Where the requester picks its second approver: a colluder picks a fellow
        colluder; anyone else leaves the choice to the system."""
        if self.entry.collude and colluders:
            return self.rng.choice(colluders)
        return None

    def attack_plan(self, shift: float, protected_ids: Sequence[int]) -> list[tuple[float, int]]:
        """Direct actions an attacker holding this operator's credentials takes."""
        return []


class JudgingPersona(Persona):
    """Decides on merit; errs at a per-operator lognormal rate on clear cases and at a
    higher rate on ambiguous policy calls, scaled by `multiplier`."""

    entry: Judging

    def __init__(self, entry: Judging, rng: random.Random, exit_at: float | None = None):
        super().__init__(entry, rng, exit_at)
        sigma = math.log(entry.error_factor) / Z95
        self.skill = math.exp(rng.gauss(0.0, sigma)) if sigma else 1.0
        self.clear_error = entry.error * self.skill  # this operator's own error on clear cases
        self.ambiguous_error = entry.ambiguous_error

    def multiplier(self, now: float) -> float:
        return 1.0

    def error_rate(self, item: Item, now: float) -> float:
        base = self.ambiguous_error if item.ambiguous else self.clear_error
        return min(1.0, base * self.multiplier(now))

    def approve_probability(self, item: Item, now: float) -> float:
        error = self.error_rate(item, now)
        return 1.0 - error if item.violating else error


class DiligentPersona(JudgingPersona):
    pass


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


class RandomApproverPersona(Persona):
    entry: RandomApprover

    def approve_probability(self, item: Item, now: float) -> float:
        return self.entry.approve_probability


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
        step = self.entry.attack_interval
        return [(start + step * i, a) for i, a in enumerate(chosen) if start + step * i < shift]


_PERSONAS: dict[str, type[Persona]] = {
    "diligent": DiligentPersona,
    "tired": TiredPersona,
    "random_approver": RandomApproverPersona,
    "departing_insider": DepartingInsiderPersona,
    "compromised": CompromisedPersona,
}


def make_persona(entry: PersonaEntry, rng: random.Random, exit_at: float | None = None) -> Persona:
    return _PERSONAS[entry.persona](entry, rng, exit_at)


def operator_persona(spec: OperatorSpec, seed: int | str, session: int = 0) -> Persona:
    """Operator `spec`'s persona with its own random stream under `seed` (a replication's).
    Every driver builds it here, so live mode's first session of an operator draws exactly
    what the simulator draws; further sessions get streams of their own."""
    stream = f"{seed}:operator:{spec.id}" + (f":{session}" if session else "")
    return make_persona(spec.entry, random.Random(stream), spec.record.exit_at)

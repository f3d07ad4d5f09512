"""What every persona builds on: the keys every [[operators]] entry takes, the decision rule,
the THERP dependence of a second approver, and the registry a persona module joins.

A persona is one module of this package holding its experiment entry (keys and defaults,
each default's source in its field's description) and its behaviour (how a generated
operator decides, Mesa-style). One behaviour object per operator per replication holds
that operator's random stream; the simulator, live mode and the search call the same
methods, so behaviour is identical in every mode.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal, NamedTuple, TypeVar

from pydantic import Field, field_validator

from targets.moderation import Duration, bernoulli
from targets.moderation.config import Settings

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Role = Literal["reviewer", "senior"]
Action = Literal["suspend", "deactivate"]

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


# --- the experiment entry ----------------------------------------------------------------


class OperatorEntry(Settings):
    """Keys every [[operators]] entry takes, and what the roster, the bounds and the search
    ask of a persona's entry (each persona answers for itself, so nothing elsewhere checks
    which persona an entry is)."""

    role: Role = Field("reviewer", description="reviewer, or senior (also works escalations)")
    count: int = Field(1, ge=0, le=10_000, description="operators made from this entry")
    collude: bool = Field(
        False, description="approves fellow colluders' pending actions without looking"
    )
    item_time: tuple[Duration, Duration] = Field(
        (30.0, 150.0),
        description="shortest and longest time per item, uniform (about 25 items an hour): "
        "public moderator throughput figures",
    )
    action: Action = Field("suspend", description="what this operator does when approving")

    @field_validator("item_time")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] <= value[1]:
            raise ValueError("item_time must be [shortest, longest] with 0 < shortest <= longest")
        return value

    def exit_time(self, shift: float) -> float | None:
        """When in the shift this operator leaves the company (None: it stays)."""
        return None

    def after_shift(self, shift: float) -> str | None:
        """The key of a moment this entry sets at or after the shift's end, if any."""
        return None

    def landmarks(self, exit_at: float) -> tuple[float, ...]:
        """Moments besides its exit at which what this operator would do changes."""
        return ()

    def attempts_per_shift(self) -> int:
        """Direct attacks each operator of this entry may suffer in a shift."""
        return 0

    def attacked(self) -> bool:
        """Whether an attacker may hold this operator's credentials and use them directly."""
        return False

    def acts_after_exit(self) -> bool:
        """Whether the operator keeps trying its credentials once it has left."""
        return False

    def traits(self) -> list[str]:
        """What a reader of a search's cast should know beyond the persona's name."""
        return []


class Judging(OperatorEntry):
    """Operators who judge on merit and err at human-reliability rates."""

    error: Probability = Field(
        0.003,
        description="error on a clear case, the median of a per-operator lognormal: "
        "NUREG/CR-1278 (THERP) and HEART nominal",
    )
    error_factor: float = Field(
        5.0,
        ge=1.0,
        description="the lognormal's error factor, 95th percentile over median: NUREG/CR-1278",
    )
    ambiguous_error: Probability = Field(
        0.05,
        description="error on a hard policy call: SPAR-H diagnosis 0.01; Facebook reported "
        "more than 1 in 10 moderation calls wrong",
    )


# --- the behaviour -----------------------------------------------------------------------


class Item(NamedTuple):
    """What the harness knows about a piece of work; operators see only part of it."""

    account_id: int
    protected: bool
    violating: bool
    ambiguous: bool = False


def approval_kind(item: Item, role: str, second: bool = False) -> str:
    """What an approval draw is: a wrongful approval of a protected account's report by a
    reviewer or a senior, first or second (the draws a slip is made of), or any other."""
    kind = "second_approve" if second else "approve"
    return f"{kind}_protected:{role}" if item.protected and not item.violating else kind


class Persona:
    """Base persona: item time and the decision rule built on `approve_probability`.

    Every yes/no draw that can lead to a slip goes through `chance` (the target's
    `bernoulli` unless a caller swaps in a tilted one), named by its kind."""

    def __init__(self, entry: OperatorEntry, rng: random.Random, exit_at: float | None = None):
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

    def choose_second_approver(
        self,
        colluders: Sequence[str],
        colleagues: Sequence[tuple[str, Persona]],
        item: Item,
        now: float,
        dependence: str,
    ) -> str | None:
        """Whom the requester names as its second approver where the two-person rule lets
        it choose: a colluder names a fellow colluder; a requester who means harm at `now`
        the colleague most likely to wave the request through; anyone else the colleague it
        works with, the first of `colleagues` (those it may name, nearest desk first).
        None: nobody it may name is at work."""
        if self.entry.collude and colluders:
            return self.rng.choice(colluders)
        if not colleagues:
            return None
        if self.names_lenient(now):
            return most_lenient(colleagues, item, now, dependence)
        return colleagues[0][0]

    def names_lenient(self, now: float) -> bool:
        """Whether, naming its second approver at `now`, this requester means harm and
        picks the most lenient colleague."""
        return False

    def attack_plan(self, shift: float, protected_ids: Sequence[int]) -> list[tuple[float, int]]:
        """Direct actions an attacker holding this operator's credentials takes."""
        return []

    def likely_reason(self, now: float) -> str | None:
        """The persona's own reason for a move it makes at least half the time at `now`, as
        a person would say it (None: no reason of its own)."""
        return None


def most_lenient(
    colleagues: Sequence[tuple[str, Persona]], item: Item, now: float, dependence: str
) -> str:
    """The colleague with the highest probability of approving `item` as second approver
    at `now` (the first of equals), by each one's own persona."""
    return max(
        colleagues,
        key=lambda c: c[1].second_approve_probability(item, now, dependence, False),
    )[0]


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


# --- the registry ------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonaKind:
    """One persona: the name experiment files give it, its entry and its behaviour."""

    name: str
    entry: type[OperatorEntry]
    behaviour: type[Persona]
    rank: int  # where it comes in lists (messages, the schema): ordinary operators first
    module: str


REGISTERED: list[PersonaKind] = []
"""Filled as the package imports its persona modules."""

P = TypeVar("P", bound=Persona)


def register(entry: type[OperatorEntry], rank: int) -> Callable[[type[P]], type[P]]:
    """Class decorator: the behaviour class it decorates and `entry` are one persona, named
    by the entry's `persona` literal and listed by `rank`."""

    def add(behaviour: type[P]) -> type[P]:
        (name,) = entry.model_fields["persona"].annotation.__args__  # type: ignore[union-attr]
        REGISTERED.append(PersonaKind(name, entry, behaviour, rank, behaviour.__module__))
        return behaviour

    return add

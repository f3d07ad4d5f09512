"""A seeded platform population: Faker handles and names, heavy-tailed follower counts,
protected accounts at the top. Built once per experiment and shared by its replications."""

from __future__ import annotations

import functools
import itertools
import math
import random
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from faker import Faker

from targets.moderation import AccountProfile

from ..experiment.model import PopulationSpec

# Follower counts are lognormal with a median of 200 and sigma 3: among 5,000 accounts a
# dozen pass a million and the top reaches tens of millions, like a real platform's head.
FOLLOWER_MEDIAN = 200
FOLLOWER_SIGMA = 3.0
FOLLOWER_CAP = 200_000_000


@dataclass(frozen=True)
class Population:
    accounts: dict[int, AccountProfile]
    protected_ids: tuple[int, ...]  # most-followed first
    ordinary_ids: tuple[int, ...]

    def handle(self, account_id: int) -> str:
        return self.accounts[account_id].handle


@functools.lru_cache(maxsize=4)
def build_population(spec: PopulationSpec, seed: int) -> Population:
    """The population of `spec` and `seed`. Cached: the configurations of a comparison share
    one population (it is immutable), so it is built once."""
    fake = seeded_faker(seed)
    rng = random.Random(f"{seed}:population")
    mu = math.log(FOLLOWER_MEDIAN)
    followers = sorted(
        (
            min(FOLLOWER_CAP, int(rng.lognormvariate(mu, FOLLOWER_SIGMA)))
            for _ in range(spec.accounts)
        ),
        reverse=True,
    )
    seen: set[str] = set()
    accounts: dict[int, AccountProfile] = {}
    for account_id, count in enumerate(followers, start=1):
        handle = base = fake.user_name()
        suffix = 1
        while handle in seen:
            suffix += 1
            handle = f"{base}{suffix}"
        seen.add(handle)
        accounts[account_id] = AccountProfile(
            account_id, handle, fake.name(), count, protected=account_id <= spec.protected
        )
    ids = tuple(accounts)
    return Population(accounts, ids[: spec.protected], ids[spec.protected :])


def seeded_faker(seed: int) -> Faker:
    """Faker seeded with `seed` that draws the same names as plain Faker, several times faster.

    Faker draws a name from a weighted table (thousands of entries) by summing the weights
    again on every draw, which is most of the cost of a large population. `random.choices`
    given the same cumulative weights picks the same entry from the same random number, so
    each provider's one-entry weighted draw here sums a table once and reuses the sums."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    sums: dict[int, tuple[OrderedDict, tuple, list[float]]] = {}
    for provider in fake.providers:
        provider.random_elements = functools.partial(
            _draw, provider, provider.random_elements, sums
        )
    return fake


def _draw(
    provider: Any,
    original: Any,
    sums: dict[int, tuple[OrderedDict, tuple, list[float]]],
    elements: Any = ("a", "b", "c"),
    length: int | None = None,
    unique: bool = False,
    use_weighting: bool | None = None,
) -> Sequence[Any]:
    """`provider.random_elements` with the cumulative weights of a weighted table kept (the
    table itself is kept too, so its id is not reused); any other draw is Faker's own."""
    weighted = use_weighting if use_weighting is not None else provider.__use_weighting__
    if length != 1 or unique or not weighted or not isinstance(elements, OrderedDict):
        return original(elements, length, unique, use_weighting)
    kept = sums.get(id(elements))
    if kept is None:
        kept = (elements, tuple(elements), list(itertools.accumulate(elements.values())))
        sums[id(elements)] = kept
    return provider.generator.random.choices(kept[1], cum_weights=kept[2], k=1)

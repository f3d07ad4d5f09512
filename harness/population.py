"""A seeded platform population: Faker handles and names, heavy-tailed follower counts,
protected accounts at the top. Built once per experiment and shared by its replications."""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass

from faker import Faker

from targets.moderation import AccountProfile

from .experiment import PopulationSpec

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
    fake = Faker("en_US")
    fake.seed_instance(seed)
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

"""The population: the same accounts for the same seed, whichever way Faker is driven."""

from __future__ import annotations

import pytest
from faker import Faker

from harness.experiment.model import PopulationSpec
from harness.world import population


def _plain_faker(seed: int) -> Faker:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    return fake


@pytest.mark.parametrize("seed", [0, 7, 20171102])
def test_the_fast_name_draws_give_plain_fakers_population(seed, monkeypatch):
    """The population builder's faster Faker draws exactly the names plain Faker draws, so a
    seed's population (handles, names, followers, protected list) is unchanged."""
    spec = PopulationSpec(accounts=4000, protected=20)
    fast = population.build_population.__wrapped__(spec, seed)
    monkeypatch.setattr(population, "seeded_faker", _plain_faker)
    plain = population.build_population.__wrapped__(spec, seed)
    assert fast == plain
    assert len({a.handle for a in fast.accounts.values()}) == 4000

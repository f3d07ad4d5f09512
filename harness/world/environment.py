"""The Environment: the one place where a run is composed (after Locust's Environment).

It holds the resolved experiment, the population and the operators, and derives every
replication's seed, so drivers, checker and reports all read the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from targets.moderation import SafeguardsConfig, ServiceSpec

from ..experiment.model import Experiment
from .population import Population, build_population
from .roster import OperatorSpec, build_roster


@dataclass(frozen=True)
class Environment:
    experiment: Experiment
    population: Population
    roster: tuple[OperatorSpec, ...]
    target_safeguards: SafeguardsConfig = field(repr=False)

    @classmethod
    def build(cls, experiment: Experiment, secret: str | None = None) -> Environment:
        """`secret` makes the operators' tokens unguessable (a served target needs that);
        by default they derive from the seed."""
        seed = experiment.experiment.seed
        return cls(
            experiment,
            build_population(experiment.population, seed),
            build_roster(experiment, secret),
            experiment.safeguards.target_config(),
        )

    @property
    def seed(self) -> int:
        return self.experiment.experiment.seed

    @property
    def shift(self) -> float:
        return self.experiment.experiment.shift

    @property
    def operator_hours(self) -> float:
        """Hours of operator time in one shift (operators leave at their exit time)."""
        total = 0.0
        for op in self.roster:
            present = (
                self.shift if op.record.exit_at is None else min(self.shift, op.record.exit_at)
            )
            total += present
        return total / 3600.0

    def replication_seed(self, index: int) -> str:
        """Replication `index`'s seed: independent of how replications are spread over
        processes, and the same under every configuration (common random numbers)."""
        return f"{self.seed}:{index}"

    def target_seed(self, index: int) -> str:
        """The seed of the target's own random choices in replication `index`."""
        return f"{self.replication_seed(index)}:target"

    def target_spec(self, seed: int | str) -> ServiceSpec:
        """The moderation service this experiment describes, with its random seed."""
        return ServiceSpec(
            self.population.accounts,
            tuple(spec.record for spec in self.roster),
            self.target_safeguards,
            self.experiment.restore,
            seed,
        )

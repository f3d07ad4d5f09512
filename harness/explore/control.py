"""What a search needs from a target beyond the operator API: a fresh start, and time.

`harness.target.Target` covers what operators and chaos tooling may ask (faults included).
A search also starts every attempt from a fresh target and moves the target's clock,
letting due timers (delayed actions, restores) fire at their due times on the way. In
process that is a new `ModerationService` on a `ManualClock`; a live target needs the same
three things from its admin API.
"""

from __future__ import annotations

from typing import Protocol

from targets.moderation import ManualClock, ModerationService

from ..environment import Environment
from ..errors import BadInput
from ..target import Target


class Control(Protocol):
    def reset(self) -> Target:
        """A fresh target: the experiment's accounts, operators and safeguards, no faults,
        nothing filed, the clock at the start of the shift."""
        ...

    def now(self) -> float:
        """The target's clock, in shift seconds."""
        ...

    def advance(self, seconds: float) -> None:
        """Move the clock on; timers due on the way fire in order, at their due times."""
        ...


class InProcess:
    """The moderation core in this process, on a virtual clock."""

    def __init__(self, env: Environment, seed: str) -> None:
        self.env = env
        self.seed = seed
        self.clock = ManualClock()
        self.service = self._fresh()

    def _fresh(self) -> ModerationService:
        env = self.env
        return ModerationService(
            env.population.accounts,
            [spec.record for spec in env.roster],
            clock=self.clock,
            safeguards=env.target_safeguards,
            restore=env.experiment.restore,
            seed=self.seed,
        )

    def reset(self) -> Target:
        self.clock = ManualClock()
        self.service = self._fresh()
        return self.service

    def now(self) -> float:
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        until = self.clock.now() + seconds
        due = self.service.next_due()
        while due is not None and due <= until:
            self.clock.set(due)
            self.service.run_due()
            due = self.service.next_due()
        self.clock.set(until)


def target_seed(seed: int) -> str:
    """The target's own random stream (second approvers, monitors) for a search seed."""
    return f"{seed}:explore:target"


def connect(env: Environment, seed: int, url: str | None) -> Control:
    """The in-process target, or a live one at `url`."""
    if url is None:
        return InProcess(env, target_seed(seed))
    raise BadInput(f"--target {url}: a live target is not supported by this build")

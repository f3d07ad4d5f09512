"""What a search needs from a target beyond the operator API: a fresh start, and time.

`harness.drivers.target.Target` covers what operators and chaos tooling may ask (faults included).
A search also starts every attempt from a fresh target and moves the target's clock,
letting due timers (delayed actions, restores) fire at their due times on the way. In
process that is a new `ModerationService` on a `ManualClock`; a live target needs the same
three things from its admin API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from targets.moderation import ManualClock, ModerationError

from ..drivers.client import HttpTarget, Indeterminate, admin_token
from ..drivers.target import Target
from ..errors import BadInput
from ..world.environment import Environment


class Control(Protocol):
    tokens: Mapping[str, str]
    """Each operator's credentials on this target, by operator id."""

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
        self.spec = env.target_spec(seed)
        self.tokens = {spec.id: spec.token for spec in env.roster}
        self.reset()

    def reset(self) -> Target:
        self.clock = ManualClock()
        self.service = self.spec.build(self.clock)
        return self.service

    def now(self) -> float:
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        self.service.advance(self.clock.now() + seconds)


def target_seed(seed: int) -> str:
    """The target's own random stream (second approvers, monitors) for a search seed."""
    return f"{seed}:explore:target"


class Live:
    """A served target (`harness serve EXPERIMENT --time-scale 0`) through its admin API:
    reset with the search's target seed, and a manual clock the search moves."""

    def __init__(self, env: Environment, seed: str, url: str, admin_token: str | None) -> None:
        where = f"--target {url}"
        if not admin_token:
            raise BadInput(
                f"{where}: a search needs the target's admin token (--admin-token "
                "or HARNESS_ADMIN_TOKEN)"
            )
        self.client = HttpTarget(url, admin_token)
        self.seed = seed
        population = env.population
        try:
            clock = self.client.clock()
            self.tokens = self.client.credentials()
            served = [self.client.account(a) for a in population.protected_ids]
            # protected accounts are the most-followed: the next one must not be protected
            first_ordinary = population.ordinary_ids[:1]
            beyond = [self.client.account(a) for a in first_ordinary]
        except (Indeterminate, ModerationError, ValueError, KeyError, TypeError) as exc:
            raise BadInput(
                f"{where}: not a moderation target that answers its admin API ({exc})"
            ) from None
        if not clock.get("manual"):
            raise BadInput(
                f"{where}: its clock runs by itself; a search moves the clock, so serve it "
                "with --time-scale 0"
            )
        missing = {spec.id for spec in env.roster} - set(self.tokens)
        # accounts are recognised by follower count, a draw of the harness's own seeded
        # generator; handles are Faker's, whose seeded names may differ between versions
        same = all(
            v.protected and v.followers == population.accounts[v.id].followers for v in served
        ) and not any(v.protected for v in beyond)
        if missing or not same:
            raise BadInput(
                f"{where}: it serves other operators or accounts than the "
                "experiment; serve the same experiment file"
            )
        self._now = 0.0

    def reset(self) -> Target:
        self.client.reset(self.seed)
        self._now = 0.0
        return self.client

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds
        self.client.advance(self._now)


def connect(env: Environment, seed: int, url: str | None, token: str | None) -> Control:
    """The in-process target, or the served one at `url` (admin token: the one given, else
    the environment's)."""
    if url is None:
        return InProcess(env, target_seed(seed))
    return Live(env, target_seed(seed), url, admin_token(token))

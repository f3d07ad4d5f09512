"""The controls between an operator's request and its effect on an account: one module each.

Every module of this package but `base` is one safeguard (see `base` for what it
declares). What the rest of the target and the harness know about safeguards is derived
here from those modules: the ordered list the service consults, the names `caught_by`
counts, the `[safeguards]` settings, the faults the target accepts and the monitors that
write to the audit log. A new safeguard is one new module: the service consults it, in its
place, as soon as its settings switch it on.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping, Set

from pydantic import create_model

from ..config import Settings
from ..model import OperatorRecord
from .base import AccountSafeguard, Dependency, OperatorSafeguard, Request, Safeguard, Verdict


def _discover() -> tuple[type[Safeguard], ...]:
    """The `SAFEGUARD` of every module of this package, in the order they are consulted."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name == "base" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        safeguard = getattr(module, "SAFEGUARD", None)
        if safeguard is None or safeguard.name != info.name:
            raise ImportError(f"{module.__name__} must define SAFEGUARD, named {info.name!r}")
        found.append(safeguard)
    return tuple(sorted(found, key=lambda s: s.consulted))


SAFEGUARDS = _discover()
"""Every safeguard, in the order the service consults them."""
SAFEGUARD_NAMES: tuple[str, ...] = tuple(s.name for s in SAFEGUARDS)
LISTED = tuple(sorted(SAFEGUARDS, key=lambda s: s.listed))
"""Every safeguard, in the order of the experiment file's `[safeguards.*]` tables."""
DEPENDENCIES: tuple[Dependency, ...] = tuple(s.dependency for s in LISTED if s.dependency)
TARGET_FAULTS: tuple[str, ...] = tuple(d.fault for d in DEPENDENCIES)
"""Faults that change what the core's safeguard dependencies answer."""
MONITORS: tuple[str, ...] = tuple(
    s.monitor for s in SAFEGUARDS if issubclass(s, AccountSafeguard) and s.monitor
)
"""The audit log's names for the safeguards' own monitors (system actors)."""

SafeguardsConfig = create_model(
    "SafeguardsConfig",
    __base__=Settings,
    __module__=__name__,
    **{s.name: (s.settings, s.settings()) for s in LISTED},  # type: ignore[call-overload]
)


class Safeguards:
    """Every safeguard of one service, built from its settings, with the faults now active.

    The service consults the operator-level safeguards that are switched on through
    `operator_stop`, in order, then the account-level ones switched on, in order: those
    asked `on_request` (`request_steps`), then those asked about the pending action
    (`pending_steps`).
    """

    def __init__(self, config: SafeguardsConfig) -> None:  # type: ignore[valid-type]
        self.config = config
        self.faults: set[str] = set()
        every = {s.name: s(getattr(config, s.name), self.faults) for s in SAFEGUARDS}
        self._every = every
        on = [sg for sg in every.values() if isinstance(sg, OperatorSafeguard) and sg.active]
        self._stops = tuple(on)
        self._approval_stops = tuple(sg for sg in on if sg.guards_approvals)
        self._watchers = tuple(
            sg for sg in on if type(sg).note_decision is not OperatorSafeguard.note_decision
        )
        accounts = [sg for sg in every.values() if isinstance(sg, AccountSafeguard)]
        self._accounts = tuple(accounts)
        steps = [sg for sg in accounts if sg.active]
        self.request_steps = tuple(sg for sg in steps if sg.on_request)
        self.pending_steps = tuple(sg for sg in steps if not sg.on_request)
        # a narration says what stood in the action's way first, then who may act
        operators = (sg for sg in every.values() if isinstance(sg, OperatorSafeguard))
        self.explainers = (*accounts, *operators)

    def fork(self) -> Safeguards:
        """An independent copy: the same settings, a copy of the faults and bookkeeping.
        Each safeguard is copied as it is rather than built again from the settings (an
        exhaustive search forks for every state it reaches), and every attribute that
        names safeguards names the copies."""
        twin = object.__new__(Safeguards)
        twin.config, twin.faults = self.config, set(self.faults)
        copies = {id(sg): sg.fork(twin.faults) for sg in self._every.values()}
        for attr, value in vars(self).items():
            if isinstance(value, Safeguard):
                value = copies[id(value)]
            elif isinstance(value, tuple):
                value = tuple(copies[id(sg)] for sg in value)
            elif attr == "_every":
                value = {name: copies[id(sg)] for name, sg in value.items()}
            else:
                continue
            setattr(twin, attr, value)
        return twin

    def state_key(self) -> tuple:
        """The faults and every safeguard's bookkeeping, as a hashable value."""
        return frozenset(self.faults), *(sg.state_key() for sg in self._every.values())

    def note_decision(self, op_id: str, now: float, approved: bool) -> None:
        """An operator approved or dismissed a report: tell the safeguards that keep count."""
        for sg in self._watchers:
            sg.note_decision(op_id, now, approved)

    def operator_stop(self, op: OperatorRecord, now: float) -> str | None:
        """The name of the first operator-level safeguard that refuses `op` a destructive
        action at `now`, or None."""
        for sg in self._stops:
            if sg.check(op, now):
                return sg.name
        return None

    def approval_stop(self, op: OperatorRecord, now: float) -> str | None:
        """The name of the first safeguard that refuses `op`'s second approval, or None."""
        for sg in self._approval_stops:
            if sg.check(op, now):
                return sg.name
        return None

    def held_by(self, name: str) -> AccountSafeguard:
        """The account-level safeguard called `name` (one that holds a pending action)."""
        return self._every[name]  # type: ignore[return-value]

    def steps_after(self, name: str) -> tuple[AccountSafeguard, ...]:
        """The pending action's steps consulted after the safeguard called `name`."""
        names = [sg.name for sg in self.pending_steps]
        return self.pending_steps[names.index(name) + 1 :]

    def vet_second_approver(
        self, op: OperatorRecord, named: str, operators: Mapping[str, OperatorRecord], now: float
    ) -> None:
        """Refuse a request by `op` that names `named` as its second approver when a
        safeguard (switched on or not) does not accept that approver."""
        for sg in self._accounts:
            sg.vet_second_approver(op, named, operators, now)

    def why_passed(
        self, op: OperatorRecord, at: float, faults: Set[str], second_approval: bool
    ) -> list[str]:
        """Why each safeguard that could have stopped an action by `op` did not."""
        reasons = (sg.why_passed(op, at, faults, second_approval) for sg in self.explainers)
        return [r for r in reasons if r is not None]


__all__ = [
    "DEPENDENCIES",
    "LISTED",
    "MONITORS",
    "SAFEGUARDS",
    "SAFEGUARD_NAMES",
    "TARGET_FAULTS",
    "AccountSafeguard",
    "Dependency",
    "OperatorSafeguard",
    "Request",
    "Safeguard",
    "Safeguards",
    "SafeguardsConfig",
    "Verdict",
]

"""One state of an exhaustive search: a played run that can be copied, continued and hashed.

The sampling search plays every sequence from a fresh target. An exhaustive one reaches
each state once and continues it with every move, so a state keeps its own copy of the
target (`ModerationService.fork`) and of the player's bookkeeping, and a key that is equal
for two states exactly when every continuation plays alike from both: the target's state,
its clock, the mistakes made, what the audit log said so far, each operator's latest
request and report, the last request (a retry sends it again) and which operators and
accounts the path has involved (see `Symmetry`).

Symmetry: operators of one `[[operators]]` entry with the same role and exit time behave
alike (their personas give the same kind of move), and the protected accounts the search
aims at are alike to every safeguard (all are protected, so all are in the two-person
rule's and the delayed action's scope). Of the operators and accounts a path has not
involved yet, only the first of each kind makes or receives a move: any other would give
a state that differs only by names.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby

from targets.moderation import DOWN_STATUSES, ManualClock, ModerationService

from ..drivers.target import Target
from .findings import Seen
from .play import Player, Step, _Run
from .space import SearchSpace
from .steps import Fault, Move, Restore, Retry, Wait


class Forked:
    """The control of one copied target: its own clock, moved by the search."""

    def __init__(self, service: ModerationService, clock: ManualClock, tokens: dict) -> None:
        self.service, self.clock, self.tokens = service, clock, tokens

    def reset(self) -> Target:
        raise NotImplementedError("a copied target continues a state; it is never reset")

    def now(self) -> float:
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        self.service.advance(self.clock.now() + seconds)


@dataclass(frozen=True)
class Symmetry:
    """Which operators and accounts are interchangeable, or none (`reduce=False`)."""

    kinds: tuple[tuple[str, ...], ...]  # operators that behave alike, in roster order
    accounts: tuple[int, ...]
    reduce: bool = True

    @classmethod
    def of(cls, space: SearchSpace, reduce: bool = True) -> Symmetry:
        def kind(spec) -> tuple:
            return (spec.entry_index, spec.record.role, spec.record.exit_at)

        kinds = tuple(tuple(s.id for s in g) for _, g in groupby(space.env.roster, kind))
        return cls(kinds, space.accounts, reduce)

    def cast(self, touched: frozenset[str]) -> tuple[str, ...]:
        """Operators worth moving: those involved already, and the first of each kind."""
        if not self.reduce:
            return tuple(op for kind in self.kinds for op in kind)
        cast = []
        for kind in self.kinds:
            fresh = [op for op in kind if op not in touched]
            cast += [op for op in kind if op in touched or (fresh and op == fresh[0])]
        return tuple(cast)

    def aims(self, touched: frozenset[int]) -> frozenset[int]:
        """Accounts worth aiming at: those involved already, and the first other one."""
        if not self.reduce:
            return frozenset(self.accounts)
        fresh = [a for a in self.accounts if a not in touched]
        return touched | frozenset(fresh[:1])

    def describe(self) -> list[str]:
        if not self.reduce:
            return ["none: every operator and every searched account is tried by name"]
        return [
            "operators of one [[operators]] entry with the same role and exit time are "
            "interchangeable until one of them is involved: the first uninvolved one "
            "stands for the rest (they differ only in their drawn skill)",
            "the searched protected accounts are interchangeable (every safeguard treats "
            "protected accounts alike)",
            "waits end at the next instant anything can change: a landmark (hazard window, "
            "leaver lockout, exit), a timer of the target (delayed action, restore) or the "
            "end of the shift",
            "the target's own random draws (system-chosen second approvers, the delay "
            "monitor) follow its seed, as in sampling and replay",
        ]


@dataclass
class State:
    run: _Run
    depth: int  # moves taken to reach it
    parent: State | None
    move: Move | None  # the move from the parent
    operators: frozenset[str]  # operators the path involved
    accounts: frozenset[int]  # searched accounts the path aimed at

    @classmethod
    def root(cls, player: Player) -> State:
        clock = ManualClock()
        control = player.control
        service = control.reset().fork(clock)  # type: ignore[attr-defined]
        run = _Run(player, service)
        run.control = Forked(service, clock, dict(control.tokens))
        return cls(run, 0, None, None, frozenset(), frozenset())

    def moves(self) -> list[Move]:
        """The path from the fresh target to this state."""
        path, state = [], self
        while state.move is not None:
            path.append(state.move)
            state = state.parent
        return path[::-1]

    def continuations(self, moves: list[Move], prune: bool = True) -> Iterator[tuple[State, Step]]:
        """This state continued by each of `moves` that does something (is taken, or finds
        a way past), and what the move did. A move that is not taken changes nothing (the
        player's rule), so one copy serves every move until one is taken. With `prune`, an
        idle move (see `idle`) counts as not taken: the copy only forgets it."""
        run = _fork(self.run)
        for move in moves:
            step = run.step(self.depth + 1, move)
            if prune and idle(step):
                run.last = self.run.last
            elif step.taken or step.findings:
                yield self._child(run, move, step), step
                run = _fork(self.run)

    def _child(self, run: _Run, move: Move, step: Step) -> State:
        operators = self.operators | {
            name for name in (step.actor, getattr(move, "second", None), run.asked) if name
        }
        account = getattr(move, "account", None)
        accounts = self.accounts if account is None else self.accounts | {account}
        return State(run, self.depth + 1, self, move, operators, accounts)

    def key(self) -> tuple:
        run = self.run
        last = run.last
        seen = run.seen
        return (
            run.control.now(),
            run.mistakes,
            tuple(sorted(seen.requesters.items())),
            tuple(sorted(seen.drawn.items())),
            frozenset(seen.applied),
            tuple(sorted(run.own.items())),
            tuple(sorted(run.decided.items())),
            run.asked,
            run.latest,
            None if last is None else (last.method, last.caller, last.args),
            self.operators,
            self.accounts,
            run.target.state_key(),
        )


def idle(step: Step) -> bool:
    """Whether a step was only an empty claim: claims that answered None without an error
    (the target guarantees such a call changed nothing and is not remembered under its
    key) and found nothing. Its state is its parent's but for which request a retry would
    send, and that retry would only ask again with the same empty answer (only a request
    fills a queue, and a request replaces the one a retry sends): every way past through
    it is as short through its parent. Other calls answering None are not assumed alike:
    retried later, they might do something."""
    return (
        bool(step.calls)
        and not step.findings
        and all(c.method == "claim" and c.answer is None and c.error is None for c in step.calls)
    )


def _fork(run: _Run) -> _Run:
    """An independent copy of a run: target, clock and the player's bookkeeping."""
    clock = ManualClock(run.control.now())
    service = run.target.fork(clock)
    twin = copy.copy(run)
    twin.target = service
    twin.control = Forked(service, clock, run.control.tokens)
    seen = run.seen
    twin.seen = Seen(dict(seen.requesters), dict(seen.drawn), set(seen.applied))
    twin.own, twin.decided = dict(run.own), dict(run.decided)
    following = next(run.keys)
    run.keys, twin.keys = itertools.count(following), itertools.count(following)
    twin.current = None
    return twin


def waits(space: SearchSpace, state: State) -> Iterator[Wait]:
    """Waits to each later instant at which anything can change, in order."""
    now = math.ceil(state.run.control.now() / 60)
    due = state.run.target.next_due()
    instants = set(space.landmarks) | {space.shift_minutes}
    if due is not None:
        instants.add(math.ceil(due / 60))
    for minute in sorted(m for m in instants if now < m <= space.shift_minutes):
        yield Wait(minutes=minute - now)


def successors(space: SearchSpace, symmetry: Symmetry, state: State, cache: dict) -> list[Move]:
    """Every move worth trying from `state`, simplest first: the move model's moves by the
    operators and accounts symmetry leaves, a retry, then the waits. A restore of an
    account that is not down cannot change what matters and is left out (a cancel or an
    approval out of turn with nothing pending is not taken by the player)."""
    cast = symmetry.cast(state.operators)
    if cast not in cache:
        cache[cast] = [m for kind in space.concrete(cast, space.faults).values() for m in kind]
    aims = symmetry.aims(state.accounts)
    after = _fault_rank(space, state) if symmetry.reduce else -1
    target = state.run.target
    down = {a for a in aims if target.account_status(a) in DOWN_STATUSES}
    moves = [m for m in cache[cast] if _aimed(m, aims, down) and _fault_after(m, space, after)]
    return [*moves, Retry(), *waits(space, state)]


def _fault_rank(space: SearchSpace, state: State) -> int:
    """When `state` was reached by a fault starting or stopping at an instant when no
    timer of the target was due, the fault's place in `space.faults`; otherwise -1.

    Faults that start or stop one after the other at such an instant commute (each only
    changes the set of active faults), and stopping the fault that just started (or the
    reverse) comes back to the state before: every set of faults reachable by such a run
    of moves is reached, in as few moves, by toggling each fault once in `space.faults`
    order. So after a fault move only later faults are toggled."""
    move, parent = state.move, state.parent
    if not isinstance(move, Fault) or parent is None:
        return -1
    due = parent.run.target.next_due()
    if due is not None and due <= parent.run.control.now():
        return -1
    return space.faults.index(move.fault)


def _fault_after(move: Move, space: SearchSpace, after: int) -> bool:
    return not isinstance(move, Fault) or space.faults.index(move.fault) > after


def _aimed(move: Move, aims: frozenset[int], down: set[int]) -> bool:
    account = getattr(move, "account", None)
    if isinstance(move, Restore):
        return account in down
    return account is None or account in aims

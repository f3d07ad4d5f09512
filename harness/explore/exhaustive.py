"""The exhaustive search: every sequence of moves up to a depth, breadth first.

Explicit-state model checking (as TLA+'s TLC does it): the states one move from the fresh
target, then two moves, and so on, each state expanded once. The first way past found is
a shortest one (every shorter sequence was tried before it), and a search that runs out of
states or reaches the depth bound without one is a bounded proof: no sequence of at most
`depth` moves with at most `mistakes` mistakes gets past, under the symmetry assumptions
the output lists. Budgets in time or states stop it early; it then says which depth it
fully covered.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass

from ..interrupts import stop_requests
from .play import Attempt, Player
from .state import State, Symmetry, successors


@dataclass
class Enumerated:
    """How far the search went, and the shortest way past if it found one."""

    states: int = 1  # distinct states reached, the fresh target included
    moves_tried: int = 0  # moves played from expanded states
    covered: int = 0  # every sequence of this many moves or fewer was tried
    seconds: float = 0.0
    attempt: Attempt | None = None  # the shortest way past, replayed from a fresh target
    stopped_by: str | None = None  # "time", "states" or "interrupted"
    exhausted: bool = False  # no new state beyond `covered`: longer bounds change nothing
    ways: int = 0  # states past the safeguards reached (with `first` off, all of them)


class Budget:
    """When to stop before the bound: wall time, distinct states, or Ctrl-C."""

    def __init__(self, seconds: float | None, states: int | None, stopping) -> None:
        self.deadline = None if seconds is None else time.perf_counter() + seconds
        self.states = states
        self.stopping = stopping

    def spent(self, states: int) -> str | None:
        if self.stopping.is_set():
            return "interrupted"
        if self.states is not None and states >= self.states:
            return "states"
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            return "time"
        return None


def enumerate_moves(
    player: Player,
    *,
    seconds: float | None = None,
    states: int | None = None,
    reduce: bool = True,
    first: bool = True,
) -> Enumerated:
    """Breadth first to `player.space.depth` moves, or until a way past (unless `first` is
    off: then ways past are counted and not continued, and the search goes on to the
    bound, as a benchmark of how deep it gets) or a budget."""
    started = time.perf_counter()
    result = Enumerated()
    with stop_requests() as stopping, no_cycle_collection():
        budget = Budget(seconds, states, stopping)
        _levels(player, Symmetry.of(player.space, reduce), budget, result, first)
    result.seconds = time.perf_counter() - started
    return result


@contextlib.contextmanager
def no_cycle_collection() -> Iterator[None]:
    """States form no reference cycles, and the collector's full passes over a large
    frontier cost seconds each: reference counting frees them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _levels(
    player: Player, symmetry: Symmetry, budget: Budget, result: Enumerated, first: bool
) -> None:
    space = player.space
    root = State.root(player)
    seen = {root.key()}
    frontier, cache = [root], {}
    for depth in range(1, space.depth + 1):
        following: list[State] = []
        for state in frontier:
            result.stopped_by = budget.spent(len(seen))
            if result.stopped_by:
                return
            moves = successors(space, symmetry, state, cache)
            result.moves_tried += len(moves)
            for child, step in state.continuations(moves, symmetry.reduce):
                if step.findings:
                    result.ways += 1
                    if result.attempt is None:
                        result.attempt = replayed(player, child)
                    if first:
                        return
                    continue
                key = child.key()
                if key not in seen:
                    seen.add(key)
                    following.append(child)
            result.states = len(seen)
        result.covered = depth
        frontier = following
        if not frontier:
            result.exhausted = True
            return


def replayed(player: Player, state: State) -> Attempt:
    """The path to `state` played from a fresh target, as a replay will play it."""
    attempt = player.play(state.moves())
    if attempt.finding is None:
        raise RuntimeError("a way past found by the exhaustive search did not replay")
    return attempt

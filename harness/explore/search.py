"""The search: Hypothesis generates sequences of moves, plays them, and shrinks any that
finds a way past to a minimal one.

`hypothesis.find` runs in rounds of at most `ROUND` sequences, each with its own seed
derived from the search seed, so a budget in sequences is reproducible bit for bit and a
budget in time is checked between rounds. Settings are explicit: no example database (a
search must not depend on what an earlier one saw), no deadline (the target decides how
long a move takes), the generate and shrink phases only; `find` suppresses the health
checks, which guard test suites, not searches.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

from hypothesis import Phase, Verbosity, find, settings
from hypothesis.errors import NoSuchExample

from ..interrupts import stop_requests
from .play import Attempt, Player
from .steps import Approve, Fault, Move, SecondApprove, Wait

ROUND = 250  # sequences per Hypothesis run


@dataclass
class Searched:
    """How much was searched, and what was found."""

    sequences: int = 0  # sequences generated and played before the first finding
    steps: int = 0  # moves taken in them
    seconds: float = 0.0
    attempt: Attempt | None = None  # the minimal sequence found, and what it did
    first_length: int = 0  # moves taken in the first sequence that found a way past
    shrink_plays: int = 0  # sequences Hypothesis played while shrinking it
    interrupted: bool = False


def search(
    player: Player,
    *,
    seed: int,
    budget: int | None = None,
    seconds: float | None = None,
    stopping: threading.Event | None = None,
) -> Searched:
    """Search until a finding, or until `budget` sequences have been played, or else until
    `seconds` of wall time have passed (checked between rounds, after at least one).
    `stopping` is a caller's `stop_requests` flag, for a caller that must not miss a
    signal sent before the search starts; without one the search sets its own."""
    if (budget is None) == (seconds is None):
        raise ValueError("give either a budget in sequences or one in seconds")
    result = Searched()
    started = time.perf_counter()

    def condition(moves: list[Move]) -> bool:
        if stopping.is_set():
            raise KeyboardInterrupt  # here, between sequences, where Hypothesis passes it on
        attempt = player.play(moves)
        if result.first_length:  # shrinking a finding
            result.shrink_plays += 1
        else:
            result.sequences += 1
            result.steps += len(attempt.taken)
            if attempt.finding is not None:
                result.first_length = len(attempt.taken)
        return attempt.finding is not None

    with ExitStack() as stack:
        if stopping is None:
            stopping = stack.enter_context(stop_requests())  # set by Ctrl-C or SIGTERM
        try:
            strategy = player.space.sequences()
            round_ = 0
            while result.attempt is None:
                if stopping.is_set():
                    raise KeyboardInterrupt
                size = _round_size(budget, seconds, result.sequences, round_, started)
                if size <= 0:
                    break
                try:
                    found = find(
                        strategy, condition, settings=_quiet(size), random=_round(seed, round_)
                    )
                except NoSuchExample:
                    round_ += 1
                    continue
                result.attempt = _minimal(player, found)
        except KeyboardInterrupt:
            result.interrupted = True
    result.seconds = time.perf_counter() - started
    return result


def _round_size(
    budget: int | None, seconds: float | None, played: int, round_: int, started: float
) -> int:
    """How many sequences the next round plays: what is left of the budget, or a whole
    round while time is left (always at least one round); 0 when the search is done."""
    if budget is not None:
        return min(ROUND, budget - played)
    assert seconds is not None
    if round_ and time.perf_counter() - started >= seconds:
        return 0
    return ROUND


def _quiet(size: int) -> settings:
    """Hypothesis's settings for one round of `size` sequences: no database, no deadline,
    generate and shrink, nothing printed."""
    return settings(
        max_examples=size,
        database=None,
        deadline=None,
        phases=(Phase.generate, Phase.shrink),
        verbosity=Verbosity.quiet,
    )


def _round(seed: int, index: int) -> random.Random:
    return random.Random(f"{seed}:explore:{index}")


def _minimal(player: Player, moves: list[Move]) -> Attempt:
    """The shrunk sequence, tidied by whole moves where Hypothesis edits its own choices:
    moves that were not taken are dropped (they had no effect), then shorter neighbours
    are tried until none finds a way past: consecutive waits merged, one move dropped, or
    one move made by another operator (or with another fault) and another dropped."""
    attempt = player.play(moves)
    if len(attempt.taken) < len(attempt.moves):  # the target is deterministic: replay only
        pruned = player.play(attempt.taken)  # what differs
        if pruned.finding is not None:
            attempt = pruned
    while True:
        for option in _shorter(attempt.moves, player.space.operators, player.space.faults):
            trial = player.play(option)
            if trial.finding is not None and len(trial.steps) < len(attempt.steps):
                attempt = trial
                break
        else:
            return attempt


def _shorter(
    moves: list[Move], operators: tuple[str, ...], faults: tuple[str, ...]
) -> Iterator[list[Move]]:
    merged = _merge_waits(moves)
    if len(merged) < len(moves):
        yield merged
    for i in range(len(moves)):
        yield moves[:i] + moves[i + 1 :]
    for i, move in enumerate(moves):
        for variant in _variants(move, operators, faults):
            changed = [*moves[:i], variant, *moves[i + 1 :]]
            for j in range(len(moves)):
                if j != i:
                    yield changed[:j] + changed[j + 1 :]


def _variants(move: Move, operators: tuple[str, ...], faults: tuple[str, ...]) -> list[Move]:
    if isinstance(move, Fault):
        return [move.model_copy(update={"fault": f}) for f in faults if f != move.fault]
    if isinstance(move, Approve | SecondApprove) and move.actor and not move.attacker:
        return [move.model_copy(update={"actor": o}) for o in operators if o != move.actor]
    return []


def _merge_waits(moves: list[Move]) -> list[Move]:
    merged: list[Move] = []
    for move in moves:
        if isinstance(move, Wait) and merged and isinstance(merged[-1], Wait):
            merged[-1] = Wait(minutes=merged[-1].minutes + move.minutes)
        else:
            merged.append(move)
    return merged

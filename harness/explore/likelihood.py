"""The most likely ways past: uniform-cost search over minus log probability.

Each move carries the probability the experiment's personas give it (`Intent.p`): a
diligent reviewer's mistake on a clear case, a random approver's approval, a second
approver's error under the THERP dependence level. The first move made with a compromised
operator's stolen credentials also carries the entry's phishing probability, once per
operator. Faults, waits and retries are the world's doing and cost nothing: the search
assumes the worst timing of every fault, as the exhaustive search does.

Calls no persona's work asks for (a cancel, a restore, an approval out of turn; see
`behaviour`) carry the chance of the intent behind them: one for an attacker (times the
phishing probability, as above), a malicious insider's own approve probability at that
moment (one in its hazard window: the assumption is that whoever approves wrongly on
purpose would cancel, restore or approve out of turn as readily), one for a colluder
approving a fellow colluder's request. No published rate exists for these; they are
upper bounds, so a way past through them is never ranked below its true place.

States come out of the queue in order of decreasing probability, so the ways past come out
most probable first. Ways past that differ only in free moves (a fault toggled earlier, a
wait) or in which interchangeable operator made a move are one way; only the most probable
(and, among equals, the shortest) is kept, and only if it needs every step that costs
probability (a way that can drop one is a likelier way with extra steps).
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from dataclasses import dataclass, field

from ..interrupts import stop_requests
from .exhaustive import Budget, no_cycle_collection, replayed
from .narrate import DECISIVE
from .play import Attempt, Player, Step
from .state import State, Symmetry, successors
from .steps import DirectAction, Move

TOP = 3  # ways past printed by default


@dataclass
class Way:
    """One way past: what it did, and its probability per occurrence."""

    attempt: Attempt
    probability: float


@dataclass
class Ranked:
    ways: list[Way] = field(default_factory=list)  # most probable first
    states: int = 1
    seconds: float = 0.0
    stopped_by: str | None = None  # "time", "states" or "interrupted"
    exhausted: bool = False  # every state within the bounds was reached


@dataclass(frozen=True)
class _Entry:
    state: State
    phished: frozenset[str]  # compromised operators whose credentials were used
    finding: bool


def most_likely(
    player: Player,
    *,
    top: int = TOP,
    seconds: float | None = None,
    states: int | None = None,
) -> Ranked:
    """The `top` most probable ways past within the space's depth and mistakes."""
    started = time.perf_counter()
    result = Ranked()
    with stop_requests() as stopping, no_cycle_collection():
        _search(player, top, Budget(seconds, states, stopping), result)
    result.seconds = time.perf_counter() - started
    return result


def _search(player: Player, top: int, budget: Budget, result: Ranked) -> None:
    space, phish = player.space, _phishing(player)
    symmetry = Symmetry.of(space)
    kinds = {op: i for i, kind in enumerate(symmetry.kinds) for op in kind}
    order = itertools.count()
    root = State.root(player)
    queue = [(0.0, 0, next(order), _Entry(root, frozenset(), False))]
    done: dict[tuple, int] = {}  # state -> fewest moves it was expanded at
    signatures: set = set()
    cache: dict = {}
    while queue and len(result.ways) < top:
        cost, _, _, entry = heapq.heappop(queue)
        if entry.finding:
            _keep(player, entry.state, cost, kinds, signatures, result)
            continue
        key = (entry.state.key(), entry.phished)
        if done.get(key, math.inf) <= entry.state.depth:
            continue  # reached before as likely or likelier, in as few moves or fewer
        done[key] = entry.state.depth
        result.states = len(done)
        result.stopped_by = budget.spent(len(done))
        if result.stopped_by:
            return
        if entry.state.depth >= space.depth:
            continue
        moves = successors(space, symmetry, entry.state, cache)
        for child, step in entry.state.continuations(moves):
            p, phished = _chance(step, entry.phished, phish)
            if p <= 0:
                continue
            item = _Entry(child, phished, bool(step.findings))
            heapq.heappush(queue, (cost - math.log(p), child.depth, next(order), item))
    result.exhausted = not queue


def probability(player: Player, attempt: Attempt) -> float:
    """The probability of a way past per occurrence: the product of its steps' chances."""
    phish, total = _phishing(player), 1.0
    phished: frozenset[str] = frozenset()
    for step in attempt.steps:
        if step.taken:
            p, phished = _chance(step, phished, phish)
            total *= p
    return total


def _phishing(player: Player) -> dict[str, float]:
    """Each compromised operator's chance of having its credentials phished, as its
    experiment entry gives it."""
    return {
        spec.id: getattr(spec.entry, "phish_probability", 1.0)
        for spec in player.space.env.roster
        if spec.id in player.space.compromised
    }


def _chance(
    step: Step, phished: frozenset[str], phish: dict[str, float]
) -> tuple[float, frozenset[str]]:
    """The probability of a step, and who has been phished after it."""
    p = step.intent.p if _requested(step) else 1.0
    if _by_attacker(step.move) and step.actor not in phished:
        p *= phish.get(step.actor, 1.0)
        phished = phished | {step.actor}
    return p, phished


def _requested(step: Step) -> bool:
    """Whether a step's operator made its request: only then does its chance count (a
    mistake is counted then too)."""
    return step.intent is not None and any(c.method in DECISIVE for c in step.calls)


def _by_attacker(move: Move) -> bool:
    return isinstance(move, DirectAction) or getattr(move, "attacker", False)


def _keep(
    player: Player, state: State, cost: float, kinds: dict, signatures: set, result: Ranked
) -> None:
    """Keep a way past unless one like it (same finding, same moves of probability below
    one by the same kinds of operator) was kept already."""
    attempt = replayed(player, state)
    signature = (
        attempt.finding.kind,
        tuple(
            sorted(
                (kinds.get(s.actor, -1), s.move.step, s.intent.why)
                for s in attempt.steps
                if s.taken and _requested(s) and s.intent.p < 1
            )
        ),
    )
    if signature not in signatures and _minimal(player, attempt):
        signatures.add(signature)
        result.ways.append(Way(attempt, math.exp(-cost)))


def _minimal(player: Player, attempt: Attempt) -> bool:
    """Whether every step that costs probability is needed: a way past with a step it can
    do without is a likelier way with extra steps, already kept or about to be."""
    moves = attempt.moves
    for index, step in enumerate(attempt.steps):
        costly = step.taken and _requested(step) and step.intent.p < 1
        if costly and player.play(moves[:index] + moves[index + 1 :]).finding is not None:
            return False
    return True

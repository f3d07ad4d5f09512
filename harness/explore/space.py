"""The search space of an experiment: whose moves, on which accounts, under which faults.

It comes from the experiment itself: its operators (roster ids r1.., s1..; compromised
ones also lend their credentials to an attacker), its most-followed protected accounts,
the safeguard settings (whether requesters name their second approver) and the shift
(how long waits may run). By default every fault the target supports may start and stop
at any point: an experiment's `[[faults]]` schedule is one scenario for sampling, while a
search asks whether any timing of any dependency failure opens a way past.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from hypothesis import strategies as st

from targets.moderation import TARGET_FAULTS, format_duration

from ..errors import BadInput
from ..world.environment import Environment
from ..world.roster import OperatorSpec
from .steps import (
    DEPTH,
    Approve,
    Cancel,
    DirectAction,
    Fault,
    Move,
    Restore,
    Retry,
    SecondApprove,
    Wait,
)

ACCOUNTS_SEARCHED = 3  # the most-followed protected accounts; more only relabels the same moves
CAST = 3  # most operators one sequence involves


@dataclass(frozen=True)
class SearchSpace:
    env: Environment
    accounts: tuple[int, ...]  # protected accounts the moves aim at
    faults: tuple[str, ...]  # fault kinds that may start and stop
    mistakes: int  # honest mistakes allowed in one trace
    depth: int  # longest sequence of moves

    @classmethod
    def build(
        cls,
        env: Environment,
        faults: tuple[str, ...] = TARGET_FAULTS,
        mistakes: int = 1,
        depth: int = DEPTH,
    ) -> SearchSpace:
        accounts = env.population.protected_ids[:ACCOUNTS_SEARCHED]
        if not accounts:
            raise BadInput(
                "population.protected = 0: there is no protected account to search for "
                "a way to (set it to 1 or more)"
            )
        return cls(env, accounts, faults, mistakes, depth)

    # derived once: asked for on every move generated and checked

    @functools.cached_property
    def operators(self) -> tuple[str, ...]:
        return tuple(spec.id for spec in self.env.roster)

    @functools.cached_property
    def compromised(self) -> tuple[str, ...]:
        return tuple(spec.id for spec in self.env.roster if spec.entry.attacked())

    @functools.cached_property
    def insiders(self) -> tuple[str, ...]:
        """Malicious insiders: they make, without stolen credentials, the calls no other
        persona's work asks for (cancel, restore, approval out of turn)."""
        return tuple(spec.id for spec in self.env.roster if spec.entry.acts_after_exit())

    @functools.cached_property
    def colluders(self) -> tuple[str, ...]:
        return tuple(spec.id for spec in self.env.roster if spec.collude)

    @functools.cached_property
    def protected(self) -> frozenset[int]:
        """The accounts the moves aim at, for membership tests."""
        return frozenset(self.accounts)

    @property
    def requester_names_second(self) -> bool:
        return self.env.experiment.safeguards.two_person_rule.chooser == "requester"

    @property
    def shift_minutes(self) -> int:
        return max(1, int(self.env.shift // 60))

    @property
    def landmarks(self) -> tuple[int, ...]:
        """Minutes into the shift when what operators may do changes: a leaver's hazard
        window opens, its leaver lockout starts, it leaves."""
        lockout = self.env.experiment.safeguards.leaver_lockout
        moments = set()
        for spec in self.env.roster:
            exit_at = spec.record.exit_at
            if exit_at is None:
                continue
            moments.add(exit_at)
            moments.update(spec.entry.landmarks(exit_at))
            if lockout.enabled:
                moments.add(lockout.locks_from(exit_at))
        minutes = {math.ceil(m / 60) for m in moments}  # the first whole minute at or after
        return tuple(sorted(m for m in minutes if 1 <= m <= self.shift_minutes))

    def handle(self, account: int) -> str:
        return self.env.population.handle(account)

    def moves(
        self, cast: tuple[str, ...], faults: tuple[str, ...]
    ) -> dict[str, st.SearchStrategy[Move]]:
        """The kinds of move open to `cast` under `faults`, simplest first (shrinking
        prefers earlier kinds, and earlier moves within a kind). Each kind but waiting is
        a short list of concrete moves, so a move costs Hypothesis one or two choices."""
        kinds: dict[str, st.SearchStrategy[Move]] = {
            name: st.sampled_from(options) for name, options in self.concrete(cast, faults).items()
        }
        shift_minutes = self.shift_minutes
        waits = st.integers(1, min(60, shift_minutes)) | st.integers(1, shift_minutes)
        kinds["wait"] = st.builds(Wait, minutes=waits)
        kinds["retry"] = st.just(Retry())
        return kinds

    def concrete(self, cast: tuple[str, ...], faults: tuple[str, ...]) -> dict[str, list[Move]]:
        """Every move but waiting and retrying open to `cast` under `faults`, by kind: the
        same moves for the sampling search and the exhaustive one."""
        accounts = (*self.accounts, None)  # None: the next report in the actor's queue
        names: tuple[str | None, ...] = (None,)  # a colluder names a fellow colluder
        stolen_names: tuple[str | None, ...] = (None,)  # an attacker names anyone
        if self.requester_names_second:
            names += tuple(spec.id for spec in self.env.roster if spec.collude)
            stolen_names += self.operators
        stolen = [op for op in cast if op in self.compromised]
        concrete: dict[str, list[Move]] = {
            "approve": [
                Approve(actor=a, account=acc, second=n)
                for a in cast
                for acc in accounts
                for n in names
            ],
            "second_approve": [SecondApprove(), *(SecondApprove(actor=a) for a in cast)],
            "approve_again": [Approve(actor=a, again=True, second=n) for a in cast for n in names],
        }
        if stolen:
            concrete["direct_action"] = [
                DirectAction(actor=a, account=acc, second=n)
                for a in stolen
                for acc in self.accounts
                for n in stolen_names
            ]
            concrete["attacker_approve"] = [
                Approve(actor=a, account=acc, second=n, attacker=True)
                for a in stolen
                for acc in accounts
                for n in stolen_names
            ]
            concrete["attacker_approve_again"] = [
                Approve(actor=a, again=True, second=n, attacker=True)
                for a in stolen
                for n in stolen_names
            ]
            concrete["attacker_second_approve"] = [
                SecondApprove(actor=a, own=own, attacker=True)
                for a in stolen
                for own in (False, True)
            ]
        concrete.update(self._overrides(cast, stolen))
        if faults:
            concrete["fault"] = [
                Fault(fault=f, active=active) for active in (True, False) for f in faults
            ]
        return concrete

    def _overrides(self, cast: tuple[str, ...], stolen: list[str]) -> dict[str, list[Move]]:
        """The calls no persona's work asks for, by those who may make them (see
        `behaviour`): cancelling the latest pending action, restoring an account, and
        approving out of turn; by malicious insiders (and colluders, out of turn) on their
        own account and by attackers with stolen credentials. Kinds nobody in `cast` may
        make are left out."""
        insiders = [op for op in cast if op in self.insiders]
        approvers = [op for op in cast if op in self.insiders or op in self.colluders]
        kinds: dict[str, list[Move]] = {
            "cancel": [Cancel(actor=a) for a in insiders],
            "restore": [Restore(actor=a, account=acc) for a in insiders for acc in self.accounts],
            "out_of_turn": [SecondApprove(actor=a, unasked=True) for a in approvers],
            "attacker_cancel": [Cancel(actor=a, attacker=True) for a in stolen],
            "attacker_restore": [
                Restore(actor=a, account=acc, attacker=True)
                for a in stolen
                for acc in self.accounts
            ],
            "attacker_out_of_turn": [
                SecondApprove(actor=a, unasked=True, attacker=True) for a in stolen
            ],
        }
        return {kind: moves for kind, moves in kinds.items() if moves}

    def sequences(self) -> st.SearchStrategy[list[Move]]:
        """Sequences of moves. Each sequence first picks its cast (up to `CAST` operators),
        the faults and the kinds of move it may use, then moves among those only: swarm
        testing (Groce et al. 2012). A way past usually needs a few particular people,
        one or two faults and two or three kinds of move, and a sequence where everyone
        does everything spends its one mistake on the wrong person. A sequence may also
        open with some of its faults on and part of the shift gone, often up to a landmark
        (a leaver's last hour), written as ordinary moves."""
        # each [[operators]] entry is as likely to be in the cast as any other, however many
        # people it has: nine diligent reviewers are one kind of person, the leaver another
        groups = [
            tuple(spec.id for spec in specs)
            for _, specs in groupby(self.env.roster, lambda spec: spec.entry_index)
        ]
        group = st.sampled_from(range(len(groups)))
        members = [st.sampled_from(g) for g in groups]
        size = st.integers(1, CAST)
        fault_sets = st.lists(st.sampled_from(self.faults), min_size=1, unique=True)
        start = st.integers(1, self.shift_minutes)
        if self.landmarks:
            start = st.sampled_from(self.landmarks) | start
        late_start = st.builds(Wait, minutes=start)
        built: dict[tuple, Any] = {}  # strategies are built once per cast, then reused

        def once(key: tuple, make: Callable[[], Any]) -> Any:
            if key not in built:
                built[key] = make()
            return built[key]

        @st.composite
        def sequence(draw: st.DrawFn) -> list[Move]:
            cast = tuple(dict.fromkeys(draw(members[draw(group)]) for _ in range(draw(size))))
            faults = tuple(draw(fault_sets)) if self.faults else ()
            kinds = once(("moves", cast, faults), lambda: self.moves(cast, faults))
            chosen = tuple(
                draw(
                    once(
                        ("kinds", cast, faults),
                        lambda: st.lists(st.sampled_from(list(kinds)), min_size=1, unique=True),
                    )
                )
            )
            moves = once(
                ("sequence", cast, faults, chosen),
                lambda: st.lists(
                    st.one_of([kinds[name] for name in kinds if name in chosen]),
                    min_size=1,
                    max_size=self.depth,
                ),
            )
            opening: list[Move] = [
                Fault(fault=f, active=True) for f in faults if draw(st.booleans())
            ]
            if draw(st.booleans()):
                opening.append(draw(late_start))
            return opening + draw(moves)

        return sequence()

    def check(self, moves: list[Move], source: str) -> None:
        """That every move names people and accounts of this experiment, and gives
        attacker moves only to compromised operators (a trace may be edited by hand, or
        replayed with --set overrides that change the roster)."""
        operators, accounts = set(self.operators), self.env.population.accounts
        for index, move in enumerate(moves):
            where = f"{source}: steps.{index}"
            for key in ("actor", "second"):
                name = getattr(move, key, None)
                if name is not None and name not in operators:
                    raise BadInput(
                        f"{where}.{key} = {name!r}: no such operator in the experiment "
                        f"({', '.join(self.operators)})"
                    )
            account = getattr(move, "account", None)
            if account is not None and account not in accounts:
                raise BadInput(f"{where}.account = {account}: no such account in the population")
            attacker = isinstance(move, DirectAction) or getattr(move, "attacker", False)
            if attacker and move.actor not in self.compromised:
                raise BadInput(
                    f"{where}: an attacker move needs a compromised operator's credentials; "
                    f"{move.actor} is not compromised"
                )
            if isinstance(move, SecondApprove) and move.own and not move.attacker:
                raise BadInput(f"{where}.own: only an attacker tries to approve its own request")

    def describe(self) -> dict:
        """What the search covers, for people and for explore.json."""
        roster = self.env.roster
        return {
            "operators": [_group(specs) for _, specs in groupby(roster, lambda s: s.entry_index)],
            "compromised": list(self.compromised),
            "colluders": [spec.id for spec in roster if spec.collude],
            "accounts": ["@" + self.handle(a) for a in self.accounts],
            "faults": list(self.faults),
            "mistakes": self.mistakes,
            "depth": self.depth,
        }


def _group(group: Iterable[OperatorSpec]) -> str:
    """One [[operators]] entry as people read it: "reviewers r1-r9 (diligent)"."""
    specs = list(group)
    first, last = specs[0], specs[-1]
    entry = first.entry
    ids = first.id if first is last else f"{first.id}-{last.id}"
    role = first.record.role + ("s" if len(specs) > 1 else "")
    notes = [entry.persona.replace("_", " ")]
    if first.record.exit_at is not None:
        notes.append(f"leaves at {format_duration(first.record.exit_at)}")
    notes.extend(entry.traits())
    if entry.collude:
        notes.append("colluding")
    return f"{role} {ids} ({', '.join(notes)})"

"""Who may make which move: a search only asks of an operator what its persona could do.

The chance of a move comes from the same persona code the simulator uses, for a report
against a protected account (never violating; a hard call when the experiment has any):

- a move whose chance is zero is never made (a diligent operator with no error rate does
  not err; a departed operator has left);
- a move the persona makes at least half the time is *behaviour* and may happen any number
  of times: a rubber-stamper approving, a malicious leaver in the last hour before exit, a
  colluder waving through a fellow colluder's request, a second approver whose THERP
  dependence on the first is high or complete;
- a rarer move is a *mistake*; a trace may hold at most the search's mistake allowance
  (default one: the single-failure criterion, a safeguard must survive any one person's
  error);
- an attacker holding a compromised operator's credentials acts on purpose, through the
  queue, as second approver or directly through the admin tool, and may name anyone as
  second approver (itself included) where the requester names one. The search assumes the
  credentials are stolen; how likely that is (phish_probability) is for Monte Carlo runs;
- a malicious leaver keeps trying its credentials after its exit time (the target must
  refuse them); other operators stop acting when they leave;
- calls no persona's work asks for (cancelling a pending action, restoring an account,
  approving a pending action the target asked someone else to approve) come only from an
  attacker, from a malicious insider while it would approve wrongly (its hazard window, or
  after leaving), or, for an approval out of turn, from a colluder for a fellow colluder;
  a diligent, tired or random operator never makes them;
- where the requester names its second approver, a colluder names a fellow colluder and
  everyone else leaves the choice to the system in the search's moves (the simulator has
  them name a colleague); either way a second approver answers at the dependence a named
  colleague has (`two_person_rule.chosen_dependence_step` levels up).
"""

from __future__ import annotations

from typing import NamedTuple

from ..personas import Item, Persona, operator_persona
from ..world.environment import Environment
from ..world.roster import OperatorSpec

MISTAKE, BEHAVIOUR, ATTACK = "mistake", "behaviour", "attack"
LIKELY = 0.5  # a move made at least this often is behaviour, not a mistake


class Intent(NamedTuple):
    kind: str  # mistake | behaviour | attack
    why: str  # how a person would say it: "a mistake", "colluding with r1"
    p: float = 1.0  # how likely the persona is to make it (1: on purpose)


class Conduct:
    """The personas of an experiment's operators, asked what they could do and when."""

    def __init__(self, env: Environment) -> None:
        self.roster = {spec.id: spec for spec in env.roster}
        self.personas: dict[str, Persona] = {
            spec.id: operator_persona(spec, env.seed) for spec in env.roster
        }
        # a report against a protected account: never violating; a hard call if any are
        self.item = Item(0, True, False, env.experiment.population.ambiguous_share > 0)
        self.dependence = env.experiment.safeguards.two_person_rule.second_dependence()

    def acts(self, actor: str, attacker: bool, now: float) -> bool:
        """Whether anyone uses `actor`'s credentials now at all."""
        spec = self.roster[actor]
        return attacker or not spec.record.departed(now) or self._malicious(spec)

    def approving(self, actor: str, attacker: bool, now: float) -> Intent | None:
        """Whether `actor` would approve a destructive action on a protected account now."""
        spec = self.roster[actor]
        if attacker or spec.record.departed(now):
            return self._beyond_chance(spec, attacker)
        persona = self.personas[actor]
        return self._judge(spec, persona.approve_probability(self.item, now), now)

    def second_approving(
        self, actor: str, attacker: bool, requester: str, now: float
    ) -> Intent | None:
        """Whether `actor` would give the second approval to `requester`'s action now."""
        spec = self.roster[actor]
        if attacker or spec.record.departed(now):
            return self._beyond_chance(spec, attacker)
        fellow = self.roster.get(requester)
        requester_colludes = fellow is not None and fellow.collude
        if spec.collude and requester_colludes:
            return Intent(BEHAVIOUR, f"colluding with {requester}")
        p = self.personas[actor].second_approve_probability(
            self.item, now, self.dependence, requester_colludes
        )
        return self._judge(spec, p, now, f"{self.dependence} dependence on the first approver")

    def overriding(self, actor: str, attacker: bool, now: float) -> Intent | None:
        """Whether `actor` would make a call its work does not ask for (cancel, restore):
        an attacker with its credentials, or a malicious insider while it approves wrongly
        on purpose."""
        spec = self.roster[actor]
        if attacker or spec.record.departed(now):
            return self._beyond_chance(spec, attacker)
        if not self._malicious(spec):
            return None
        intent = self.approving(actor, False, now)
        return intent if intent is not None and intent.kind == BEHAVIOUR else None

    def out_of_turn(self, actor: str, attacker: bool, requester: str, now: float) -> Intent | None:
        """Whether `actor` would approve `requester`'s pending action though the target
        asked someone else: as `overriding`, or a colluder for a fellow colluder."""
        intent = self.overriding(actor, attacker, now)
        if intent is not None:
            return intent
        spec, fellow = self.roster[actor], self.roster.get(requester)
        if spec.collude and fellow is not None and fellow.collude and requester != actor:
            return Intent(BEHAVIOUR, f"colluding with {requester}")
        return None

    def action(self, actor: str, attacker: bool) -> str:
        """The action `actor` approves: its own, or the attacker's with its credentials."""
        entry = self.roster[actor].entry
        return entry.attack_action if attacker else entry.action

    def may_name(self, actor: str, attacker: bool, second: str | None) -> bool:
        """Whether the requester would name `second` as its second approver."""
        if second is None or attacker:
            return True
        spec, named = self.roster[actor], self.roster.get(second)
        return spec.collude and named is not None and named.collude and second != actor

    # --- helpers -------------------------------------------------------------------------

    def _beyond_chance(self, spec: OperatorSpec, attacker: bool) -> Intent | None:
        """An attacker acts on purpose; of those who have left, only a malicious leaver
        still tries its credentials."""
        if attacker:
            return Intent(ATTACK, "compromised credentials")
        return Intent(BEHAVIOUR, "malicious, after leaving") if self._malicious(spec) else None

    def _judge(
        self, spec: OperatorSpec, p: float, now: float, likely: str | None = None
    ) -> Intent | None:
        """A move of probability `p`: never, a mistake, or behaviour (and why: the
        persona's own reason, else `likely`)."""
        if p <= 0:
            return None
        if p < LIKELY:
            return Intent(MISTAKE, "a mistake", p)
        reason = self.personas[spec.id].likely_reason(now)
        if reason is not None:
            return Intent(BEHAVIOUR, reason, p)
        persona_name = spec.entry.persona.replace("_", " ")
        return Intent(BEHAVIOUR, likely or f"likely for a {persona_name} operator", p)

    @staticmethod
    def _malicious(spec: OperatorSpec) -> bool:
        return spec.entry.acts_after_exit()

"""The move layer: how a persona's choice becomes a call to the target, a history record
and a follow-up, written once for every driver.

A driver supplies the rest: `send` makes one call and writes its history record (the
simulator appends the record at once; live mode records the invocation and its outcome,
with an idempotency key, and tries an indeterminate write again), and `follow` decides
what an answer means for the others at work (the simulator schedules inbox work, live mode
publishes on the board). A persona's choices on a piece of work are asked here and nowhere
else: what to decide, whom to name as second approver, whether to give a second approval.
(When to work, for how long and when to attack stay with the driver: they are time.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from targets.moderation import Outcome

from ..experiment.model import TwoPersonRuleSection
from ..personas import Item, Persona, most_lenient
from .target import Target

Send = Callable[..., "Outcome | None"]
"""`send(now, process, f, value, method, *args)`: call `method(*args)` on the target,
record it in the history under `process` with `value` (to which the driver adds the answer
or the refusal), and return the answer, or None when it was refused or stayed unknown."""

Follow = Callable[[float, Outcome, Item, str, str, str], None]
"""`follow(now, out, item, requester, process, queue)`: what the driver does with an
answer; `requester` is the operator on whose behalf the chain runs, `process` who asked,
`queue` where the report was claimed from."""


class Actor(Protocol):
    """An operator at work: its id, the process name its records carry, its credential
    and its persona."""

    id: str
    process: str
    token: str
    persona: Persona


class Acts:
    """The moves of one shift's operators against one target."""

    __slots__ = (
        "_at_work",
        "_colluders",
        "_colluding",
        "_follow",
        "_namable",
        "_send",
        "chooses",
        "dependence",
        "rule",
        "target",
    )

    def __init__(
        self,
        target: Target,
        send: Send,
        follow: Follow,
        rule: TwoPersonRuleSection,
        operators: Iterable[tuple[str, bool, Any, str, Persona | None]],
        at_work: Callable[[Any, float], bool],
    ) -> None:
        """`operators` are (id, colludes, handle, role, persona), in roster order, with
        `at_work(handle, now)` saying whether that operator is still at work (the persona
        is asked only where the requester names its second approver)."""
        self.target = target
        self._send = send
        self._follow = follow
        self.rule = rule
        self.chooses = rule.chooser == "requester"  # the requester names its second approver
        self.dependence = rule.second_dependence()  # raised where the requester names it
        operators = list(operators)
        self._colluding = {op: colludes for op, colludes, *_ in operators}
        self._colluders = [(op, handle) for op, colludes, handle, *_ in operators if colludes]
        seniors = rule.pool == "senior"
        self._namable = [
            (op, handle, persona)
            for op, _, handle, role, persona in operators
            if role == "senior" or not seniors
        ]
        self._at_work = at_work

    def colluders(self, requester: str, now: float) -> list[str]:
        """The colluders a requester may name at `now`: those at work, but not itself."""
        at_work = self._at_work
        return [op for op, who in self._colluders if op != requester and at_work(who, now)]

    def colleagues(self, requester: str, now: float) -> list[tuple[str, Persona]]:
        """Those a requester may name at `now` (at work, in the approver pool, not
        itself), nearest desk first: the next in roster order after it, wrapping round."""
        at_work = self._at_work
        ring = self._namable
        start = next((i for i, (op, *_) in enumerate(ring) if op == requester), -1) + 1
        order = ring[start:] + ring[:start]
        return [(op, p) for op, who, p in order if op != requester and at_work(who, now)]

    def decide(self, agent: Actor, report_id: int, item: Item, now: float, queue: str) -> bool:
        """The operator's verdict on a claimed report; False when the target refused it
        or its answer stayed unknown."""
        decision, action = agent.persona.decide(item, now)
        return self.submit(agent, report_id, item, decision, action, now, queue)

    def submit(
        self,
        agent: Actor,
        report_id: int,
        item: Item,
        decision: str,
        action: str | None,
        now: float,
        queue: str,
    ) -> bool:
        """Send a verdict; a requester who may choose names its second approver."""
        chosen = None
        if decision == "approve" and self.chooses:
            colluders = self.colluders(agent.id, now)
            colleagues = self.colleagues(agent.id, now)
            persona = agent.persona
            chosen = persona.choose_second_approver(
                colluders, colleagues, item, now, self.dependence
            )
        value = {
            "report": report_id,
            "account": item.account_id,
            "decision": decision,
            "action": action,
        }
        process = agent.process
        out = self._send(
            now,
            process,
            "decide",
            value,
            self.target.decide,
            agent.token,
            report_id,
            decision,
            action,
            chosen,
        )
        if out is None:
            return False
        self._follow(now, out, item, agent.id, process, queue)
        return True

    def second_approve(
        self,
        agent: Actor,
        pending_id: int,
        report_id: int | None,
        item: Item,
        requester: str,
        now: float,
    ) -> None:
        """The second approver's answer on a pending action, by the persona's dependence
        on the first approver and whether it colludes with the requester."""
        colludes = self._colluding.get(requester, False)
        approve = agent.persona.second_approve(item, now, self.dependence, colludes)
        value = {
            "pending": pending_id,
            "report": report_id,
            "account": item.account_id,
            "protected": item.protected,
            "approve": approve,
        }
        args = (agent.token, pending_id, approve)
        method = self.target.second_approve
        out = self._send(now, agent.process, "second_approve", value, method, *args)
        if out is not None:
            self._follow(now, out, item, requester, agent.process, "senior")

    def attack(self, agent: Actor, account_id: int, protected: bool, now: float) -> None:
        """An attacker holding `agent`'s credentials uses the direct admin action; where the
        requester names the second approver, it names the most lenient colleague."""
        process = f"attacker:{agent.id}"
        action = agent.persona.entry.attack_action
        item = Item(account_id, protected, False)
        value = {"account": account_id, "protected": protected, "action": action}
        colleagues = self.colleagues(agent.id, now) if self.chooses else []
        chosen = most_lenient(colleagues, item, now, self.dependence) if colleagues else None
        args = (agent.token, account_id, action, chosen)
        out = self._send(now, process, "direct_action", value, self.target.direct_action, *args)
        if out is not None:
            self._follow(now, out, item, agent.id, process, "ordinary")

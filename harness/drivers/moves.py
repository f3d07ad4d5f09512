"""The move layer: how a persona's choice becomes a call to the target, a history record
and a follow-up, written once for every driver.

A driver supplies the rest: `send` makes one call and writes its history record (the
simulator appends the record at once; live mode records the invocation and its outcome,
with an idempotency key, and tries an indeterminate write again), and `follow` decides
what an answer means for the others at work (the simulator schedules inbox work, live mode
publishes on the board). A persona's choices on a piece of work are asked here and nowhere
else: what to decide, whom to name as second approver, whether to give a second approval.
(When to work, for how long and when to attack stay with the driver: they are time.)

The adversarial search is a driver too: it decides itself which move is made (its move
model and `explore.behaviour`), so it calls the entry points that take the choice as given
(`verdict`, `answer`, `attack` naming a second approver, `cancel`, `restore`), with a
`send` that records its calls for its findings.
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
        """Send the persona's verdict; a requester who may choose names its second approver."""
        chosen = None
        if decision == "approve" and self.chooses:
            colluders = self.colluders(agent.id, now)
            colleagues = self.colleagues(agent.id, now)
            persona = agent.persona
            chosen = persona.choose_second_approver(
                colluders, colleagues, item, now, self.dependence
            )
        return self.verdict(agent, report_id, item, (decision, action, chosen), now, queue)

    def verdict(
        self,
        agent: Actor,
        report_id: int,
        item: Item,
        choice: tuple[str, str | None, str | None],
        now: float,
        queue: str,
    ) -> bool:
        """Send a verdict `choice` = (decision, action, second approver named or None),
        the persona's or one a search dictates; False when the target refused it or its
        answer stayed unknown."""
        decision, action, chosen = choice
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
        self.answer(agent, (pending_id, report_id, requester), item, approve, now)

    def answer(
        self,
        agent: Actor,
        pending: tuple[int, int | None, str],
        item: Item,
        approve: bool,
        now: float,
    ) -> None:
        """Send a second approval's answer on `pending` = (pending id, report id or None,
        requester): the persona's, or one a search dictates (an operator the target did not
        ask included)."""
        pending_id, report_id, requester = pending
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

    def attack(
        self, agent: Actor, account_id: int, protected: bool, now: float, second: str | None = None
    ) -> None:
        """An attacker holding `agent`'s credentials uses the direct admin action, naming
        `second` as second approver if a search dictates one; otherwise, where the requester
        names the second approver, it names the most lenient colleague."""
        process = f"attacker:{agent.id}"
        action = agent.persona.entry.attack_action
        item = Item(account_id, protected, False)
        value = {"account": account_id, "protected": protected, "action": action}
        chosen = second
        if chosen is None and self.chooses:
            colleagues = self.colleagues(agent.id, now)
            chosen = most_lenient(colleagues, item, now, self.dependence) if colleagues else None
        if second is not None:
            value["second"] = second
        args = (agent.token, account_id, action, chosen)
        out = self._send(now, process, "direct_action", value, self.target.direct_action, *args)
        if out is not None:
            self._follow(now, out, item, agent.id, process, "ordinary")

    def cancel(self, agent: Actor, pending_id: int, item: Item, requester: str, now: float) -> None:
        """Stop `requester`'s pending action (waiting for its second approval or its delay)
        before it takes effect."""
        value = {"pending": pending_id, "account": item.account_id}
        args = (agent.token, pending_id)
        out = self._send(now, agent.process, "cancel", value, self.target.cancel, *args)
        if out is not None:
            self._follow(now, out, item, requester, agent.process, "senior")

    def restore(self, agent: Actor, item: Item, now: float) -> None:
        """Bring an account back to active."""
        value = {"account": item.account_id, "protected": item.protected}
        args = (agent.token, item.account_id)
        out = self._send(now, agent.process, "restore", value, self.target.restore, *args)
        if out is not None:
            self._follow(now, out, item, agent.id, agent.process, "ordinary")

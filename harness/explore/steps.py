"""The steps of a search, at the level a person narrates them.

A move is one thing people, an attacker or the world do: an operator approves an action on
a report, a second approval (its own turn, its own request, or one it was not asked for),
a direct admin action with stolen credentials, a cancelled pending action, a restored
account, a safeguard dependency failing or recovering, time passing, a request retried.
Together they cover every operator call of the target protocol (`drivers.target.Target`).
Moves are strict pydantic models so a trace file is validated like an experiment file.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from targets.moderation import TARGET_FAULTS
from targets.moderation.config import Settings

DEPTH = 12  # the longest sequence of moves a search tries by default


class Approve(Settings):
    """An operator approves its destructive action on a report: one a user just filed
    against `account` (filed, claimed and decided at once) or, with no account, the next
    one its queue offers (an escalated report for a senior, a requeued one otherwise).
    With `again`, it decides once more the report it last approved: asking again, say
    while the action waits for its second approver."""

    step: Literal["approve"] = "approve"
    actor: str
    account: int | None = None
    second: str | None = None  # the second approver the requester names (chooser = requester)
    attacker: bool = False  # an attacker holding the actor's credentials, not the actor
    again: bool = False


class SecondApprove(Settings):
    """An operator approves the oldest action waiting for its second approval, or (`own`)
    tries to approve its own latest request, or (`unasked`) approves out of turn the
    latest pending action, one the target asked someone else to approve. With no actor,
    it is whoever the target last asked for a second approval."""

    step: Literal["second_approve"] = "second_approve"
    actor: str | None = None
    own: bool = False
    unasked: bool = False
    attacker: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> SecondApprove:
        if self.own and self.unasked:
            raise ValueError("own and unasked exclude each other: one pending action a move")
        if self.unasked and self.actor is None:
            raise ValueError("unasked needs an actor: whoever was asked approves in turn")
        return self


class DirectAction(Settings):
    """An attacker holding the actor's credentials acts on `account` through the admin tool,
    without a report (the 2020 takeover path)."""

    step: Literal["direct_action"] = "direct_action"
    actor: str
    account: int
    second: str | None = None


class Cancel(Settings):
    """An operator stops the latest pending action (one waiting for its second approval or
    its delay) before it takes effect; the target lets seniors do it."""

    step: Literal["cancel"] = "cancel"
    actor: str
    attacker: bool = False


class Restore(Settings):
    """An operator brings `account` back to active."""

    step: Literal["restore"] = "restore"
    actor: str
    account: int
    attacker: bool = False


class Fault(Settings):
    """A safeguard dependency fails (`active`) or recovers."""

    step: Literal["fault"] = "fault"
    fault: Literal[TARGET_FAULTS]  # type: ignore[valid-type]
    active: bool


class Wait(Settings):
    """Time passes: exit times come, delayed actions and restores fire."""

    step: Literal["wait"] = "wait"
    minutes: int = Field(ge=1)


class Retry(Settings):
    """The last acknowledged request is sent again with the same idempotency key."""

    step: Literal["retry"] = "retry"


Move = Annotated[
    Union[Approve, SecondApprove, DirectAction, Cancel, Restore, Fault, Wait, Retry],  # noqa: UP007
    Field(discriminator="step"),
]

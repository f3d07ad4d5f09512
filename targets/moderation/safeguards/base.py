"""What a safeguard module declares, and the two kinds of check the service consults.

Each other module of this package holds one safeguard: a `Safeguard` subclass, exported as
`SAFEGUARD`, that declares
- `name`: its key under `[safeguards]` and its name in outcomes, the audit log and
  `caught_by`; `title`: how a sentence names it;
- `settings`: the model of its keys, and `switched_on`: the keys that switch it on;
- `consulted`: its place in the order the service consults safeguards (when several would
  stop an action, the first one consulted stops it, so `caught_by` attribution is stable);
- `listed`: its place among the `[safeguards.*]` tables of a resolved experiment, and of
  its fault among the target's faults;
- `dependency`: the fault that takes down the service it depends on, if any (its settings
  then have a `fail` key: open lets actions through while it is down, closed stops them);
- `check`: the question it answers, and `why_passed`: why it did not stop an action, in
  the words of a search's narration.

An account-level safeguard answers its `check` with a `Verdict` (or None: the action goes
on), so the service runs each one switched on through the same steps, in order, and names
none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from typing import Any, ClassVar, NamedTuple

from ..config import Settings
from ..model import AccountProfile, OperatorRecord


class Dependency(NamedTuple):
    """A service a safeguard depends on, the fault that takes it down, and how a narration
    says that it fails and that it recovers."""

    fault: str
    fails: str
    recovers: str


class Safeguard:
    """One safeguard of one service: its settings and the faults active now (the service's
    own set, so a fault switched on is seen at once)."""

    name: ClassVar[str]
    title: ClassVar[str]
    settings: ClassVar[type[Settings]]
    switched_on: ClassVar[dict[str, Any]] = {"enabled": True}
    consulted: ClassVar[int]
    listed: ClassVar[int]
    dependency: ClassVar[Dependency | None] = None
    level: ClassVar[str]

    def __init__(self, config: Any, faults: Set[str]) -> None:
        self.config = config
        self.faults = faults
        self.fault = self.dependency.fault if self.dependency is not None else None
        """The fault it depends on, if any: `self.fault in self.faults` while it is down."""

    @property
    def active(self) -> bool:
        """Whether the settings switch it on; a safeguard that is off is never consulted."""
        return self.config.enabled

    def state_key(self) -> tuple:
        """The bookkeeping that decides its later answers, as a hashable value (an
        exhaustive search's visited check); a safeguard that keeps none has ()."""
        return ()

    def fork(self, faults: Set[str]) -> Safeguard:
        """A copy with its own bookkeeping, seeing `faults` (its forked service's)."""
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin.faults = faults
        self.copy_state_into(twin)
        return twin

    def copy_state_into(self, twin: Safeguard) -> None:
        """Give `twin` (the same safeguard of a forked service) a copy of its bookkeeping."""

    def why_passed(
        self, op: OperatorRecord, at: float, faults: Set[str], second_approval: bool
    ) -> str | None:
        """Why it did not stop an action by `op` that took effect at `at` under `faults`
        (by `op`'s second approval if `second_approval`); None when it has nothing to say."""
        return None


class OperatorSafeguard(Safeguard):
    """Asked before an operator's destructive action or restore: may this operator act now?
    A refusal sends a report back to the queue for someone else, or blocks a direct action
    or a restore. The service consults every one that is switched on, in `consulted` order."""

    level = "operator"
    guards_approvals: ClassVar[bool] = False
    """Also asked before an operator's second approval lets an action proceed."""

    def check(self, op: OperatorRecord, now: float) -> bool:
        """True when it refuses `op` a destructive action at `now`. A check may count the
        action it lets through (a rate limit does)."""
        raise NotImplementedError

    def note_decision(self, op_id: str, now: float, approved: bool) -> None:
        """Bookkeeping on each approval or dismissal; only overriding modules are told."""


class Request(NamedTuple):
    """A destructive action an operator asks for, as an account-level safeguard sees it."""

    op: OperatorRecord
    account: AccountProfile
    second_approver: str | None
    """The second approver the requester named, if any."""
    pick_approver: Callable[[bool], str | None]
    """The system's draw of a distinct, present second approver (seniors only if asked);
    None when nobody is left to approve. Asking again for the same account gets the same
    one while it can still approve."""


class Verdict(NamedTuple):
    """What an account-level safeguard does with an action it does not let straight
    through. `status` is the outcome: BLOCKED, ESCALATED (to the senior queue: only a
    safeguard asked `on_request`), PENDING_APPROVAL (held for `approver`) or DELAYED (takes
    effect `delay` seconds later unless cancelled)."""

    status: str
    approver: str | None = None
    delay: float = 0.0


class AccountSafeguard(Safeguard):
    """Asked about a destructive action on a particular account, in `consulted` order, once
    the operator-level safeguards let the operator act. The first `Verdict` decides what
    happens to the action; an action that none holds or stops takes effect. After a second
    approval, the safeguards consulted after the one that held the action are asked."""

    level = "account"
    on_request: ClassVar[bool] = False
    """Asked about the request itself, before it becomes a pending action: it may send a
    report to the senior queue. Those that are not are asked about the pending action."""
    monitor: ClassVar[str | None] = None
    """The audit log's name for the monitor that may cancel an action it delays."""

    def check(self, request: Request) -> Verdict | None:
        """What it does with the action `request` asks for; None lets it go on."""
        raise NotImplementedError

    def vet_second_approver(
        self, op: OperatorRecord, named: str, operators: Mapping[str, OperatorRecord], now: float
    ) -> None:
        """Refuse (raise a `ModerationError`) a request by `op` naming `named` as its second
        approver, if this safeguard has a say in who approves."""

    def cancels(self, account: AccountProfile, draw: Callable[[str, float], bool]) -> bool:
        """Whether its monitor cancels a wrongful action on `account` it delayed, before it
        takes effect; `draw(kind, p)` is the service's yes/no draw."""
        return False

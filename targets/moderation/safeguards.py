"""The controls between an operator's request and its effect on an account.

Each method answers one safeguard's question from its settings, the injected faults and
the bookkeeping it keeps; the service decides what to do with the answers. Safeguards
are consulted in a fixed order so that `caught_by` attribution is stable:
leaver lockout, anomaly detection, rate limit, protected list, two-person rule, delay.
"""

from __future__ import annotations

from collections import deque

from .config import SafeguardsConfig
from .model import AccountProfile, OperatorRecord

LEAVER_LOCKOUT = "leaver_lockout"
ANOMALY_DETECTION = "anomaly_detection"
RATE_LIMIT = "rate_limit"
PROTECTED_LIST = "protected_list"
TWO_PERSON_RULE = "two_person_rule"
DELAYED_ACTION = "delayed_action"
SAFEGUARD_NAMES = (
    LEAVER_LOCKOUT,
    ANOMALY_DETECTION,
    RATE_LIMIT,
    PROTECTED_LIST,
    TWO_PERSON_RULE,
    DELAYED_ACTION,
)


class Safeguards:
    """Safeguard settings plus the per-operator state they need (windows, locks, faults)."""

    def __init__(self, config: SafeguardsConfig) -> None:
        self.config = config
        self.faults: set[str] = set()
        self.locked: set[str] = set()
        self._actions: dict[str, deque[float]] = {}
        self._decisions: dict[str, deque[tuple[float, bool]]] = {}

    # --- operator-level controls -------------------------------------------------------

    def leaver_locked(self, op: OperatorRecord, now: float) -> bool:
        """True when the HR feed says `op` leaves within the lockout horizon.

        A stale HR feed does not know who is leaving: failing open lets everyone through,
        failing closed locks everyone out until the feed is fresh again.
        """
        cfg = self.config.leaver_lockout
        if not cfg.enabled:
            return False
        if "hr_feed_stale" in self.faults:
            return cfg.fail == "closed"
        return op.exit_at is not None and now >= cfg.locks_from(op.exit_at)

    def note_decision(self, op_id: str, now: float, approved: bool) -> None:
        """Anomaly detection's bookkeeping: lock an operator whose approval rate jumps."""
        cfg = self.config.anomaly_detection
        if not cfg.enabled or op_id in self.locked:
            return
        window = self._decisions.setdefault(op_id, deque())
        window.append((now, approved))
        horizon = now - cfg.window
        while window[0][0] < horizon:
            window.popleft()
        if len(window) >= cfg.min_decisions:
            approvals = sum(1 for _, a in window if a)
            if approvals / len(window) > cfg.threshold:
                self.locked.add(op_id)

    def operator_stop(self, op: OperatorRecord, now: float) -> str | None:
        """The name of the operator-level safeguard that refuses `op` a destructive action."""
        if self.leaver_locked(op, now):
            return LEAVER_LOCKOUT
        if op.id in self.locked:
            return ANOMALY_DETECTION
        cfg = self.config.rate_limit
        if cfg.enabled:
            recent = self._actions.setdefault(op.id, deque())
            horizon = now - cfg.window
            while recent and recent[0] <= horizon:
                recent.popleft()
            if len(recent) >= cfg.max_actions:
                return RATE_LIMIT
            recent.append(now)
        return None

    # --- account-level controls --------------------------------------------------------

    def protected_list(self, op: OperatorRecord, account: AccountProfile) -> str:
        """'pass', 'escalate' or 'block' for an action by `op` on `account`.

        While the list is unreachable, fail open treats nobody as protected and fail closed
        treats everybody as protected.
        """
        cfg = self.config.protected_list
        if cfg.mode == "off":
            return "pass"
        if "protected_list_outage" in self.faults:
            protected = cfg.fail == "closed"
        else:
            protected = account.protected
        if not protected:
            return "pass"
        if cfg.mode == "block":
            return "block"
        return "pass" if op.role == "senior" else "escalate"

    def two_person(self, account: AccountProfile) -> str:
        """'skip', 'require' or 'block' (the approval service is down and fails closed)."""
        cfg = self.config.two_person_rule
        if not cfg.enabled:
            return "skip"
        if cfg.scope == "protected":
            in_scope = account.protected
        else:
            in_scope = account.protected or account.followers >= cfg.min_followers
        if not in_scope:
            return "skip"
        if "approval_service_outage" in self.faults:
            return "block" if cfg.fail == "closed" else "skip"
        return "require"

    def delay(self, account: AccountProfile) -> float | None:
        """Seconds a destructive action on `account` waits before taking effect, if any."""
        cfg = self.config.delayed_action
        if cfg.enabled and (account.protected or account.followers >= cfg.min_followers):
            return cfg.delay
        return None

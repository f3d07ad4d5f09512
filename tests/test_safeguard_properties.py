"""Safeguard invariants over generated sequences of operator actions (Hypothesis stateful).

Each machine fixes the safeguard under test, lets Hypothesis choose the other safeguards,
the faults that do not defeat it, and any sequence of reports, claims, decisions, second
approvals, direct admin actions, restores and waiting. After every step the invariant is
checked from the audit log and the accounts' state.

Every machine also keeps the invariants every configuration keeps, whatever the calls and
their order (`Operations`): a report takes effect at most once, an account has at most one
pending destructive action, and a requester asking again does not get another
system-chosen second approver. The calls are any operator's, not only what a persona would
do: deciding a report again while its action waits, repeating a direct action, cancelling.
"""

from __future__ import annotations

import contextlib
from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from targets.moderation import (
    AccountProfile,
    ManualClock,
    ModerationError,
    ModerationService,
    OperatorRecord,
    SafeguardsConfig,
)

ACCOUNTS = [
    AccountProfile(1, "president", "President", 80_000_000, protected=True),
    AccountProfile(2, "pop_star", "Pop Star", 30_000_000, protected=True),
    AccountProfile(3, "brand", "Brand", 3_000_000),
    AccountProfile(4, "neighbour", "Neighbour", 150),
    AccountProfile(5, "spammer", "Spammer", 20),
]
PROTECTED = {a.id for a in ACCOUNTS if a.protected}
OPERATORS = [
    OperatorRecord("r1", "reviewer", "t-r1"),
    OperatorRecord("r2", "reviewer", "t-r2"),
    OperatorRecord("r3", "reviewer", "t-r3", exit_at=12 * 3600.0),  # leaving today
    OperatorRecord("s1", "senior", "t-s1"),
    OperatorRecord("s2", "senior", "t-s2", exit_at=20 * 3600.0),  # leaving today
]
TOKENS = st.sampled_from([o.token for o in OPERATORS])
LEAVERS = {o.id for o in OPERATORS if o.exit_at is not None}
EXIT_AT = {o.id: o.exit_at for o in OPERATORS}
OPENS = ("approval_requested", "scheduled")  # audit events that leave an action pending
ENDS = ("applied", "rejected", "cancelled", "blocked")  # and those that end one
ACTION = st.sampled_from(["suspend", "deactivate"])

OTHER_SAFEGUARDS = {
    "protected_list": st.fixed_dictionaries(
        {"mode": st.sampled_from(["off", "escalate"]), "fail": st.sampled_from(["open", "closed"])}
    ),
    "two_person_rule": st.fixed_dictionaries(
        {
            "enabled": st.booleans(),
            "chooser": st.sampled_from(["system", "requester"]),
            "fail": st.sampled_from(["open", "closed"]),
        }
    ),
    "leaver_lockout": st.fixed_dictionaries({"enabled": st.booleans()}),
    "rate_limit": st.fixed_dictionaries(
        {"enabled": st.booleans(), "max_actions": st.integers(1, 5)}
    ),
    "delayed_action": st.fixed_dictionaries(
        {"enabled": st.booleans(), "cancel_probability": st.sampled_from([0.0, 0.5])}
    ),
    "anomaly_detection": st.fixed_dictionaries(
        {"enabled": st.booleans(), "min_decisions": st.integers(2, 6)}
    ),
}


class Operations(RuleBasedStateMachine):
    """Any interleaving of operator calls against one service; errors are refusals."""

    fixed: dict = {}  # the safeguard under test, per subclass
    faults: tuple[str, ...] = ()  # faults that must not defeat it

    reports = Bundle("reports")
    pending = Bundle("pending")

    @initialize(others=st.fixed_dictionaries(OTHER_SAFEGUARDS))
    def start(self, others: dict) -> None:
        config = self.config = SafeguardsConfig.model_validate({**others, **self.fixed})
        self.clock = ManualClock()
        self.svc = ModerationService(
            ACCOUNTS, OPERATORS, clock=self.clock, safeguards=config, seed=0
        )

    def call(self, method, *args, **kwargs):
        try:
            return getattr(self.svc, method)(*args, **kwargs)
        except ModerationError:
            return None

    @rule(target=reports, account=st.sampled_from([a.id for a in ACCOUNTS]))
    def file_report(self, account: int):
        return self.svc.file_report("user", account)

    @rule(token=TOKENS)
    def claim(self, token: str) -> None:
        self.call("claim", token)

    @rule(
        target=pending,
        token=TOKENS,
        report=reports,
        decision=st.sampled_from(["approve", "dismiss", "escalate"]),
        action=ACTION,
        chosen=st.sampled_from([None, "r1", "r2", "r3", "s1", "s2"]),
    )
    def decide(self, token, report, decision, action, chosen):
        out = self.call(
            "decide", token, report, decision, action if decision == "approve" else None, chosen
        )
        return multiple(out.pending_id) if out and out.pending_id else multiple()

    @rule(
        target=pending,
        token=TOKENS,
        account=st.sampled_from([a.id for a in ACCOUNTS]),
        action=ACTION,
        chosen=st.sampled_from([None, "r1", "r2", "s1"]),
    )
    def direct_action(self, token, account, action, chosen):
        out = self.call("direct_action", token, account, action, chosen)
        return multiple(out.pending_id) if out and out.pending_id else multiple()

    @rule(pending_id=consumes(pending), token=TOKENS, approve=st.booleans())
    def second_approve(self, pending_id: int, token: str, approve: bool) -> None:
        self.call("second_approve", token, pending_id, approve)

    @rule(pending_id=pending, token=TOKENS)
    def cancel(self, pending_id: int, token: str) -> None:
        self.call("cancel", token, pending_id)

    @rule(token=TOKENS, account=st.sampled_from([a.id for a in ACCOUNTS]))
    def restore(self, token: str, account: int) -> None:
        self.call("restore", token, account)

    @rule(seconds=st.sampled_from([30, 600, 1800, 3600]))
    def wait(self, seconds: int) -> None:
        self.clock.set(self.clock.now() + seconds)
        self.svc.run_due()

    @rule(data=st.data())
    def toggle_fault(self, data) -> None:
        if self.faults:
            self.svc.set_fault(data.draw(st.sampled_from(self.faults)), data.draw(st.booleans()))

    # --- invariants every configuration keeps ------------------------------------------

    @invariant()
    def a_report_takes_effect_at_most_once(self) -> None:
        if not hasattr(self, "svc"):
            return
        twice = Counter(e.report_id for e in self.applied() if e.report_id is not None)
        assert not [r for r, n in twice.items() if n > 1], f"reports applied twice: {twice}"

    @invariant()
    def an_account_has_at_most_one_pending_action(self) -> None:
        if not hasattr(self, "svc"):
            return
        open_: dict[int, int] = {}  # account -> its pending action, from the audit log
        for e in self.svc.audit(0, 10**9):
            if e.event in OPENS:
                assert open_.get(e.account_id, e.pending_id) == e.pending_id, (
                    f"account {e.account_id}: pending action {e.pending_id} while "
                    f"{open_[e.account_id]} is still pending"
                )
                open_[e.account_id] = e.pending_id
            elif e.event in ENDS and e.pending_id and open_.get(e.account_id) == e.pending_id:
                del open_[e.account_id]

    @invariant()
    def asking_again_does_not_redraw_the_approver(self) -> None:
        """For each requester and account, the system's choice changes only when the one
        chosen before has left."""
        if not hasattr(self, "svc") or self.config.two_person_rule.chooser != "system":
            return
        drawn: dict[tuple[str, int], str] = {}
        for e in self.svc.audit(0, 10**9):
            if e.event != "approval_requested":
                continue
            before = drawn.get((e.actor, e.account_id))
            if before is not None and before != e.detail:
                exit_at = EXIT_AT[before]
                assert exit_at is not None and e.at >= exit_at, (
                    f"{e.actor} asked again for account {e.account_id} and got {e.detail} "
                    f"instead of {before}"
                )
            drawn[e.actor, e.account_id] = e.detail

    # --- helpers for invariants --------------------------------------------------------

    def applied(self):
        return [e for e in self.svc.audit(0, 10**9) if e.event == "applied"]


class TwoPersonRule(Operations):
    """With the two-person rule on, no single operator ever takes down a protected account."""

    fixed = {"two_person_rule": {"enabled": True, "fail": "closed", "chooser": "requester"}}
    faults = ("protected_list_outage", "hr_feed_stale", "approval_service_outage")

    @invariant()
    def every_protected_action_had_a_distinct_second_approver(self) -> None:
        if not hasattr(self, "svc"):
            return
        audit = self.svc.audit(0, 10**9)
        requested = {e.pending_id: e.actor for e in audit if e.event == "approval_requested"}
        approved = {e.pending_id: e.actor for e in audit if e.event == "approved"}
        for entry in self.applied():
            if entry.account_id in PROTECTED:
                assert entry.pending_id in approved, f"protected action without approval: {entry}"
                assert approved[entry.pending_id] != requested[entry.pending_id]


class SystemChosenApprover(Operations):
    """The two-person rule with the system choosing the approver: the configuration where
    asking again could re-draw it. The invariants are those of `Operations`."""

    fixed = {"two_person_rule": {"enabled": True, "fail": "closed", "chooser": "system"}}
    faults = ("protected_list_outage", "hr_feed_stale", "approval_service_outage")


class LeaverLockout(Operations):
    """With leaver lockout on and a fresh HR feed, no departing operator ever completes a
    destructive action, as requester or as second approver, nor restores an account
    (restoring a rightly suspended account harms too)."""

    fixed = {"leaver_lockout": {"enabled": True, "days_before_exit": 1}}
    faults = ("protected_list_outage", "approval_service_outage")

    @invariant()
    def no_leaver_action_took_effect(self) -> None:
        if not hasattr(self, "svc"):
            return
        audit = self.svc.audit(0, 10**9)
        assert not [e for e in self.applied() if e.actor in LEAVERS]
        assert not [e for e in audit if e.event == "approved" and e.actor in LEAVERS]
        assert not [e for e in audit if e.event == "restored" and e.actor in LEAVERS]


class ProtectedListBlock(Operations):
    """With the protected list in block mode, no protected account is ever actioned."""

    fixed = {"protected_list": {"mode": "block", "fail": "closed"}}
    faults = ("protected_list_outage", "approval_service_outage", "hr_feed_stale")

    @invariant()
    def protected_accounts_stay_active(self) -> None:
        if not hasattr(self, "svc"):
            return
        assert not [e for e in self.applied() if e.account_id in PROTECTED]
        assert all(self.svc.account(a).status == "active" for a in PROTECTED)


SETTINGS = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestTwoPersonRule = TwoPersonRule.TestCase
TestTwoPersonRule.settings = SETTINGS
TestSystemChosenApprover = SystemChosenApprover.TestCase
TestSystemChosenApprover.settings = SETTINGS
TestLeaverLockout = LeaverLockout.TestCase
TestLeaverLockout.settings = SETTINGS
TestProtectedListBlock = ProtectedListBlock.TestCase
TestProtectedListBlock.settings = SETTINGS


def test_the_invariants_can_fail():
    """The same machines find the hole when the safeguard's fail mode is open: the checks
    are not vacuous."""
    from hypothesis import find

    def takes_down_protected(steps: list) -> bool:
        config = SafeguardsConfig.model_validate(
            {"two_person_rule": {"enabled": True, "fail": "open"}}
        )
        svc = ModerationService(ACCOUNTS, OPERATORS, clock=ManualClock(), safeguards=config)
        for outage, account in steps:
            svc.set_fault("approval_service_outage", outage)
            with contextlib.suppress(ModerationError):
                svc.direct_action("t-r1", account, "deactivate")
        return any(svc.account(a).status != "active" for a in PROTECTED)

    found = find(
        st.lists(st.tuples(st.booleans(), st.sampled_from([1, 2, 3, 4]))), takes_down_protected
    )
    assert len(found) == 1 and found[0][0] is True and found[0][1] in PROTECTED

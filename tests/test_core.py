"""The target core: authentication, the safeguard pipeline, timers, idempotency, replay."""

from __future__ import annotations

import pytest

from targets.moderation import (
    AccountProfile,
    Conflict,
    Forbidden,
    InvalidRequest,
    ManualClock,
    ModerationService,
    NotFound,
    OperatorRecord,
    SafeguardsConfig,
    Unauthorized,
)

ACCOUNTS = [
    AccountProfile(1, "head_of_state", "Head of State", 50_000_000, protected=True),
    AccountProfile(2, "big_brand", "Big Brand", 2_000_000),
    AccountProfile(3, "someone", "Some One", 120),
]
OPERATORS = [
    OperatorRecord("r1", "reviewer", "tok-r1"),
    OperatorRecord("r2", "reviewer", "tok-r2"),
    OperatorRecord("r3", "reviewer", "tok-r3", exit_at=3600.0),
    OperatorRecord("s1", "senior", "tok-s1"),
]


def service(clock: ManualClock | None = None, journal=None, **safeguards) -> ModerationService:
    config = SafeguardsConfig.model_validate(safeguards)
    return ModerationService(
        ACCOUNTS,
        OPERATORS,
        clock=clock or ManualClock(),
        safeguards=config,
        seed=1,
        journal=journal,
    )


def approve(svc: ModerationService, token: str, account: int, action: str = "deactivate"):
    report = svc.file_report("user", account)
    view = svc.claim(token)
    assert view is not None and view.id == report
    return svc.decide(token, report, "approve", action)


def test_no_safeguards_one_click_takes_a_protected_account_down():
    svc = service()
    out = approve(svc, "tok-r1", 1)
    assert out.status == "applied"
    assert svc.account(1).status == "deactivated"


def test_restore_monitor_brings_the_account_back_after_the_detection_delay():
    clock = ManualClock()
    svc = service(clock)
    approve(svc, "tok-r1", 1)
    assert svc.next_due() == 660.0
    clock.set(659.0)
    assert svc.run_due() == []
    clock.set(660.0)
    (restored,) = svc.run_due()
    assert restored.status == "restored" and restored.at == 660.0
    assert svc.account(1).status == "active"


def test_unknown_token_is_unauthorized_and_departed_operator_is_forbidden():
    clock = ManualClock()
    svc = service(clock)
    with pytest.raises(Unauthorized):
        svc.claim("not-a-token")
    svc.file_report("user", 3)
    clock.set(3600.0)
    with pytest.raises(Forbidden, match="departed"):
        svc.claim("tok-r3")


def test_decide_requires_own_claim_and_happens_once():
    svc = service()
    report = svc.file_report("user", 3)
    svc.claim("tok-r1")
    with pytest.raises(Forbidden, match="not claimed by operator r2"):
        svc.decide("tok-r2", report, "dismiss")
    svc.decide("tok-r1", report, "dismiss")
    with pytest.raises(Conflict, match="already decided"):
        svc.decide("tok-r1", report, "dismiss")
    with pytest.raises(NotFound):
        svc.decide("tok-r1", 999, "dismiss")
    report = svc.file_report("user", 3)
    svc.claim("tok-r1")
    with pytest.raises(InvalidRequest, match="approve needs an action"):
        svc.decide("tok-r1", report, "approve", "explode")


def test_refused_calls_change_nothing():
    svc = service()
    before = svc.audit()
    with pytest.raises(NotFound):
        svc.file_report("user", 42)
    with pytest.raises(Unauthorized):
        svc.direct_action("nope", 1, "suspend")
    assert svc.audit() == before


def test_protected_list_escalate_sends_a_reviewer_action_to_the_senior_queue():
    svc = service(protected_list={"mode": "escalate"})
    out = approve(svc, "tok-r1", 1)
    assert (out.status, out.safeguard) == ("escalated", "protected_list")
    assert svc.account(1).status == "active"
    assert svc.claim("tok-r2") is None  # reviewers do not see the senior queue
    view = svc.claim("tok-s1")
    assert view is not None and view.queue == "senior"
    assert svc.decide("tok-s1", view.id, "approve", "suspend").status == "applied"


def test_protected_list_fails_open_or_closed_during_an_outage():
    open_svc = service(protected_list={"mode": "block", "fail": "open"})
    open_svc.set_fault("protected_list_outage", True)
    assert approve(open_svc, "tok-r1", 1).status == "applied"
    closed = service(protected_list={"mode": "block", "fail": "closed"})
    closed.set_fault("protected_list_outage", True)
    out = approve(closed, "tok-r1", 3)  # closed: everyone is treated as protected
    assert (out.status, out.safeguard) == ("blocked", "protected_list")


def test_two_person_rule_needs_a_distinct_second_approver():
    svc = service(two_person_rule={"enabled": True})
    out = approve(svc, "tok-r1", 1)
    assert out.status == "pending_approval" and out.approver not in (None, "r1")
    approver_token = f"tok-{out.approver}"
    with pytest.raises(Forbidden, match="own second approver"):
        svc.second_approve("tok-r1", out.pending_id, True)
    other = next(o for o in OPERATORS if o.id not in ("r1", out.approver, "r3"))
    with pytest.raises(Forbidden, match="assigned to"):
        svc.second_approve(other.token, out.pending_id, True)
    assert [p.id for p in svc.pending_approvals(approver_token)] == [out.pending_id]
    assert svc.second_approve(approver_token, out.pending_id, True).status == "applied"
    with pytest.raises(Conflict):
        svc.second_approve(approver_token, out.pending_id, True)
    assert svc.account(1).status == "deactivated"


def test_requester_cannot_name_itself_and_system_mode_refuses_a_choice():
    requester_mode = service(two_person_rule={"enabled": True, "chooser": "requester"})
    report = requester_mode.file_report("user", 1)
    requester_mode.claim("tok-r1")
    with pytest.raises(Forbidden, match="own second approver"):
        requester_mode.decide("tok-r1", report, "approve", "suspend", second_approver="r1")
    out = requester_mode.decide("tok-r1", report, "approve", "suspend", second_approver="r2")
    assert out.approver == "r2"
    system_mode = service(two_person_rule={"enabled": True})
    report = system_mode.file_report("user", 1)
    system_mode.claim("tok-r1")
    with pytest.raises(InvalidRequest, match="system chooses"):
        system_mode.decide("tok-r1", report, "approve", "suspend", second_approver="r2")


def test_approval_outage_fail_open_lets_one_operator_through_and_closed_does_not():
    open_svc = service(two_person_rule={"enabled": True, "fail": "open"})
    open_svc.set_fault("approval_service_outage", True)
    assert approve(open_svc, "tok-r1", 1).status == "applied"
    closed = service(two_person_rule={"enabled": True, "fail": "closed"})
    closed.set_fault("approval_service_outage", True)
    out = approve(closed, "tok-r1", 1)
    assert (out.status, out.safeguard) == ("blocked", "two_person_rule")


def test_leaver_lockout_requeues_for_someone_else_unless_the_hr_feed_is_stale():
    svc = service(leaver_lockout={"enabled": True, "days_before_exit": 1})
    out = approve(svc, "tok-r3", 3)
    assert (out.status, out.safeguard) == ("requeued", "leaver_lockout")
    assert svc.claim("tok-r3") is None  # not offered back to the refused operator
    assert svc.claim("tok-r1").id == out.report_id
    stale = service(leaver_lockout={"enabled": True})
    stale.set_fault("hr_feed_stale", True)
    assert approve(stale, "tok-r3", 3).status == "applied"


def test_leaver_lockout_failing_closed_locks_everyone_out_while_the_hr_feed_is_stale():
    svc = service(leaver_lockout={"enabled": True, "fail": "closed"})
    svc.set_fault("hr_feed_stale", True)
    report = svc.file_report("user", 3)
    for token in ("tok-r3", "tok-r1"):  # the leaver, and an operator with no exit date
        assert svc.claim(token).id == report
        out = svc.decide(token, report, "approve", "suspend")
        assert (out.status, out.safeguard) == ("requeued", "leaver_lockout")
    svc.set_fault("hr_feed_stale", False)
    assert svc.claim("tok-r2").id == report  # a fresh feed: r2 may act again
    assert svc.decide("tok-r2", report, "approve", "suspend").status == "applied"


def test_rate_limit_counts_destructive_actions_per_window():
    clock = ManualClock()
    svc = service(clock, rate_limit={"enabled": True, "max_actions": 2, "window": "1h"})
    assert svc.direct_action("tok-r1", 3, "suspend").status == "applied"
    assert svc.direct_action("tok-r1", 2, "suspend").status == "applied"
    out = svc.direct_action("tok-r1", 3, "suspend")
    assert (out.status, out.safeguard) == ("blocked", "rate_limit")
    clock.set(3601.0)
    assert svc.direct_action("tok-r1", 3, "suspend").status == "applied"


def test_anomaly_detection_locks_an_operator_whose_approval_rate_jumps():
    svc = service(anomaly_detection={"enabled": True, "min_decisions": 3, "threshold": 0.6})
    statuses = [svc.direct_action("tok-r1", 3, "suspend").status for _ in range(4)]
    assert statuses == ["applied", "applied", "blocked", "blocked"]


def test_delayed_action_is_cancelled_by_the_monitor_or_fires():
    clock = ManualClock()
    svc = service(
        clock, delayed_action={"enabled": True, "delay": "30m", "cancel_probability": 1.0}
    )
    out = svc.direct_action("tok-r1", 1, "deactivate")
    assert out.status == "delayed" and out.due_at == 1800.0
    clock.set(1800.0)
    (fired,) = svc.run_due()
    assert (fired.status, fired.safeguard) == ("cancelled", "delayed_action")
    never = service(clock, delayed_action={"enabled": True, "cancel_probability": 0.0})
    never.direct_action("tok-r1", 1, "deactivate")
    clock.set(3600.0)
    assert never.run_due()[0].status == "applied"


def test_idempotency_key_makes_a_replay_count_once():
    svc = service()
    first = svc.direct_action("tok-r1", 3, "suspend", idempotency_key="k1")
    again = svc.direct_action("tok-r1", 3, "suspend", idempotency_key="k1")
    assert first == again
    applied = [e for e in svc.audit() if e.event == "applied"]
    assert len(applied) == 1
    with pytest.raises(Conflict, match="different request"):
        svc.direct_action("tok-r1", 2, "suspend", idempotency_key="k1")
    # keys are per caller: another operator's k1 is its own request
    assert svc.direct_action("tok-r2", 2, "suspend", idempotency_key="k1").status == "applied"


def test_a_departed_operator_cannot_replay_a_request_it_made_before_leaving():
    clock = ManualClock()
    svc = service(clock)
    report = svc.file_report("user", 3)
    assert svc.claim("tok-r3", idempotency_key="c1").id == report  # r3 leaves at 1h
    clock.set(3600.0)
    with pytest.raises(Forbidden, match="departed"):
        svc.claim("tok-r3", idempotency_key="c1")
    assert svc.file_report("user", 3, idempotency_key="f1") == svc.file_report(
        "user", 3, idempotency_key="f1"
    )  # callers without credentials replay as before


class ListJournal(list):
    def append(self, at, command, args, kwargs):
        super().append((at, command, args, kwargs))


def test_journal_replay_reaches_the_same_state():
    clock = ManualClock()
    journal = ListJournal()
    svc = service(
        clock,
        journal,
        two_person_rule={"enabled": True},
        delayed_action={"enabled": True, "cancel_probability": 0.5},
    )
    for account in (1, 2, 1, 3):
        out = approve(svc, "tok-r1", account)
        clock.set(clock.now() + 700)
        if out.status == "pending_approval":
            svc.second_approve(f"tok-{out.approver}", out.pending_id, True)
        clock.set(clock.now() + 2000)
    svc.direct_action("tok-s1", 1, "suspend", idempotency_key="x")
    svc.run_due()

    fresh = service(
        ManualClock(),
        two_person_rule={"enabled": True},
        delayed_action={"enabled": True, "cancel_probability": 0.5},
    )
    assert fresh.replay(journal) == len(journal)
    fresh.clock.set(clock.now())
    fresh.run_due()
    assert fresh.audit() == svc.audit()
    assert [fresh.account(a) for a in (1, 2, 3)] == [svc.account(a) for a in (1, 2, 3)]


# --- asking again while an action is pending ----------------------------------------------


def test_a_second_request_on_an_account_with_an_action_pending_is_a_conflict():
    """Asking again, by decision or direct action, by the requester or anyone else, while
    the first waits for its second approver or its delay: refused, nothing changes."""
    clock = ManualClock()
    svc = service(clock, two_person_rule={"enabled": True})
    first = approve(svc, "tok-r1", 1)
    assert first.status == "pending_approval"
    audit = len(svc.audit())
    with pytest.raises(Conflict, match=f"pending action {first.pending_id}"):
        svc.decide("tok-r1", first.report_id, "approve", "deactivate")
    for token in ("tok-r1", "tok-s1"):
        with pytest.raises(Conflict, match="already has a destructive action pending"):
            svc.direct_action(token, 1, "suspend")
    assert len(svc.audit()) == audit
    assert svc.direct_action("tok-r1", 3, "suspend").status == "applied"  # other accounts
    delayed = service(clock, delayed_action={"enabled": True})
    assert delayed.direct_action("tok-r1", 1, "deactivate").status == "delayed"
    with pytest.raises(Conflict, match="waiting for its delay"):
        delayed.direct_action("tok-r2", 1, "deactivate")


def test_a_report_takes_effect_once_and_the_account_is_free_again_after():
    svc = service(two_person_rule={"enabled": True})
    first = approve(svc, "tok-r1", 1)
    svc.second_approve(f"tok-{first.approver}", first.pending_id, False)  # rejected
    with pytest.raises(Conflict, match="already decided"):
        svc.decide("tok-r1", first.report_id, "approve", "deactivate")
    again = svc.direct_action("tok-r1", 1, "deactivate")
    assert again.status == "pending_approval"
    assert svc.second_approve(f"tok-{again.approver}", again.pending_id, True).status == "applied"
    applied = [e.report_id for e in svc.audit() if e.event == "applied"]
    assert applied == [None]


def test_asking_again_gets_the_same_system_chosen_approver():
    """A requester whose approver said no, asking again for the same account, meets the same
    approver: asking again is no way to shop for a lenient one. Only an approver who has
    left is replaced."""
    clock = ManualClock()
    svc = service(clock, two_person_rule={"enabled": True})
    drawn = set()
    for _ in range(12):
        out = svc.direct_action("tok-s1", 1, "deactivate")
        drawn.add(out.approver)
        svc.second_approve(f"tok-{out.approver}", out.pending_id, False)
    assert len(drawn) == 1


def test_an_approver_who_has_left_is_replaced():
    config = SafeguardsConfig.model_validate({"two_person_rule": {"enabled": True}})
    team = [OPERATORS[0], OPERATORS[1], OPERATORS[2]]  # r1 asks; r2 or r3 (leaves at 1h)
    for seed in range(50):
        clock = ManualClock()
        svc = ModerationService(ACCOUNTS, team, clock=clock, safeguards=config, seed=seed)
        first = svc.direct_action("tok-r1", 1, "deactivate")
        if first.approver == "r3":
            break
    svc.second_approve("tok-r3", first.pending_id, False)
    clock.set(3600.0)
    assert svc.direct_action("tok-r1", 1, "deactivate").approver == "r2"


def test_switched_off_the_guard_lets_a_requester_redraw_its_approver(monkeypatch):
    """What the guard prevents (and what the search finds without it): twelve requests, a
    pending action each, several approvers."""
    monkeypatch.setattr(ModerationService, "guard_repeats", False)
    svc = service(two_person_rule={"enabled": True})
    outs = [svc.direct_action("tok-s1", 1, "deactivate") for _ in range(12)]
    assert len({o.pending_id for o in outs}) == 12
    assert len({o.approver for o in outs}) > 1


# --- restores --------------------------------------------------------------------------------


def test_a_leaver_locked_operator_cannot_restore():
    svc = service(leaver_lockout={"enabled": True, "days_before_exit": 1})
    svc.direct_action("tok-r1", 3, "suspend")
    out = svc.restore("tok-r3", 3)
    assert (out.status, out.action, out.safeguard) == ("blocked", "restore", "leaver_lockout")
    assert svc.account(3).status == "suspended"
    assert svc.audit()[-1][2:4] == ("r3", "blocked")
    assert svc.restore("tok-r1", 3).status == "restored"
    assert svc.account(3).status == "active"


def test_restores_count_against_the_rate_limit_but_the_restore_monitor_does_not():
    clock = ManualClock()
    svc = service(clock, rate_limit={"enabled": True, "max_actions": 2, "window": "1h"})
    assert svc.direct_action("tok-r1", 3, "suspend").status == "applied"
    assert svc.restore("tok-r1", 3).status == "restored"
    out = svc.restore("tok-r1", 3)
    assert (out.status, out.safeguard) == ("blocked", "rate_limit")
    assert svc.direct_action("tok-r2", 1, "deactivate").status == "applied"
    assert svc.direct_action("tok-r2", 2, "deactivate").status == "applied"
    clock.set(660.0)
    (restored,) = svc.run_due()  # r2 is at its limit; the monitor restores all the same
    assert (restored.status, restored.account_id) == ("restored", 1)

"""The checker on live-mode histories with known answers: concurrent operations recorded
out of order, indeterminate operations and how they are resolved, and fault windows."""

from __future__ import annotations

from conftest import small

from harness.backends.replications import run_replications
from harness.checker import check
from harness.history import History
from harness.statistics.summary import build_summary
from harness.world.environment import Environment

PROTECTED, ORDINARY = 1, 7


def filed(t: float, report: int, account: int = PROTECTED, violating: bool = False):
    value = {
        "report": report,
        "account": account,
        "protected": account == PROTECTED,
        "violating": violating,
        "ambiguous": False,
    }
    return (t, "reporter", "ok", "file_report", value)


def invoke(t: float, process: str, f: str, **value):
    return (t, process, "invoke", f, value)


def info(t: float, process: str, f: str, **value):
    return (t, process, "info", f, {**value, "error": "indeterminate"})


def decided(t: float, process: str, report: int, outcome: str, account: int = PROTECTED, **more):
    value = {
        "report": report,
        "account": account,
        "decision": "approve",
        "action": "suspend",
        "outcome": outcome,
        "safeguard": None,
        "pending": None,
        "approver": None,
        "escalated_report": report if outcome == "escalated" else None,
        **more,
    }
    return (t, process, "ok", "decide", value)


def status(t: float, state: str, account: int = PROTECTED):
    return (t, "probe", "ok", "status", {"account": account, "status": state})


def fault(t: float, index: int, active: bool):
    return (t, "nemesis", "ok", "fault", {"index": index, "kind": "k", "active": active})


def end(t: float = 3600.0):
    return (t, "harness", "ok", "shift_end", {})


def approve_doubtfully(t0: float, t1: float, report: int, key: str = "k1"):
    """r1 approves a report on the protected account; the answer never comes."""
    request = {
        "report": report,
        "account": PROTECTED,
        "decision": "approve",
        "action": "suspend",
        "key": key,
    }
    return [invoke(t0, "r1", "decide", **request), info(t1, "r1", "decide", **request)]


def test_a_claim_recorded_before_its_report_was_answered_still_counts():
    history = History(
        [
            (10.0, "r1", "ok", "claim", {"report": 1, "key": "c"}),
            filed(10.5, 1),
            decided(60.0, "r1", 1, "dismissed"),
            end(),
        ]
    )
    m = check(history, 1.0)
    assert (m.trials, m.slips, m.decisions, m.backlog) == (1, 0, 1, 0)


def test_an_indeterminate_decision_resolved_by_its_retry_counts_once():
    history = History(
        [
            filed(0.0, 1),
            *approve_doubtfully(50.0, 51.0, 1, key="same"),
            invoke(52.0, "r1", "decide", key="same"),
            decided(53.0, "r1", 1, "applied", key="same"),
            status(53.5, "suspended"),
            end(),
        ]
    )
    m = check(history, 1.0)
    assert (m.trials, m.slips) == (1, 1)
    assert m.indeterminate == {"operations": 1, "retried": 1}


def test_an_indeterminate_approval_is_a_slip_when_the_probes_see_an_unexplained_fall():
    history = History(
        [
            filed(0.0, 1),
            status(30.0, "active"),
            *approve_doubtfully(50.0, 52.0, 1),
            status(630.0, "suspended"),
            status(1230.0, "active"),
            end(),
        ]
    )
    m = check(history, 1.0)
    assert (m.trials, m.slips) == (1, 1)
    assert m.indeterminate == {"operations": 1, "probe_slips": 1}
    assert m.exposures == [10.0]


def test_a_fall_another_answer_explains_is_not_blamed_on_the_indeterminate_request():
    history = History(
        [
            filed(0.0, 1),
            filed(1.0, 2),
            status(30.0, "active"),
            *approve_doubtfully(50.0, 52.0, 1),
            invoke(100.0, "r2", "decide"),
            decided(101.0, "r2", 2, "applied"),
            status(630.0, "suspended"),
            end(),
        ]
    )
    m = check(history, 1.0)
    assert (m.trials, m.slips) == (1, 1)  # r2's answered approval, not r1's doubtful one
    assert m.indeterminate == {"operations": 1, "unresolved": 1}


def test_an_indeterminate_approval_the_probes_never_see_land_stays_unresolved():
    history = History(
        [
            filed(0.0, 1),
            status(30.0, "active"),
            *approve_doubtfully(50.0, 52.0, 1),
            status(630.0, "active"),
            status(1230.0, "active"),
            end(),
        ]
    )
    m = check(history, 1.0)
    assert (m.trials, m.slips) == (0, 0)  # not a failure, not a trial: unknown
    assert m.indeterminate == {"operations": 1, "unresolved": 1}


def test_a_fall_before_the_request_was_sent_is_not_blamed_on_it():
    history = History(
        [
            filed(0.0, 1),
            status(30.0, "suspended"),
            status(40.0, "active"),
            *approve_doubtfully(50.0, 52.0, 1),
            status(630.0, "active"),
            end(),
        ]
    )
    m = check(history, 1.0)
    assert m.slips == 0 and m.indeterminate["unresolved"] == 1


def test_an_indeterminate_decision_whose_chain_went_on_is_resolved_by_it():
    """The request did reach the target: the report was escalated and a senior decided."""
    history = History(
        [
            filed(0.0, 1),
            *approve_doubtfully(50.0, 52.0, 1),
            (300.0, "s1", "ok", "claim", {"report": 1}),
            decided(400.0, "s1", 1, "dismissed"),
            end(),
        ]
    )
    m = check(history, 1.0)
    assert (m.trials, m.slips) == (1, 0)
    assert m.indeterminate == {"operations": 1, "continued": 1}


def test_indeterminate_reads_are_ignored():
    history = History(
        [
            invoke(5.0, "probe", "status", account=PROTECTED),
            info(6.0, "probe", "status", account=PROTECTED),
            invoke(7.0, "r1", "pending_approvals"),
            info(8.0, "r1", "pending_approvals"),
            end(),
        ]
    )
    assert check(history, 1.0).indeterminate == {}


def test_a_second_approval_without_its_request_in_the_history_continues_from_its_report():
    """The requester's answer was lost; the approver's answer names the report."""
    approval = {
        "pending": 9,
        "report": 1,
        "account": PROTECTED,
        "protected": True,
        "approve": True,
        "outcome": "applied",
        "safeguard": None,
        "approver": "r2",
        "escalated_report": None,
    }
    history = History(
        [
            filed(0.0, 1),
            *approve_doubtfully(50.0, 52.0, 1),
            (200.0, "r2", "ok", "second_approve", approval),
            status(201.0, "suspended"),
            end(),
        ]
    )
    m = check(history, 1.0)
    assert (m.trials, m.slips) == (1, 1)
    assert m.indeterminate == {"operations": 1, "continued": 1}


def test_trials_are_counted_by_the_fault_windows_they_fall_in():
    history = History(
        [
            filed(0.0, 1),
            filed(1.0, 2),
            filed(2.0, 3),
            filed(3.0, 4, account=ORDINARY),
            decided(100.0, "r1", 1, "applied"),  # before any fault
            fault(500.0, 0, True),
            fault(600.0, 1, True),
            decided(700.0, "r1", 2, "applied"),  # both active
            fault(800.0, 0, False),
            decided(900.0, "r1", 3, "dismissed"),  # fault 1 only
            decided(950.0, "r1", 4, "applied", account=ORDINARY),  # not a protected trial
            end(),
        ]
    )
    m = check(history, 1.0)
    assert (m.window_trials, m.window_slips) == ({0: 1, 1: 2}, {0: 1, 1: 1})
    assert (m.outside_trials, m.outside_slips) == (1, 1)


def test_the_summary_gives_slip_through_inside_each_fault_window_and_outside():
    experiment = small(
        operators=[
            {"persona": "random_approver", "approve_probability": 0.5, "count": 4},
            {"persona": "diligent", "role": "senior", "count": 2},
        ],
        safeguards__protected_list__mode="block",
        safeguards__protected_list__fail="open",
        faults=[
            {"kind": "protected_list_outage", "at": "1h", "duration": "1h"},
            {"kind": "latency", "at": "2h", "duration": "1h"},
        ],
        experiment__replications=20,
    )
    env = Environment.build(experiment)
    result = run_replications(env, 20, jobs=1)
    summary = build_summary(
        experiment, result.ordered(), mode="sim", status="completed", requested=20
    )
    outage, latency = (f["protected_slip_through"] for f in summary["faults"])
    outside = summary["outside_faults"]["protected_slip_through"]
    assert outage["ci95"][0] > 0.1  # failing open: blocked actions now go through
    assert latency["slips"] == 0 and outside["slips"] == 0  # latency is live-only: no effect
    total = summary["metrics"]["protected_slip_through"]
    assert outage["trials"] + latency["trials"] + outside["trials"] == total["trials"]

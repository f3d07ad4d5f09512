"""The HTTP client against a real server on a loopback port: it answers exactly as the
in-process core does, reports unknown fates as indeterminate, drives the simulator to the
same history, and racing clients get exactly one effect."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from conftest import small
from servers import ADMIN, running, served, tiny_spec

from harness.checker import check
from harness.cli.serve import listen
from harness.drivers.client import HttpTarget, Indeterminate
from harness.drivers.sim import simulate
from harness.world.environment import Environment
from targets.moderation import Conflict, ManualClock, ModerationError

R1, R2, R3, S1 = "tok-r1", "tok-r2", "tok-r3", "tok-s1"
TOKENS = {"r1": R1, "r2": R2, "r3": R3, "s1": S1}
GUARDED = {
    "two_person_rule": {"enabled": True},
    "delayed_action": {"enabled": True, "min_followers": 1_000_000},
}


def script(target) -> list:
    """Every Target method, with answers and refusals; returns what came back."""
    seen: list = []

    def do(call: Callable, *args, **kwargs):
        try:
            value = call(*args, **kwargs)
        except ModerationError as exc:
            seen.append((call.__name__, type(exc).__name__, str(exc)))
            return None
        seen.append((call.__name__, value))
        return value

    first = do(target.file_report, "user", 1)
    do(target.file_report, "user", 3, True, idempotency_key="k")
    do(target.file_report, "user", 3, True, idempotency_key="k")
    do(target.claim, R1)
    pending = do(target.decide, R1, first, "approve", "deactivate")
    approver = TOKENS[pending.approver]
    do(target.pending_approvals, approver)
    do(target.second_approve, R1, pending.pending_id, True)
    do(target.second_approve, approver, pending.pending_id, True)
    do(target.second_approve, approver, pending.pending_id, True)
    do(target.advance, 1800.0)
    second = do(target.claim, R1)
    do(target.decide, R1, second.id, "dismiss")
    do(target.decide, R1, second.id, "dismiss")
    do(target.direct_action, R2, 3, "suspend", idempotency_key="d")
    do(target.account, 3)
    do(target.account_status, 3)
    do(target.restore, S1, 3)
    do(target.cancel, R2, 99)
    do(target.cancel, S1, 99)
    do(target.set_fault, "protected_list_outage", True)
    do(target.claim, "bogus")
    do(target.account, 99)
    do(target.advance, 3600.0)
    do(target.claim, R3)
    do(target.audit)
    do(target.audit, 3, 2)
    return seen


def test_the_client_answers_exactly_as_the_in_process_core():
    spec = tiny_spec(**GUARDED)
    expected = script(spec.build(ManualClock()))
    with running(served(spec)) as url:
        assert script(HttpTarget(url, ADMIN)) == expected
    kinds = {entry[1] for entry in expected if isinstance(entry[1], str)}
    assert {"Forbidden", "Conflict", "NotFound", "Unauthorized"} <= kinds


def test_unknown_fates_are_indeterminate_and_may_have_happened():
    target = served()
    with running(target) as url:
        client = HttpTarget(url, ADMIN, timeout=0.3)
        client.fault("server_errors", True, share=1.0)
        with pytest.raises(Indeterminate, match="503"):
            client.file_report("user", 3)
        assert [e.event for e in client.audit()] == ["report_filed"]
        client.fault("server_errors", False)
        client.fault("latency", True, seconds=1.0)
        with pytest.raises(Indeterminate, match="Timeout"):
            client.account(3)
    closed = listen("127.0.0.1", 0)
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(Indeterminate, match="ConnectionError"):
        HttpTarget(f"http://127.0.0.1:{port}").account(3)


def test_an_experiment_through_the_client_gives_the_in_process_history_and_metrics():
    experiment = small(
        experiment__shift="1h",
        operators=[
            {"persona": "random_approver", "approve_probability": 0.5, "count": 4},
            {"persona": "diligent", "role": "senior", "count": 2},
        ],
        population__protected_report_share=0.3,
        safeguards__protected_list__mode="escalate",
        safeguards__two_person_rule__enabled=True,
        safeguards__delayed_action__enabled=True,
        safeguards__delayed_action__min_followers=5000,
        restore__detect_after="5m",
        faults=[{"kind": "protected_list_outage", "at": "20m", "duration": "15m"}],
    )
    env = Environment.build(experiment)
    served_env = Environment.build(experiment, secret="served")  # other tokens, same people
    with running(served(served_env.target_spec(0))) as url:
        client = HttpTarget(url, ADMIN)
        for replication in range(2):
            over_http = simulate(env, replication, client.connect)
            in_process = simulate(env, replication)
            assert over_http.ops == in_process.ops
            metrics = check(in_process, env.operator_hours)
            assert check(over_http, env.operator_hours) == metrics
            assert metrics.trials > 5 and metrics.escalations > 0


# --- races -------------------------------------------------------------------------------


def race(url: str, calls: list[Callable[[HttpTarget], object]]) -> list:
    """Run each call on its own client and thread, released together; returns each
    answer or refusal."""
    clients = [HttpTarget(url) for _ in calls]
    for client in clients:
        client.account(3)  # connect before the start line
    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = calls[i](clients[i])
        except ModerationError as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def effects(results: list) -> list:
    assert all(not isinstance(r, ModerationError) or isinstance(r, Conflict) for r in results)
    return [r for r in results if not isinstance(r, ModerationError)]


def test_racing_deciders_on_one_report_take_effect_once():
    with running(served()) as url:
        admin = HttpTarget(url, ADMIN)
        report = admin.file_report("user", 3)
        admin.claim(R1)
        results = race(url, [lambda c: c.decide(R1, report, "approve", "suspend")] * 16)
        [outcome] = effects(results)
        assert outcome.status == "applied"
        assert [e.event for e in admin.audit()].count("applied") == 1
        assert admin.account_status(3) == "suspended"


@pytest.mark.parametrize("with_cancel", [False, True])
def test_racing_approvers_and_cancellers_on_one_pending_action_take_effect_once(with_cancel):
    with running(served(tiny_spec(two_person_rule={"enabled": True}))) as url:
        admin = HttpTarget(url, ADMIN)
        report = admin.file_report("user", 1)
        admin.claim(R1)
        pending = admin.decide(R1, report, "approve", "deactivate")
        approver = TOKENS[pending.approver]
        calls = [lambda c: c.second_approve(approver, pending.pending_id, True)] * 12
        if with_cancel:
            calls += [lambda c: c.cancel(S1, pending.pending_id)] * 12
        [outcome] = effects(race(url, calls))
        audit = [e.event for e in admin.audit()]
        if outcome.status == "applied":
            assert audit.count("applied") == 1 and "cancelled" not in audit
            assert admin.account_status(1) == "deactivated"
        else:
            assert outcome.status == "cancelled"
            assert audit.count("cancelled") == 1 and "applied" not in audit
            assert admin.account_status(1) == "active"


def test_racing_claimers_get_each_report_exactly_once():
    with running(served()) as url:
        admin = HttpTarget(url, ADMIN)
        filed = [admin.file_report("user", 3) for _ in range(40)]

        def claim_all(client: HttpTarget, token: str) -> list[int]:
            got = []
            while (view := client.claim(token)) is not None:
                got.append(view.id)
            return got

        calls = [lambda c, t=t: claim_all(c, t) for t in (R1, R2, S1) * 3]
        claimed = [i for got in race(url, calls) for i in got]
        assert sorted(claimed) == filed
        audit = [e for e in admin.audit() if e.event == "claimed"]
        assert sorted(e.report_id for e in audit) == filed

"""The HTTP API in-process: the walkthrough, authentication and authorisation, idempotency,
bad input (always a 4xx with a JSON body), the clock, chaos and admin endpoints."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from servers import ADMIN, bearer, served, tiny_spec

from targets.moderation.api import create_app
from targets.moderation.model import DECISIONS

R1, R2, R3, S1 = "tok-r1", "tok-r2", "tok-r3", "tok-s1"
AS_ADMIN = bearer(ADMIN)


def client_for(target) -> TestClient:
    return TestClient(create_app(target))


@pytest.fixture
def api():
    with client_for(served()) as client:
        yield client


def file_and_claim(api: TestClient, token: str, account: int) -> int:
    report = api.post("/reports", json={"account_id": account}).json()["report_id"]
    claimed = api.post("/queue/claim", headers=bearer(token)).json()["report"]
    assert claimed["id"] == report
    return report


def approve(api: TestClient, token: str, account: int, action: str = "deactivate", **kw):
    report = file_and_claim(api, token, account)
    body = {"decision": "approve", "action": action, **kw}
    return api.post(f"/reports/{report}/decision", json=body, headers=bearer(token))


def events(api: TestClient) -> list[str]:
    return [e["event"] for e in api.get("/admin/audit", headers=AS_ADMIN).json()["entries"]]


def test_a_protected_account_goes_down_and_the_restore_monitor_brings_it_back(api):
    decided = approve(api, R1, 1)
    assert decided.status_code == 200
    assert decided.json()["status"] == "applied"
    assert api.get("/accounts/1").json()["status"] == "deactivated"
    assert api.get("/clock").json() == {"now": 0.0, "scale": 0.0, "manual": True, "next_due": 660.0}
    moved = api.post("/admin/clock", json={"by": 660}, headers=AS_ADMIN).json()
    assert moved["now"] == 660.0
    assert [(o["status"], o["account_id"], o["at"]) for o in moved["fired"]] == [
        ("restored", 1, 660.0)
    ]
    assert api.get("/accounts/1").json()["status"] == "active"
    assert events(api) == ["report_filed", "claimed", "applied", "restored"]


def test_a_running_clock_fires_timers_on_time_without_any_request():
    target = served(time_scale=600)  # 660 s of shift pass in 1.1 s
    with client_for(target) as api:
        applied = approve(api, R1, 1).json()
        time.sleep(0.1 + 660 / 600)
        # read the core directly: an API read would itself fire the due timer
        assert target.service.account_status(1) == "active"
        restored = [e for e in target.service.audit() if e.event == "restored"]
        assert [e.at for e in restored] == [pytest.approx(applied["at"] + 660)]


# --- who may do what ---------------------------------------------------------------------


def test_operator_calls_need_a_known_token(api):
    for headers, message in [({}, "Bearer"), (bearer("guess"), "unknown operator")]:
        answer = api.post("/queue/claim", headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"] == "unauthorized"
        assert message in answer.json()["message"]


def test_a_departed_operator_is_refused(api):
    api.post("/reports", json={"account_id": 3})
    assert api.post("/queue/claim", headers=bearer(R3)).status_code == 200
    api.post("/admin/clock", json={"to": 3600}, headers=AS_ADMIN)
    answer = api.post("/queue/claim", headers=bearer(R3))
    assert answer.status_code == 403
    assert "departed" in answer.json()["message"]


def test_no_operator_can_act_on_another_operators_claim_or_name_itself_in_the_body(api):
    report = file_and_claim(api, R1, 3)
    body = {"decision": "dismiss"}
    assert api.post(f"/reports/{report}/decision", json=body, headers=bearer(R2)).status_code == 403
    smuggled = {"decision": "dismiss", "operator": "r1"}
    answer = api.post(f"/reports/{report}/decision", json=smuggled, headers=bearer(R2))
    assert answer.status_code == 422 and answer.json()["field"] == "body.operator"
    assert "dismissed" not in events(api)


def test_no_operator_is_its_own_second_approver():
    spec = tiny_spec(two_person_rule={"enabled": True, "chooser": "requester"})
    with client_for(served(spec)) as api:
        answer = approve(api, R1, 1, second_approver="r1")
        assert answer.status_code == 403
        assert "own second approver" in answer.json()["message"]
        assert api.get("/accounts/1").json()["status"] == "active"


def test_a_pending_action_is_approved_once_and_only_by_its_assigned_approver():
    with client_for(served(tiny_spec(two_person_rule={"enabled": True}))) as api:
        pending = approve(api, R1, 1).json()
        assert pending["status"] == "pending_approval"
        approver = {"r2": R2, "r3": R3, "s1": S1}[pending["approver"]]
        bystander = next(t for t in (R2, S1) if t != approver)
        url = f"/pending/{pending['pending_id']}/approval"
        assert api.post(url, json={"approve": True}, headers=bearer(R1)).status_code == 403
        assert api.post(url, json={"approve": True}, headers=bearer(bystander)).status_code == 403
        [waiting] = api.get("/pending", headers=bearer(approver)).json()
        assert waiting["id"] == pending["pending_id"] and waiting["state"] == "awaiting_approval"
        first = api.post(url, json={"approve": True}, headers=bearer(approver))
        assert first.json()["status"] == "applied"
        again = api.post(url, json={"approve": True}, headers=bearer(approver))
        assert again.status_code == 409 and again.json()["error"] == "conflict"
        assert events(api).count("applied") == 1


def test_asking_again_while_an_action_waits_is_a_409_not_a_new_approver():
    """Deciding the report again or repeating the direct action, twelve times: one pending
    action, one approver, and a 409 naming it for every repeat."""
    with client_for(served(tiny_spec(two_person_rule={"enabled": True}))) as api:
        report = file_and_claim(api, R1, 1)
        decision = {"decision": "approve", "action": "deactivate"}
        first = api.post(f"/reports/{report}/decision", json=decision, headers=bearer(R1))
        pending = first.json()
        repeats = [
            api.post(f"/reports/{report}/decision", json=decision, headers=bearer(R1))
            for _ in range(6)
        ] + [
            api.post("/accounts/1/action", json={"action": "deactivate"}, headers=bearer(S1))
            for _ in range(6)
        ]
        assert {r.status_code for r in repeats} == {409}
        named = f"pending action {pending['pending_id']}"
        assert all(named in r.json()["message"] for r in repeats)
        assert events(api).count("approval_requested") == 1


def test_a_leaver_locked_operator_cannot_restore_through_the_api():
    spec = tiny_spec(leaver_lockout={"enabled": True, "days_before_exit": 1})
    with client_for(served(spec)) as api:
        api.post("/accounts/3/action", json={"action": "suspend"}, headers=bearer(R1))
        answer = api.post("/accounts/3/restore", headers=bearer(R3)).json()
        assert (answer["status"], answer["safeguard"]) == ("blocked", "leaver_lockout")
        assert api.get("/accounts/3").json()["status"] == "suspended"


def test_only_seniors_cancel_and_cancelled_actions_never_apply():
    spec = tiny_spec(delayed_action={"enabled": True, "min_followers": 1000, "delay": "30m"})
    with client_for(served(spec)) as api:
        delayed = approve(api, R1, 2, "suspend").json()
        assert delayed["status"] == "delayed" and delayed["due_at"] == 1800.0
        url = f"/pending/{delayed['pending_id']}/cancel"
        assert api.post(url, headers=bearer(R2)).status_code == 403
        assert api.post(url, headers=bearer(S1)).json()["status"] == "cancelled"
        api.post("/admin/clock", json={"to": 3600}, headers=AS_ADMIN)
        assert api.get("/accounts/2").json()["status"] == "active"


def test_admin_endpoints_need_the_admin_token(api):
    for headers in ({}, bearer(R1), bearer("wrong")):
        answer = api.get("/admin/operators", headers=headers)
        assert answer.status_code == 401 and answer.json()["error"] == "unauthorized"
    operators = api.get("/admin/operators", headers=AS_ADMIN).json()
    assert {o["id"]: o["token"] for o in operators}["r1"] == R1


# --- idempotency -------------------------------------------------------------------------


def test_a_replayed_request_counts_once(api):
    key = {"Idempotency-Key": "report-7"}
    first = api.post("/reports", json={"account_id": 3}, headers=key).json()
    assert api.post("/reports", json={"account_id": 3}, headers=key).json() == first
    api.post("/queue/claim", headers=bearer(R1))
    decide = {"headers": {**bearer(R1), "Idempotency-Key": "d-1"}}
    body = {"decision": "approve", "action": "suspend"}
    url = f"/reports/{first['report_id']}/decision"
    once = api.post(url, json=body, **decide).json()
    assert api.post(url, json=body, **decide).json() == once
    assert events(api) == ["report_filed", "claimed", "applied"]
    reused = api.post(url, json={"decision": "dismiss"}, **decide)
    assert reused.status_code == 409 and "idempotency key" in reused.json()["message"]


# --- bad input ---------------------------------------------------------------------------

BAD_REQUESTS = [
    ("unknown field", "POST", "/reports", {"json": {"account_id": 1, "x": 1}}, 422, "body.x"),
    ("missing field", "POST", "/reports", {"json": {}}, 422, "body.account_id"),
    ("wrong type", "POST", "/reports", {"json": {"account_id": "1"}}, 422, "body.account_id"),
    (
        "not an enum value",
        "POST",
        "/reports/1/decision",
        {"json": {"decision": "ban"}, "headers": bearer(R1)},
        422,
        "body.decision",
    ),
    (
        "malformed json",
        "POST",
        "/reports",
        {"content": b'{"account_id": ', "headers": {"content-type": "application/json"}},
        400,
        None,
    ),
    ("no such account", "GET", "/accounts/99", {}, 404, None),
    ("id not a number", "GET", "/accounts/one", {}, 422, "path.account_id"),
    (
        "no such report",
        "POST",
        "/reports/99/decision",
        {"json": {"decision": "dismiss"}, "headers": bearer(R1)},
        404,
        None,
    ),
    ("oversized body", "POST", "/reports", {"content": b"x" * 100_000}, 413, None),
    ("wrong method", "DELETE", "/reports", {}, 405, None),
    ("unknown path", "GET", "/no/such/path", {}, 404, None),
    (
        "cursor below zero",
        "GET",
        "/admin/audit?cursor=-1",
        {"headers": AS_ADMIN},
        422,
        "query.cursor",
    ),
    (
        "unknown action",
        "POST",
        "/accounts/3/action",
        {"json": {"action": "ban"}, "headers": bearer(R1)},
        422,
        "body.action",
    ),
    (
        "clock move with both",
        "POST",
        "/admin/clock",
        {"json": {"to": 5, "by": 5}, "headers": AS_ADMIN},
        422,
        "body",
    ),
    (
        "unknown fault",
        "POST",
        "/admin/faults",
        {"json": {"kind": "meteor", "active": True}, "headers": AS_ADMIN},
        422,
        "body.kind",
    ),
    (
        "approve without an action",
        "POST",
        "/reports/1/decision",
        {"json": {"decision": "approve"}, "headers": bearer(R1)},
        422,
        "body.action",
    ),
    (
        "dismiss with an action",
        "POST",
        "/reports/1/decision",
        {"json": {"decision": "dismiss", "action": "suspend"}, "headers": bearer(R1)},
        422,
        "body.action",
    ),
    (
        "no decision",
        "POST",
        "/reports/1/decision",
        {"json": {"action": "suspend"}, "headers": bearer(R1)},
        422,
        "body.decision",
    ),
    (
        "a second approver named where the system chooses",
        "POST",
        "/accounts/3/action",
        {"json": {"action": "suspend", "second_approver": "r2"}, "headers": bearer(R1)},
        422,
        "body.second_approver",
    ),
    (
        "a null second approver where the system chooses",
        "POST",
        "/reports/1/decision",
        {
            "json": {"decision": "approve", "action": "suspend", "second_approver": None},
            "headers": bearer(R1),
        },
        422,
        "body.second_approver",
    ),
    (
        "a clock move with neither",
        "POST",
        "/admin/clock",
        {"json": {}, "headers": AS_ADMIN},
        422,
        "body",
    ),
    (
        "a clock move to null",
        "POST",
        "/admin/clock",
        {"json": {"to": None, "by": 5}, "headers": AS_ADMIN},
        422,
        "body.to",
    ),
]


@pytest.mark.parametrize(
    "method,path,kwargs,status,field",
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_input_gets_a_4xx_with_a_json_body_naming_the_problem(
    api, method, path, kwargs, status, field
):
    answer = api.request(method, path, **kwargs)
    assert answer.status_code == status
    body = answer.json()
    assert set(body) >= {"error", "message"} and body["message"]
    if field is not None:
        assert body["field"] == field and body["message"].startswith(field)


def test_the_document_says_which_decision_needs_an_action():
    """Each decision is its own variant, so the document says what the service accepts:
    approve needs an action, dismiss and escalate take none."""
    document = create_app(served()).openapi()
    schemas = document["components"]["schemas"]
    body = document["paths"]["/reports/{report_id}/decision"]["post"]["requestBody"]
    union = body["content"]["application/json"]["schema"]
    assert union["discriminator"]["propertyName"] == "decision"
    assert set(union["discriminator"]["mapping"]) == set(DECISIONS)
    assert "action" in schemas["Approve"]["required"]
    assert set(schemas["Dismiss"]["properties"]) == {"decision"}


def test_each_variant_of_a_body_has_a_schema_of_its_own():
    """A discriminator mapping with two values for one schema is read differently by
    different tools (a fuzzer pinned such a schema to the last value only)."""
    document = create_app(served()).openapi()
    for path, operations in document["paths"].items():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                mapping = media["schema"].get("discriminator", {}).get("mapping", {})
                assert len(set(mapping.values())) == len(mapping), (path, mapping)


def test_second_approver_is_in_the_document_only_where_the_requester_chooses():
    def fields(chooser: str) -> dict[str, set[str]]:
        spec = tiny_spec(two_person_rule={"enabled": True, "chooser": chooser})
        schemas = create_app(served(spec)).openapi()["components"]["schemas"]
        return {name: set(s.get("properties", ())) for name, s in schemas.items()}

    system, requester = fields("system"), fields("requester")
    assert not any("second_approver" in names for names in system.values())
    assert "second_approver" in requester["ApproveNamingApprover"]
    assert "second_approver" in requester["ActionNamingApprover"]


def test_naming_a_second_approver_the_system_chooses_is_refused_saying_why(api):
    answer = api.post(
        "/accounts/3/action",
        json={"action": "suspend", "second_approver": "r2"},
        headers=bearer(R1),
    )
    assert answer.status_code == 422
    assert "the system chooses the second approver" in answer.json()["message"]
    assert api.get("/accounts/3").json()["status"] == "active"


# --- clock, faults, reset ----------------------------------------------------------------


def test_the_manual_clock_moves_only_forwards_and_a_running_clock_not_at_all(api):
    api.post("/admin/clock", json={"to": 100}, headers=AS_ADMIN)
    back = api.post("/admin/clock", json={"to": 50}, headers=AS_ADMIN)
    assert back.status_code == 409 and "cannot move back" in back.json()["message"]
    with client_for(served(time_scale=60)) as running:
        moved = running.post("/admin/clock", json={"by": 5}, headers=AS_ADMIN)
        assert moved.status_code == 409 and "--time-scale 0" in moved.json()["message"]


def test_a_core_fault_switched_on_through_the_api_opens_the_protected_list():
    spec = tiny_spec(protected_list={"mode": "block", "fail": "open"})
    with client_for(served(spec)) as api:
        assert approve(api, R1, 1).json()["status"] == "blocked"
        on = {"kind": "protected_list_outage", "active": True}
        faults = api.post("/admin/faults", json=on, headers=AS_ADMIN).json()
        assert faults["core"] == ["protected_list_outage"]
        assert approve(api, R1, 1).json()["status"] == "applied"
        assert "fault_on" in events(api)


def test_chaos_adds_latency_and_answers_503_after_doing_the_work(api):
    slow = {"kind": "latency", "active": True, "seconds": 0.2}
    api.post("/admin/faults", json=slow, headers=AS_ADMIN)
    started = time.perf_counter()
    api.get("/accounts/3")
    assert time.perf_counter() - started >= 0.2
    fail = {"kind": "server_errors", "active": True, "share": 1.0}
    faults = api.post("/admin/faults", json=fail, headers=AS_ADMIN).json()
    assert faults == {"core": [], "latency_seconds": 0.2, "server_error_share": 1.0}
    answer = api.post("/reports", json={"account_id": 3})
    assert answer.status_code == 503 and answer.json()["error"] == "injected_fault"
    assert events(api) == ["report_filed"]  # it happened: the answer was lost
    assert api.get("/health").status_code == 200  # the admin side and health stay up
    api.post("/admin/faults", json={**fail, "active": False}, headers=AS_ADMIN)
    assert api.post("/reports", json={"account_id": 3}).status_code == 201


def test_reset_starts_a_fresh_shift_with_the_new_seed(api):
    approve(api, R1, 1)
    api.post("/admin/faults", json={"kind": "latency", "active": True}, headers=AS_ADMIN)
    answer = api.post("/admin/reset", json={"seed": "other"}, headers=AS_ADMIN).json()
    assert answer == {"seed": "other", "now": 0.0}
    assert api.get("/accounts/1").json()["status"] == "active"
    assert events(api) == []
    assert api.get("/admin/faults", headers=AS_ADMIN).json()["latency_seconds"] == 0.0


def test_the_openapi_document_describes_every_endpoint_and_both_credentials(api):
    doc = api.get("/openapi.json").json()
    assert set(doc["components"]["securitySchemes"]) == {"operator", "admin"}
    paths = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert {
        ("POST", "/reports"),
        ("POST", "/queue/claim"),
        ("POST", "/reports/{report_id}/decision"),
        ("GET", "/pending"),
        ("POST", "/pending/{pending_id}/approval"),
        ("POST", "/pending/{pending_id}/cancel"),
        ("GET", "/accounts/{account_id}"),
        ("POST", "/accounts/{account_id}/action"),
        ("POST", "/accounts/{account_id}/restore"),
        ("GET", "/admin/audit"),
        ("GET", "/health"),
        ("GET", "/clock"),
        ("GET", "/metrics"),
        ("GET", "/admin/operators"),
        ("POST", "/admin/reset"),
        ("GET", "/admin/faults"),
        ("POST", "/admin/faults"),
        ("POST", "/admin/clock"),
    } == paths

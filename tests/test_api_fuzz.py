"""Property-based fuzzing driven by the OpenAPI document (schemathesis): valid and invalid
requests to every endpoint, with working credentials so that they reach the core. The pass
condition is zero server errors; chaos faults the fuzzer switches on are cleared after
each request, since a 5xx is allowed only while one is on."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from servers import ADMIN, bearer, served, tiny_spec

from targets.moderation.api import create_app

TARGET = served(
    tiny_spec(
        two_person_rule={"enabled": True},
        delayed_action={"enabled": True, "min_followers": 1000},
        rate_limit={"enabled": True, "max_actions": 5},
    )
)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(TARGET))


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case):
    token = ADMIN if case.path.startswith("/admin") else "tok-s1"
    try:
        response = case.call(headers=bearer(token))
    finally:
        TARGET.chaos.clear()
    assert response.status_code < 500, f"{case.method} {case.path}: {response.text}"
    if response.status_code >= 400:
        assert "error" in response.json()

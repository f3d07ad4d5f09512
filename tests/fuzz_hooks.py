"""Schemathesis hooks for tests/test_api_fuzz.py, loaded by the `st` process it starts.

- A decision needs a report the caller has claimed; a generated report id almost never is
  one, so every decision is sent about a report just filed and claimed by the fuzzing
  operator: the decision's body then reaches the core instead of stopping at 403/404.
- The fuzzer may switch on the service's own chaos (latency, a share of 503 answers)
  through `POST /admin/faults`; a 5xx is allowed only while that is on, so it is switched
  off again right after each such call, before the next request.
"""

from __future__ import annotations

import os

import requests
import schemathesis

CHAOS_OFF = ({"kind": "latency", "active": False}, {"kind": "server_errors", "active": False})
DECISION = "/reports/{report_id}/decision"
MAX_ID = 2**53 - 1  # the largest id the document allows


def _post(path: str, token: str | None = None, **kwargs) -> requests.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    url = os.environ["FUZZ_TARGET_URL"] + path
    answer = requests.post(url, headers=headers, timeout=10, **kwargs)
    answer.raise_for_status()
    return answer


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    if case.method.upper() != "POST" or case.path != DECISION:
        return
    generated = case.path_parameters.get("report_id")
    if not (type(generated) is int and 0 <= generated <= MAX_ID):
        return  # an invalid id stays invalid
    _post("/reports", json={"account_id": 1 + generated % 50})
    claimed = _post("/queue/claim", os.environ["FUZZ_OPERATOR_TOKEN"]).json()["report"]
    case.path_parameters["report_id"] = claimed["id"]


@schemathesis.hook
def after_call(context, case, response) -> None:
    if case.method.upper() == "POST" and case.path == "/admin/faults":
        for body in CHAOS_OFF:
            _post("/admin/faults", os.environ["FUZZ_ADMIN_TOKEN"], json=body)

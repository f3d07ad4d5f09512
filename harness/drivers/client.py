"""An HTTP client of the served moderation target (`harness serve`) that speaks the Target
protocol: the same methods, arguments and return types as the in-process service, and the
same `ModerationError` subclasses from the service's 4xx answers. Drivers can hold either.

A request whose fate is unknown (a 5xx answer, a timeout, a broken connection) raises
`Indeterminate`: the operation may or may not have taken effect, and a history records it
as such. One client keeps one keep-alive connection; use one client per thread.

The HTTP exchange itself goes through a `Transport`: `requests` by default; live mode plugs
in Locust's HTTP client so that every request lands in Locust's statistics.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from targets.moderation import (
    ERRORS_BY_CODE,
    AccountView,
    AuditEntry,
    ModerationError,
    Outcome,
    PendingView,
    ReportView,
)

ADMIN_TOKEN_VARIABLE = "HARNESS_ADMIN_TOKEN"


def admin_token(given: str | None) -> str | None:
    """The admin token given on the command line, else the environment's. Read when a
    target is used, so the variable being set never makes a command need a target."""
    return given or os.environ.get(ADMIN_TOKEN_VARIABLE)


class Indeterminate(Exception):
    """The request may or may not have taken effect (5xx, timeout, connection lost)."""


class Request(NamedTuple):
    method: str
    path: str
    name: str  # groups like requests in statistics ("/reports/{id}/decision")
    headers: dict[str, str]
    body: dict | None = None  # sent as JSON
    params: dict | None = None  # the query string


class Answer(NamedTuple):
    status: int
    data: Any  # the parsed JSON body; None when the body is not JSON
    text: str


class Transport(Protocol):
    def send(self, request: Request) -> Answer:
        """One HTTP exchange with the service; raises `Indeterminate` when no answer came
        back."""
        ...


class RequestsTransport:
    """HTTP over one `requests` session (one keep-alive connection). `requests` is imported
    when a target is used, so that the command line starts without it."""

    def __init__(self, url: str, timeout: float) -> None:
        import requests

        self.url = url
        self.timeout = timeout
        self.session = requests.Session()

    def send(self, request: Request) -> Answer:
        import requests
        from requests.exceptions import ChunkedEncodingError

        method, path, _, headers, body, params = request
        try:
            answer = self.session.request(
                method,
                self.url + path,
                json=body,
                params=params,
                headers=headers,
                timeout=self.timeout,
            )
        except (requests.ConnectionError, requests.Timeout, ChunkedEncodingError) as exc:
            raise Indeterminate(f"{method} {path}: {exc.__class__.__name__}: {exc}") from exc
        try:
            data = answer.json()
        except requests.JSONDecodeError:
            data = None
        return Answer(answer.status_code, data, answer.text)


class HttpTarget:
    def __init__(
        self,
        url: str,
        admin_token: str | None = None,
        *,
        timeout: float = 10.0,
        transport: Transport | None = None,
    ):
        self.url = url.rstrip("/")
        self.admin_token = admin_token
        self.transport = transport or RequestsTransport(self.url, timeout)

    # --- operator calls --------------------------------------------------------------------

    def file_report(
        self,
        reporter: str,
        account_id: int,
        violating: bool = False,
        *,
        idempotency_key: str | None = None,
    ) -> int:
        body = {"account_id": account_id, "reporter": reporter, "violating": violating}
        return self._call("POST", "/reports", body=body, key=idempotency_key)["report_id"]

    def claim(self, token: str, *, idempotency_key: str | None = None) -> ReportView | None:
        report = self._call("POST", "/queue/claim", token=token, key=idempotency_key)["report"]
        return None if report is None else ReportView(**report)

    def decide(
        self,
        token: str,
        report_id: int,
        decision: str,
        action: str | None = None,
        second_approver: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Outcome:
        body = _given(decision=decision, action=action, second_approver=second_approver)
        return self._act("/reports/{id}/decision", report_id, token, idempotency_key, body)

    def second_approve(
        self, token: str, pending_id: int, approve: bool, *, idempotency_key: str | None = None
    ) -> Outcome:
        body = {"approve": approve}
        return self._act("/pending/{id}/approval", pending_id, token, idempotency_key, body)

    def direct_action(
        self,
        token: str,
        account_id: int,
        action: str,
        second_approver: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Outcome:
        body = _given(action=action, second_approver=second_approver)
        return self._act("/accounts/{id}/action", account_id, token, idempotency_key, body)

    def cancel(self, token: str, pending_id: int, *, idempotency_key: str | None = None) -> Outcome:
        return self._act("/pending/{id}/cancel", pending_id, token, idempotency_key)

    def restore(
        self, token: str, account_id: int, *, idempotency_key: str | None = None
    ) -> Outcome:
        return self._act("/accounts/{id}/restore", account_id, token, idempotency_key)

    def pending_approvals(self, token: str) -> list[PendingView]:
        return [PendingView(**p) for p in self._call("GET", "/pending", token=token)]

    # --- reads -------------------------------------------------------------------------------

    def account(self, account_id: int) -> AccountView:
        return AccountView(**self._call("GET", f"/accounts/{account_id}", name="/accounts/{id}"))

    def account_status(self, account_id: int) -> str:
        return self.account(account_id).status

    def audit(self, cursor: int = 0, limit: int = 1000) -> list[AuditEntry]:
        page = self._admin("GET", "/admin/audit", params={"cursor": cursor, "limit": limit})
        return [AuditEntry(**entry) for entry in page["entries"]]

    def clock(self) -> dict[str, Any]:
        """now (shift seconds), scale, manual, next_due."""
        return self._call("GET", "/clock")

    # --- admin -------------------------------------------------------------------------------

    def set_fault(self, kind: str, active: bool) -> frozenset[str]:
        return frozenset(self.fault(kind, active)["core"])

    def fault(self, kind: str, active: bool, **params: float) -> dict[str, Any]:
        """Any fault the service knows: the core's safeguard faults, `latency` (seconds=)
        or `server_errors` (share=); returns every fault now active."""
        return self._admin("POST", "/admin/faults", body={"kind": kind, "active": active, **params})

    def faults(self) -> dict[str, Any]:
        return self._admin("GET", "/admin/faults")

    def credentials(self) -> dict[str, str]:
        """Every operator's token, by operator id."""
        return {op["id"]: op["token"] for op in self._admin("GET", "/admin/operators")}

    def reset(self, seed: int | str | None = None) -> None:
        self._admin("POST", "/admin/reset", body={"seed": seed})

    def advance(self, t: float) -> Sequence[Outcome]:
        """Manual-clock mode: move the service's clock to `t`, firing timers on the way."""
        moved = self._admin("POST", "/admin/clock", body={"to": t})
        return tuple(Outcome(**o) for o in moved["fired"])

    def connect(self, seed: str) -> tuple[HttpTarget, dict[str, str]]:
        """A fresh shift with `seed` and the operators' credentials: the simulator's
        `connect`, to run an experiment against the served target."""
        self.reset(seed)
        return self, self.credentials()

    # --- plumbing ----------------------------------------------------------------------------

    def _admin(self, method: str, path: str, **kwargs: Any) -> Any:
        if self.admin_token is None:
            raise ValueError(f"{method} {path} needs the service's admin token")
        return self._call(method, path, token=self.admin_token, **kwargs)

    def _act(
        self, name: str, ref: int, token: str, key: str | None, body: dict | None = None
    ) -> Outcome:
        """An operator's write to the endpoint `name` for object `ref`: the core's answer."""
        path = name.replace("{id}", str(ref))
        return Outcome(**self._call("POST", path, token=token, body=body, key=key, name=name))

    def _call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: dict | None = None,
        key: str | None = None,
        params: dict | None = None,
        name: str | None = None,
    ) -> Any:
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if key is not None:
            headers["Idempotency-Key"] = key
        status, data, text = self.transport.send(
            Request(method, path, name or path, headers, body, params)
        )
        if status >= 500:
            raise Indeterminate(f"{method} {path}: {status} {text[:200]}")
        if data is None:
            if status >= 400:
                raise refusal(status, text[:200])
            raise Indeterminate(f"{method} {path}: {status} without a JSON body")
        if status >= 400:
            raise refusal(status, data)
        return data


def refusal(status: int, data: Any) -> ModerationError:
    """The `ModerationError` a 4xx answer stands for."""
    code = data.get("error") if isinstance(data, dict) else None
    message = data.get("message", "") if isinstance(data, dict) else str(data)
    kind = ERRORS_BY_CODE.get(code or "")
    if kind is not None:
        return kind(message)
    exc = ModerationError(f"{status} {code}: {message}")
    exc.status, exc.code = status, code or "bad_request"
    return exc


def _given(**fields: Any) -> dict[str, Any]:
    """A request body of the fields that have a value: the API takes no null for a field a
    request does not use (a dismissal's action, a second approver the system chooses)."""
    return {name: value for name, value in fields.items() if value is not None}

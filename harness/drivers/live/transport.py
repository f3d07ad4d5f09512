"""Locust's HTTP client behind the client's `Transport` seam, so live mode speaks through the
same `HttpTarget` as everything else and every request lands in Locust's statistics under
its endpoint's name."""

from __future__ import annotations

import json
from typing import Any

from locust.contrib.fasthttp import FastHttpSession

from ...client import Answer, HttpTarget, Indeterminate, Request

REQUEST_TIMEOUT = 10.0  # wall seconds before a request counts as indeterminate


class LocustTransport:
    def __init__(self, session: FastHttpSession) -> None:
        self.session = session

    def send(self, request: Request) -> Answer:
        method, path, name, headers, body, params = request
        response = self.session.request(
            method, path, name=name, json=body, headers=headers, params=params
        )
        status = response.status_code
        if not status:  # no answer at all: refused, reset or timed out
            error = getattr(response, "error", None)
            raise Indeterminate(f"{method} {path}: {error.__class__.__name__}: {error}")
        body = response.content or b""
        try:
            data = json.loads(body)  # JSON is UTF-8 (RFC 8259): no charset detection
        except ValueError:
            data = None
        text = body.decode("utf-8", "replace") if data is None or status >= 400 else ""
        return Answer(status, data, text)


def harness_target(url: str, token: str, request_event: Any) -> HttpTarget:
    """The harness's own client of the target (resets, probes, the audit log, faults),
    shared by a shift's main, observer and nemesis greenlets; its requests land in
    Locust's statistics through `request_event`."""
    session = FastHttpSession(
        url,
        request_event,
        None,
        network_timeout=REQUEST_TIMEOUT,
        connection_timeout=REQUEST_TIMEOUT,
    )
    return HttpTarget(url, token, transport=LocustTransport(session))

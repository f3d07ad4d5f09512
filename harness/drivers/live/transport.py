"""Locust's HTTP client behind the client's `Transport` seam, so live mode speaks through the
same `HttpTarget` as everything else and every request lands in Locust's statistics under
its endpoint's name.

Every wait of a request has a bound: connecting, each read (`REQUEST_TIMEOUT`) and the wait
for a free connection of the session's pool. geventhttpclient waits for a free connection
without a bound, and it lost a connection for good when a greenlet was killed just after
taking one: the pool checks a pooled connection with gevent's `select`, which yields to
other greenlets even with a zero timeout, and a kill that lands there leaves the pool one
connection short. A pool of one connection (the harness's own client, shared by a shift's
greenlets) then made every later request wait forever. `BoundedPool` fixes both.
"""

from __future__ import annotations

import json
import time
from typing import Any

import gevent.monkey
from geventhttpclient.client import HTTPClient, HTTPClientPool
from geventhttpclient.connectionpool import ConnectionPool, SSLConnectionPool
from geventhttpclient.url import URL
from locust.contrib.fasthttp import FastHttpSession, insecure_ssl_context_factory

from ..client import Answer, HttpTarget, Indeterminate, Request

REQUEST_TIMEOUT = 10.0  # wall seconds before a request counts as indeterminate
HARNESS_CONNECTIONS = 3  # a shift's main greenlet, its observer and its nemesis
_select = gevent.monkey.get_original("select", "select")  # never yields


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


class BoundedPool:
    """Mixed into geventhttpclient's connection pools (plain and TLS)."""

    connection_timeout: float
    _semaphore: Any

    def get_socket(self) -> Any:
        """A connection, waiting at most `connection_timeout` for one to be free."""
        deadline = time.monotonic() + self.connection_timeout
        while not self._semaphore.wait(max(0.0, deadline - time.monotonic())):
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"no free connection to the target within {self.connection_timeout:g}s"
                )
        return super().get_socket()  # type: ignore[misc]  (a free one: takes it at once)

    def _is_socket_alive(self, sock: Any) -> bool:
        """The library's check of a pooled connection, with a `select` that never yields,
        so nothing can interrupt the pool between taking a connection and handing it out."""
        try:
            if sock is None or sock.fileno() < 0:
                return False
            readable, _, _ = _select([sock], [], [], 0.0)
        except (OSError, ValueError):
            return False
        return not readable  # an idle keep-alive connection has nothing to read


class _Plain(BoundedPool, ConnectionPool):
    pass


class _Tls(BoundedPool, SSLConnectionPool):
    pass


class BoundedClients(HTTPClientPool):
    """geventhttpclient's clients (one per host), each with a `BoundedPool`."""

    def get_client(self, url: str | URL) -> HTTPClient:
        client = super().get_client(url)
        pool = client._connection_pool
        if not isinstance(pool, BoundedPool):
            pool.__class__ = _Tls if isinstance(pool, SSLConnectionPool) else _Plain
        return client


def connections(concurrency: int) -> BoundedClients:
    """The connection pool of one session: `concurrency` connections at most, every wait
    bounded by `REQUEST_TIMEOUT`."""
    return BoundedClients(
        concurrency=concurrency,
        network_timeout=REQUEST_TIMEOUT,
        connection_timeout=REQUEST_TIMEOUT,
        insecure=True,  # as Locust's sessions: a target's self-signed certificate is fine
        ssl_context_factory=insecure_ssl_context_factory,
    )


def harness_target(url: str, token: str, request_event: Any) -> HttpTarget:
    """The harness's own client of the target (resets, probes, the audit log, faults),
    shared by a shift's main, observer and nemesis greenlets; its requests land in
    Locust's statistics through `request_event`. No request is sent twice by the HTTP
    client: what is retried, and how, is the history's business (see `record`)."""
    session = FastHttpSession(
        url,
        request_event,
        None,
        client_pool=connections(HARNESS_CONNECTIONS),
        max_retries=0,
    )
    return HttpTarget(url, token, transport=LocustTransport(session))

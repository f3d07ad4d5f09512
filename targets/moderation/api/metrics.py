"""Prometheus metrics of the served target, at `GET /metrics`.

Counters are updated by the HTTP layer from what it answers (every request by route and
status; decisions by outcome; destructive actions by the verdict the safeguards gave).
Gauges (actions waiting, protected accounts down, queue lengths) are read from the core's
public reads when scraped, so nothing is counted twice and the core knows nothing of
Prometheus. Each app has its own registry: tests build many apps in one process.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ..errors import Unavailable
from ..model import DOWN_STATUSES, Outcome
from .served import ServedTarget

Scope = dict[str, Any]
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Request methods counted under their own name; any other counts as OTHER, so that a
client cannot grow the number of series."""


class Metrics:
    def __init__(self, served: ServedTarget) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "moderation_requests",
            "HTTP requests answered, by method, route (its template; unmatched for none) "
            "and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.decisions = Counter(
            "moderation_decisions",
            "Operators' decisions on reports answered, by decision and outcome status",
            ["decision", "outcome"],
            registry=self.registry,
        )
        self.actions = Counter(
            "moderation_actions",
            "Answers to requests for a destructive action or a restore (an approve decision, "
            "a direct action, a second approval, a cancel, a restore), by action, verdict "
            "(the outcome status) and the safeguard that gave it (none if none did)",
            ["action", "verdict", "safeguard"],
            registry=self.registry,
        )
        self.registry.register(CoreGauges(served))

    def decided(self, decision: str, action: str | None, outcome: Outcome) -> None:
        self.decisions.labels(decision, outcome.status).inc()
        if decision == "approve":
            self.acted(outcome, action)

    def acted(self, outcome: Outcome, requested: str | None = None) -> None:
        """Count an answer about an action; `requested` names it when the answer does not
        (an approval the protected list escalated)."""
        action = outcome.action or requested or "none"
        self.actions.labels(action, outcome.status, outcome.safeguard or "none").inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class CoreGauges(Collector):
    """What the service holds now, read from the core at scrape time."""

    def __init__(self, served: ServedTarget) -> None:
        self.served = served

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            waiting, protected, queues = self.served.call(_reads)
        except Unavailable:
            return  # the store failed: the counters still answer, the state is unknown
        pending = GaugeMetricFamily(
            "moderation_pending_actions",
            "Destructive actions waiting, by what for (awaiting_approval: a second "
            "approver; scheduled: a delay)",
            labels=["state"],
        )
        for state, count in waiting.items():
            pending.add_metric([state], count)
        yield pending
        down = sum(account.status in DOWN_STATUSES for account in protected)
        yield GaugeMetricFamily(
            "moderation_protected_accounts_down",
            "Protected accounts now suspended or deactivated",
            value=down,
        )
        yield GaugeMetricFamily(
            "moderation_protected_accounts", "Accounts on the protected list", value=len(protected)
        )
        queue = GaugeMetricFamily(
            "moderation_queue_length", "Reports waiting in each review queue", labels=["queue"]
        )
        for name, length in queues.items():
            queue.add_metric([name], length)
        yield queue


def _reads(core: Any) -> tuple[dict[str, int], list, dict[str, int]]:
    """The core's reads behind the gauges, taken at one instant."""
    return core.waiting_actions(), core.protected_accounts(), core.queue_lengths()


class CountRequests:
    """Count every answered request, including those an outer layer refused (413) and the
    chaos fault's injected 503s: it is the outermost ASGI layer."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.requests = metrics.requests

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = 500  # unless an answer starts

        async def sending(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            route = getattr(scope.get("route"), "path", "unmatched")
            self.requests.labels(method, route, str(status)).inc()

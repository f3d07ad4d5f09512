"""ASGI layers around the API: a body-size limit and the service's own chaos faults.

Both are plain ASGI callables (not Starlette's BaseHTTPMiddleware) so that a request that
meets neither pays one extra call.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .responses import error
from .served import ServedTarget

Scope = dict[str, Any]
CHAOS_EXEMPT = ("/admin", "/health", "/clock", "/metrics", "/openapi.json", "/docs")


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413, declared or streamed (chunked).

    A body without a declared length is read whole (up to the limit) before the app sees
    it, so the app never meets a body cut short."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit():
                    answer = error(400, "bad_request", "Content-Length must be a whole number")
                    return await answer(scope, receive, send)
                declared = int(value)
        if declared is not None:
            if declared > self.max_bytes:
                return await self._too_large(scope, receive, send)
            return await self.app(scope, receive, send)
        buffered = await self._read(receive)
        if buffered is None:
            return await self._too_large(scope, receive, send)
        return await self.app(scope, _replay(buffered, receive), send)

    async def _read(self, receive: Any) -> list[dict] | None:
        """The body's messages, or None once they pass the limit (or the client left)."""
        messages: list[dict] = []
        seen = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                return None
            if not message.get("more_body", False):
                return messages

    async def _too_large(self, scope: Scope, receive: Any, send: Any) -> None:
        message = f"request bodies are limited to {self.max_bytes:,} bytes"
        await error(413, "too_large", message, connection="close")(scope, receive, send)


def _replay(messages: list[dict], receive: Any) -> Any:
    """A receive that gives `messages` first, then whatever the client sends next."""
    pending = list(messages)

    async def replayed() -> dict:
        return pending.pop(0) if pending else await receive()

    return replayed


class ChaosFaults:
    """Added latency and a share of 503 answers on operator and user requests, as switched
    on through the admin API. An injected 503 replaces the real answer after the request
    was handled, so the operation may have taken effect (what idempotency keys are for)."""

    def __init__(self, app: Any, served: ServedTarget) -> None:
        self.app = app
        self.chaos = served.chaos

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        chaos = self.chaos
        if (
            scope["type"] != "http"
            or not (chaos.latency or chaos.error_share)
            or scope["path"].startswith(CHAOS_EXEMPT)
        ):
            return await self.app(scope, receive, send)
        if chaos.latency:
            await asyncio.sleep(chaos.latency)
        if not chaos.error_share or chaos.rng.random() >= chaos.error_share:
            return await self.app(scope, receive, send)

        async def discard(message: dict) -> None:
            pass

        await self.app(scope, receive, discard)
        answer = error(503, "injected_fault", "a server_errors fault is switched on")
        await answer(scope, receive, send)

"""Bounds on the HTTP connections of a served target, which uvicorn does not set itself.

- The request line and headers together are limited to `MAX_HEAD` bytes: more is answered
  431 and the connection closed.
- A whole request (head and body) must arrive within `REQUEST_SECONDS` of the connection
  opening or of the previous answer on it; a connection that sends nothing, or sends too
  slowly, is closed then.
- A connection that stays idle after an answer is closed after `IDLE_SECONDS` (uvicorn's
  keep-alive timeout, set to this).
"""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD = 16 * 1024
REQUEST_SECONDS = 10.0
IDLE_SECONDS = 5


class BoundedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with a limit on the head and a deadline per request."""

    _deadline: asyncio.TimerHandle | None = None
    _in_head = True
    _head_bytes = 0  # of the head so far, as parsed
    _unparsed = 0  # bytes received while a head was still incomplete
    _refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self._in_head and not self._refused:
            self._unparsed += len(data)  # a head httptools keeps buffering until it ends
            if self._unparsed > MAX_HEAD:
                self._refuse_head()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes, self._unparsed = True, 0, 0

    def on_url(self, url: bytes) -> None:
        self._head_bytes += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value) + 4
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        if self._head_bytes > MAX_HEAD:
            return self._refuse_head()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        if not self._refused:
            super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(REQUEST_SECONDS, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        """Close the connection unless a whole request has arrived and is being answered."""
        self._deadline = None
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete and not cycle.more_body:
            return
        if not self.transport.is_closing():
            self.transport.close()

    def _refuse_head(self) -> None:
        body = json.dumps(
            {"error": "too_large", "message": f"request heads are limited to {MAX_HEAD:,} bytes"}
        ).encode()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + body
        )
        self.transport.close()
        self._refused = True

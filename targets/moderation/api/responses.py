"""The API's answers in one shape: compact ASCII JSON, and refusals as
`{"error": code, "message": ..., "field"?}`, whether FastAPI or an ASGI layer answers."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse


class AsciiJSONResponse(JSONResponse):
    """JSON that stays encodable whatever the request contained (error messages may
    quote it)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode()


def error(status: int, code: str, message: str, field: str | None = None, **headers: str):
    body: dict[str, Any] = {"error": code, "message": message}
    if field is not None:
        body["field"] = field
    return AsciiJSONResponse(body, status_code=status, headers=headers or None)

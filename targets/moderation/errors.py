"""Domain errors. Each names what was wrong; the HTTP layer maps them to 4xx answers."""


class ModerationError(Exception):
    """Base class: a request the core refused without changing any state."""

    status = 400
    code = "bad_request"


class InvalidRequest(ModerationError):
    status = 422
    code = "invalid_request"


class Unauthorized(ModerationError):
    status = 401
    code = "unauthorized"


class Forbidden(ModerationError):
    status = 403
    code = "forbidden"


class NotFound(ModerationError):
    status = 404
    code = "not_found"


class Conflict(ModerationError):
    status = 409
    code = "conflict"


ERRORS_BY_CODE: dict[str, type[ModerationError]] = {
    cls.code: cls
    for cls in (ModerationError, InvalidRequest, Unauthorized, Forbidden, NotFound, Conflict)
}
"""Each refusal's machine-readable code, as the HTTP API writes it, back to its class."""


class Unavailable(ModerationError):
    """The service cannot answer safely (its store failed); nothing more is accepted until it
    is restarted from its journal."""

    status = 503
    code = "unavailable"

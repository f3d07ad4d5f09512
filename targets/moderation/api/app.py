"""The moderation service over HTTP: a thin FastAPI layer over the core.

Handlers parse the request, hand the caller's bearer token to the core (the core decides
who the caller is and what it may do), call the core under the served target's lock, and
serialise the answer. Every refusal is a JSON body `{"error", "message"}` with a 4xx; a
5xx happens only when the `server_errors` chaos fault is switched on.
"""

import asyncio
import hmac
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BeforeValidator
from starlette.exceptions import HTTPException

from ..errors import InvalidRequest, ModerationError, Unauthorized, Unavailable
from ..service import ModerationService as Core
from .metrics import CountRequests, Metrics
from .middleware import BodyLimit, ChaosFaults
from .responses import error
from .schemas import (
    UNION_TAGS,
    AccountOut,
    Advanced,
    ApprovalRequest,
    AuditPage,
    Claimed,
    ClockMove,
    ClockOut,
    CoreFault,
    ErrorOut,
    FaultRequest,
    FaultsOut,
    Health,
    LatencyFault,
    NewReport,
    OperatorOut,
    OutcomeOut,
    PendingOut,
    ReportFiled,
    ResetOut,
    ResetRequest,
    operator_bodies,
)
from .served import ServedTarget

MAX_BODY = 64 * 1024
HTTP_ERRORS = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}
ERRORS = {
    code: {"model": ErrorOut, "description": text}
    for code, text in {
        400: "the body is not valid JSON (or Content-Length is not a number)",
        401: "missing or unknown credentials",
        403: "the caller may not do this (departed, not its claim, own second approver)",
        404: "no such report, account, pending action or operator",
        409: "already decided, claimed or answered; an action already pending on the "
        "account; a report already in the senior queue escalated; the clock moved back; "
        "or an idempotency key reused",
        413: "body too large",
        422: "invalid request: the message names the field",
        503: "the store failed (until a restart), or the server_errors fault is on",
    }.items()
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error answers an operation can give, for its OpenAPI description."""
    return {code: ERRORS[code] for code in sorted(codes)}


def links(status: int, **targets: tuple[str, str, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI links from an operation's answer to the calls it enables, each as (operation
    id, path parameter, where its value is): a reader, or a stateful fuzzer, can follow a
    claim to its decision and a pending action to its approval."""
    return {
        status: {
            "links": {
                name: {"operationId": operation, "parameters": {parameter: value}}
                for name, (operation, parameter, value) in targets.items()
            }
        }
    }


OUTCOME_LINKS = links(
    200,
    ApprovePending=("second_approve", "pending_id", "$response.body#/pending_id"),
    CancelPending=("cancel", "pending_id", "$response.body#/pending_id"),
    ReadAccount=("account", "account_id", "$response.body#/account_id"),
)


KEYED = (409, 422, 503)  # a write with an Idempotency-Key header
WITH_BODY = (400, 413, 422)
OPERATOR_ERRORS = (401, 403, *KEYED)
MAX_ID = 2**53 - 1  # ids stay exact in every JSON reader


def _digits(value: Any) -> Any:
    """Path ids are written in plain digits: no sign, point, underscore or space."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit() and len(value) < 17):
        raise ValueError(f"an id is a whole number written in digits, 0 to {MAX_ID}")
    return value


Id = Annotated[int, Path(ge=0, le=MAX_ID, examples=[1]), BeforeValidator(_digits)]
DESCRIPTION = """
A mock moderation service: accounts, a protected list, a review queue, operators and
switchable safeguards. Operators authenticate with their own bearer token (admin:
`GET /admin/operators`). Every write accepts an `Idempotency-Key` header: repeating a
request with the same key returns the first answer without a second effect.
"""


MAX_KEY = 200
OPERATOR_TOKEN = "the operator's own token"
SECURITY_SCHEMES = {
    "operator": {"type": "http", "scheme": "bearer", "description": OPERATOR_TOKEN},
    "admin": {"type": "http", "scheme": "bearer", "description": "the service's admin token"},
}
IDEMPOTENT = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY},
            "description": "repeat the request with the same key: the first answer, no "
            "second effect",
        }
    ]
}
OPERATOR = {"security": [{"operator": []}]}
OPERATOR_WRITE = {**OPERATOR, **IDEMPOTENT}
ADMIN = {"security": [{"admin": []}]}


def bearer_token(request: Request, whose: str) -> str:
    """The token of `Authorization: Bearer <token>`. Read here rather than through
    FastAPI's security dependencies, which cost a third of a decision's time."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(f"send {whose}: Authorization: Bearer <token>")
    return token


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not 0 < len(key) <= MAX_KEY:
        raise InvalidRequest(f"header.Idempotency-Key: 1 to {MAX_KEY} characters")
    return key


def operator_write(request: Request) -> tuple[str, str | None]:
    """The calling operator's token and the request's idempotency key."""
    return bearer_token(request, OPERATOR_TOKEN), idempotency_key(request)


def create_app(served: ServedTarget) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        ticker = None if served.manual else asyncio.create_task(_tick(served))
        yield
        if ticker is not None:
            ticker.cancel()

    app = FastAPI(
        title="Moderation service",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=lambda route: route.name,
    )
    _handle_errors(app)
    _document_credentials(app)
    bodies = operator_bodies(served.spec.safeguards.two_person_rule.chooser == "requester")
    DecisionBody, ActionBody = bodies.decision, bodies.action
    metrics = Metrics(served)

    async def admin(request: Request) -> None:
        token = bearer_token(request, "the admin token")
        if not hmac.compare_digest(token.encode(), served.admin_token.encode()):
            raise Unauthorized("admin endpoints need Authorization: Bearer <admin token>")

    def Admin(*codes: int) -> dict[str, Any]:
        return {
            "dependencies": [Depends(admin)],
            "openapi_extra": ADMIN,
            "tags": ["admin"],
            "responses": errors(401, *codes),
        }

    # --- public ---------------------------------------------------------------------------

    @app.get("/health", tags=["service"], responses=errors(503))
    async def health() -> Health:
        """ok, or 503 once the service has stopped answering because its store failed."""
        if served.failure is not None:
            raise Unavailable(served.failure)
        return {"status": "ok"}

    @app.get("/clock", tags=["service"], responses=errors(503))
    async def clock() -> ClockOut:
        """The service's clock, in seconds since the start of the shift."""
        return _clock(served)

    @app.get(
        "/metrics",
        tags=["service"],
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def prometheus() -> Response:
        """Prometheus metrics in the text exposition format: requests, decisions, actions by
        the safeguards' verdict, actions waiting, protected accounts down, queue lengths."""
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @app.post(
        "/reports",
        status_code=201,
        tags=["reports"],
        openapi_extra=IDEMPOTENT,
        responses=errors(404, *KEYED, *WITH_BODY)
        | links(201, ReadAccount=("account", "account_id", "$request.body#/account_id")),
    )
    async def file_report(body: NewReport, request: Request) -> ReportFiled:
        """A platform user reports an account; the report joins the review queue. The
        reporter is anonymous, so an idempotency key is scoped by the client's address."""
        key = idempotency_key(request)
        if key is not None:
            key = f"{request.client.host if request.client else '?'} {key}"
        report_id = served.call(
            Core.file_report, body.reporter, body.account_id, body.violating, idempotency_key=key
        )
        return {"report_id": report_id}

    @app.get("/accounts/{account_id}", tags=["accounts"], responses=errors(404, 422, 503))
    async def account(account_id: Id) -> AccountOut:
        """An account and its status (active, suspended, deactivated), as the public sees it."""
        return served.call(Core.account, account_id)._asdict()

    # --- operators --------------------------------------------------------------------------

    @app.post(
        "/queue/claim",
        tags=["reports"],
        openapi_extra=OPERATOR_WRITE,
        responses=errors(*OPERATOR_ERRORS)
        | links(200, Decide=("decide", "report_id", "$response.body#/report/id")),
    )
    async def claim(request: Request) -> Claimed:
        """The next queue item for the calling operator (seniors take escalations first)."""
        token, key = operator_write(request)
        view = served.call(Core.claim, token, idempotency_key=key)
        return {"report": None if view is None else view._asdict()}

    @app.post(
        "/reports/{report_id}/decision",
        tags=["reports"],
        openapi_extra=OPERATOR_WRITE,
        responses=errors(404, *OPERATOR_ERRORS, *WITH_BODY) | OUTCOME_LINKS,
    )
    async def decide(report_id: Id, body: DecisionBody, request: Request) -> OutcomeOut:
        """Decide a report the caller has claimed; the safeguards may stop, escalate,
        delay or send the action for a second approval."""
        token, key = operator_write(request)
        outcome = served.call(
            Core.decide,
            token,
            report_id,
            body.decision,
            body.action,
            body.second_approver,
            idempotency_key=key,
        )
        metrics.decided(body.decision, body.action, outcome)
        return outcome._asdict()

    @app.get(
        "/pending",
        tags=["approvals"],
        openapi_extra=OPERATOR,
        responses=errors(401, 403, 503),
    )
    async def pending(request: Request) -> list[PendingOut]:
        """Pending actions waiting for the caller's second approval."""
        token = bearer_token(request, OPERATOR_TOKEN)
        return [p._asdict() for p in served.call(Core.pending_approvals, token)]

    @app.post(
        "/pending/{pending_id}/approval",
        tags=["approvals"],
        openapi_extra=OPERATOR_WRITE,
        responses=errors(404, *OPERATOR_ERRORS, *WITH_BODY),
    )
    async def second_approve(pending_id: Id, body: ApprovalRequest, request: Request) -> OutcomeOut:
        """The assigned second approver approves or rejects a pending action."""
        token, key = operator_write(request)
        outcome = served.call(
            Core.second_approve, token, pending_id, body.approve, idempotency_key=key
        )
        metrics.acted(outcome)
        return outcome._asdict()

    @app.post(
        "/pending/{pending_id}/cancel",
        tags=["approvals"],
        openapi_extra=OPERATOR_WRITE,
        responses=errors(404, *OPERATOR_ERRORS),
    )
    async def cancel(pending_id: Id, request: Request) -> OutcomeOut:
        """A senior stops a pending or delayed action before it takes effect."""
        token, key = operator_write(request)
        outcome = served.call(Core.cancel, token, pending_id, idempotency_key=key)
        metrics.acted(outcome)
        return outcome._asdict()

    @app.post(
        "/accounts/{account_id}/action",
        tags=["accounts"],
        openapi_extra=OPERATOR_WRITE,
        responses=errors(404, *OPERATOR_ERRORS, *WITH_BODY) | OUTCOME_LINKS,
    )
    async def direct_action(account_id: Id, body: ActionBody, request: Request) -> OutcomeOut:
        """The admin-tool path: act on an account without a report (the path of the 2020
        takeover). The same safeguards apply."""
        token, key = operator_write(request)
        outcome = served.call(
            Core.direct_action,
            token,
            account_id,
            body.action,
            body.second_approver,
            idempotency_key=key,
        )
        metrics.acted(outcome)
        return outcome._asdict()

    @app.post(
        "/accounts/{account_id}/restore",
        tags=["accounts"],
        openapi_extra=OPERATOR_WRITE,
        responses=errors(404, *OPERATOR_ERRORS),
    )
    async def restore(account_id: Id, request: Request) -> OutcomeOut:
        """Bring an account back to active."""
        token, key = operator_write(request)
        outcome = served.call(Core.restore, token, account_id, idempotency_key=key)
        metrics.acted(outcome)
        return outcome._asdict()

    # --- admin ------------------------------------------------------------------------------

    @app.get("/admin/audit", **Admin(422, 503))
    async def audit(
        cursor: Annotated[int, Query(ge=0, description="last sequence number read")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    ) -> AuditPage:
        """The audit log after `cursor`, oldest first."""
        entries = served.call(Core.audit, cursor, limit)
        return {
            "entries": [e._asdict() for e in entries],
            "next_cursor": entries[-1].seq if entries else cursor,
        }

    @app.get("/admin/operators", **Admin())
    async def operators() -> list[OperatorOut]:
        """Every operator's credentials, in the experiment's order."""
        now = served.clock.now()
        return [
            {
                "id": op.id,
                "role": op.role,
                "token": op.token,
                "exit_at": op.exit_at,
                "departed": op.departed(now),
            }
            for op in served.spec.operators
        ]

    @app.post("/admin/reset", **Admin(*WITH_BODY))
    async def reset(body: Annotated[ResetRequest | None, Body()] = None) -> ResetOut:
        """Start a fresh shift: new state, clock at zero, no faults; optionally a new seed
        for the service's own random choices."""
        served.reset(None if body is None else body.seed)
        return {"seed": served.spec.seed, "now": served.clock.now()}

    @app.get("/admin/faults", **Admin(503))
    async def faults() -> FaultsOut:
        return _faults(served)

    @app.post("/admin/faults", **Admin(503, *WITH_BODY))
    async def set_fault(body: FaultRequest) -> FaultsOut:
        """Switch a fault on or off: a safeguard dependency down (journaled like any
        command), or chaos on the service itself (latency, a share of 503 answers)."""
        if isinstance(body, CoreFault):
            served.call(Core.set_fault, body.kind, body.active)
        elif isinstance(body, LatencyFault):
            served.chaos.latency = body.seconds if body.active else 0.0
        else:
            served.chaos.error_share = body.share if body.active else 0.0
        return _faults(served)

    @app.post("/admin/clock", **Admin(409, *WITH_BODY))
    async def move_clock(body: ClockMove) -> Advanced:
        """Manual-clock mode (--time-scale 0): move the clock, firing the timers due on
        the way at their own instants; returns what they did."""
        to = body.to if body.to is not None else served.clock.now() + body.by
        fired = served.advance(to)
        return {"now": served.clock.now(), "fired": [o._asdict() for o in fired]}

    app.add_middleware(ChaosFaults, served=served)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY)
    app.add_middleware(CountRequests, metrics=metrics)  # outermost: counts every answer
    return app


def _clock(served: ServedTarget) -> dict:
    return {
        "now": served.clock.now(),
        "scale": served.scale,
        "manual": served.manual,
        "next_due": served.call(Core.next_due),
    }


def _faults(served: ServedTarget) -> dict:
    return {
        "core": sorted(served.call(lambda core: core.faults)),
        "latency_seconds": served.chaos.latency,
        "server_error_share": served.chaos.error_share,
    }


async def _tick(served: ServedTarget) -> None:
    """Fire delayed actions and restores on time while nobody calls."""
    while True:
        await asyncio.sleep(served.tick())


def _document_credentials(app: FastAPI) -> None:
    """Name the two bearer credentials in the OpenAPI document (routes refer to them)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _methods(app: FastAPI, path: str) -> list[str]:
    """The methods the API answers on `path`, across every route that matches it."""
    routes = [r for r in app.routes if isinstance(r, APIRoute) and r.path_regex.match(path)]
    return sorted({method for route in routes for method in route.methods})


READABLE = {"missing": "required", "extra_forbidden": "not a field of this request"}


def _refusal(first: dict[str, Any], body: Any) -> tuple[str, str]:
    """The field a validation error is about and what is wrong with it. For a body with
    variants (a decision, a fault) pydantic's location names the variant after `body`,
    which is no field of the request: it is left out."""
    where = [str(part) for part in first.get("loc", ())]
    kind, ctx = first.get("type"), first.get("ctx", {})
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = ctx.get("expected_tags", "").replace("'", "")
        where.append(ctx.get("discriminator", "").strip("'"))
        return ".".join(where), f"must be one of {tags}" if tags else "required"
    variants = [body.get(tag) for tag in UNION_TAGS] if isinstance(body, dict) else []
    if len(where) > 2 and where[1] in variants:
        del where[1]
    return ".".join(where), READABLE.get(kind, first["msg"].removeprefix("Value error, "))


def _handle_errors(app: FastAPI) -> None:
    @app.exception_handler(ModerationError)
    async def refused(request: Request, exc: ModerationError):
        return error(exc.status, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0]
        if first.get("type") == "json_invalid":
            return error(400, "bad_request", f"the body is not valid JSON: {first['msg']}")
        where, why = _refusal(first, exc.body)
        return error(422, "invalid_request", f"{where}: {why}", where)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        status, path = exc.status_code, request.url.path
        message = {
            404: f"no endpoint at {path} (the API is described at /openapi.json)",
            405: f"{request.method} is not allowed on {path}",
        }.get(status, str(exc.detail))
        headers = dict(exc.headers or {})
        if status == 405:  # every method of the path, not only those of its first route
            headers["Allow"] = ", ".join(_methods(app, path))
        return error(status, HTTP_ERRORS.get(status, "http_error"), message, **headers)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception):
        return error(500, "internal", f"{exc.__class__.__name__}: the service failed")

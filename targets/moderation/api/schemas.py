"""Request and response bodies of the HTTP API (they are its OpenAPI document).

Requests are strict: unknown fields, wrong JSON types and out-of-range numbers are refused
with a 422 naming the field. Responses mirror the core's answer types field for field.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, Literal, NamedTuple, Union

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from ..model import ACTIONS, DECISIONS, AccountView, AuditEntry, Outcome, PendingView, ReportView
from ..safeguards import TARGET_FAULTS

Name = Annotated[str, Field(min_length=1, max_length=200)]
Action = Literal[ACTIONS]  # type: ignore[valid-type]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class NewReport(Body):
    """A platform user's complaint. `violating` is the ground truth the harness knows (so
    the delay monitor can recognise wrongful actions); operators never see it."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"account_id": 1, "reporter": "user", "violating": False}]}
    )

    account_id: int
    reporter: Name = "user"
    violating: bool = False


class DecisionRequest(Body):
    """approve (with an action), dismiss or escalate. `second_approver` only where the
    requester chooses it (safeguards.two_person_rule.chooser = requester)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"decision": "approve", "action": "suspend"}]}
    )

    decision: Literal[DECISIONS]  # type: ignore[valid-type]
    action: Action | None = None
    second_approver: Name | None = None


class ApprovalRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"approve": True}]})

    approve: bool


class ActionRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"action": "suspend"}]})

    action: Action
    second_approver: Name | None = None


class CoreFault(Body):
    """A safeguard dependency down (the same kinds as an experiment's faults)."""

    kind: Literal[TARGET_FAULTS]  # type: ignore[valid-type]
    active: bool


class LatencyFault(Body):
    """Added latency before every operator request."""

    kind: Literal["latency"]
    active: bool
    seconds: float = Field(0.1, ge=0, le=10)


class ServerErrorFault(Body):
    """A share of operator requests answered 503 after being handled: the operation may
    have taken effect, as behind a failing proxy."""

    kind: Literal["server_errors"]
    active: bool
    share: float = Field(0.1, ge=0, le=1)


FaultRequest = Annotated[
    Union[CoreFault, LatencyFault, ServerErrorFault],  # noqa: UP007
    Field(discriminator="kind"),
]


class ClockMove(Body):
    """Move the manual clock `to` an instant or `by` some seconds (exactly one)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"by": 660}]})

    to: float | None = Field(None, ge=0, le=1e9)
    by: float | None = Field(None, ge=0, le=1e9)

    @model_validator(mode="after")
    def _one(self) -> ClockMove:
        if (self.to is None) == (self.by is None):
            raise ValueError("give exactly one of 'to' (shift seconds) or 'by' (seconds)")
        return self


class ResetRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"seed": 7}]})

    seed: int | Name | None = None


# --- responses ---------------------------------------------------------------------------


def model_of(answer: type[NamedTuple]) -> type[BaseModel]:
    """A response model with the fields (and types) of one of the core's answer types."""
    hints = typing.get_type_hints(answer)
    defaults: dict[str, Any] = answer._field_defaults
    fields: dict[str, Any] = {
        name: (hints[name], defaults.get(name, ...)) for name in answer._fields
    }
    return create_model(answer.__name__, __doc__=answer.__doc__, **fields)


OutcomeOut = model_of(Outcome)
ReportOut = model_of(ReportView)
PendingOut = model_of(PendingView)
AccountOut = model_of(AccountView)
AuditOut = model_of(AuditEntry)


class ReportFiled(BaseModel):
    report_id: int


class Claimed(BaseModel):
    """The claimed queue item, or null when there is nothing for this operator."""

    report: ReportOut | None  # type: ignore[valid-type]


class AuditPage(BaseModel):
    """Entries after the cursor, oldest first; pass `next_cursor` to read on."""

    entries: list[AuditOut]  # type: ignore[valid-type]
    next_cursor: int


class ClockOut(BaseModel):
    now: float  # shift seconds
    scale: float  # simulated seconds per wall second; 0 in manual-clock mode
    manual: bool
    next_due: float | None  # when the earliest timer (delayed action, restore) fires


class Advanced(BaseModel):
    now: float
    fired: list[OutcomeOut]  # type: ignore[valid-type]


class OperatorOut(BaseModel):
    id: str
    role: str
    token: str
    exit_at: float | None
    departed: bool


class FaultsOut(BaseModel):
    core: list[str]
    latency_seconds: float
    server_error_share: float


class ResetOut(BaseModel):
    seed: int | str
    now: float


class Health(BaseModel):
    status: Literal["ok"]


class ErrorOut(BaseModel):
    """Every refusal: a machine-readable code, a sentence naming the problem and, for
    invalid requests, the field."""

    error: str
    message: str
    field: str | None = None

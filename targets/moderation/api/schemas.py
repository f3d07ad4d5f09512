"""Request and response bodies of the HTTP API (they are its OpenAPI document).

Requests are strict: unknown fields, wrong JSON types and out-of-range numbers are refused
with a 422 naming the field. Responses mirror the core's answer types field for field.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, ClassVar, Literal, NamedTuple, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model, model_validator
from pydantic.json_schema import SkipJsonSchema

from ..model import ACTIONS, AccountView, AuditEntry, Outcome, PendingView, ReportView
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


SYSTEM_CHOOSES = (
    "the system chooses the second approver in this service "
    "(safeguards.two_person_rule.chooser = system): omit second_approver"
)
UNION_TAGS = ("decision", "kind")
"""The fields that pick the variant of a request body that has several (a decision, a fault)."""


def _system_chooses(value: Any) -> None:
    raise ValueError(SYSTEM_CHOOSES)


SystemChosen = Annotated[None, BeforeValidator(_system_chooses), SkipJsonSchema()]
"""Where the system draws the second approver the field is not in the document, and naming
one is refused with a sentence that says why rather than as any unknown field."""


class Approve(Body):
    """Take the action; the safeguards may stop, escalate, delay it or send it for a second
    approval."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"decision": "approve", "action": "suspend"}]}
    )

    decision: Literal["approve"]
    action: Action
    second_approver: SystemChosen = None


class Dismiss(Body):
    """Close the report without acting."""

    decision: Literal["dismiss"]
    action: ClassVar[None] = None
    second_approver: ClassVar[None] = None


class Escalate(Body):
    """Send the report to the senior queue."""

    decision: Literal["escalate"]
    action: ClassVar[None] = None
    second_approver: ClassVar[None] = None


class ActionRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"action": "suspend"}]})

    action: Action
    second_approver: SystemChosen = None


class ApproveNamingApprover(Approve):
    """Take the action, naming the second approver if the two-person rule asks for one."""

    second_approver: Name | None = None


class ActionNamingApprover(ActionRequest):
    second_approver: Name | None = None


class OperatorBodies(NamedTuple):
    decision: Any  # the discriminated union of a decision's variants
    action: type[ActionRequest]


def operator_bodies(requester_chooses: bool) -> OperatorBodies:
    """The bodies of a decision and of a direct action as the served safeguards take them:
    `second_approver` exists only where the requester chooses the second approver
    (safeguards.two_person_rule.chooser = requester)."""
    approve, action = (Approve, ActionRequest)
    if requester_chooses:
        approve, action = (ApproveNamingApprover, ActionNamingApprover)
    decision = Annotated[
        Union[approve, Dismiss, Escalate],  # noqa: UP007
        Field(discriminator="decision"),
    ]
    return OperatorBodies(decision, action)


class ApprovalRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"approve": True}]})

    approve: bool


class CoreFault(Body):
    """A safeguard dependency down (the same kinds as an experiment's faults)."""

    kind: str
    active: bool


def _core_fault(kind: str) -> type[CoreFault]:
    """The body of one kind of core fault. One schema per kind keeps the document's
    discriminator mapping one-to-one, which every OpenAPI tool reads alike."""
    name = "".join(part.title() for part in kind.split("_"))
    return create_model(
        name,
        __base__=CoreFault,
        __doc__=f"{kind}: a safeguard dependency down, as in an experiment's faults.",
        kind=(Literal[kind], ...),
    )


CORE_FAULTS = tuple(_core_fault(kind) for kind in TARGET_FAULTS)


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
    Union[(*CORE_FAULTS, LatencyFault, ServerErrorFault)],
    Field(discriminator="kind"),
]


class ClockMove(Body):
    """Move the manual clock `to` an instant or `by` some seconds (exactly one)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"by": 660}],
            "oneOf": [{"required": ["to"]}, {"required": ["by"]}],
        }
    )

    to: float = Field(None, ge=0, le=1e9)  # type: ignore[assignment]  # given or absent, never null
    by: float = Field(None, ge=0, le=1e9)  # type: ignore[assignment]

    @model_validator(mode="after")
    def _one(self) -> ClockMove:
        if len(self.model_fields_set) != 1:
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

"""The steady state a live run needs before load starts, and the rollback after it (after
Chaos Toolkit: verify the system is healthy, act, always roll back).

Before load: the target answers, answers as the moderation API, accepts the admin token,
runs a clock, knows every operator of the experiment and supports every fault kind the
experiment injects. At each shift's start: every protected account is protected and
active. Anything else refuses the run in one line (exit code 2). After the run, whatever
happened: every fault is switched off.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from targets.moderation import ModerationError, Unauthorized

from ...errors import BadInput
from ...experiment.model import Experiment
from ...world.roster import OperatorSpec
from ..client import HttpTarget, Indeterminate, Request

API_TITLE = "Moderation service"
PATHS = (
    "/health",
    "/clock",
    "/reports",
    "/queue/claim",
    "/reports/{report_id}/decision",
    "/pending",
    "/pending/{pending_id}/approval",
    "/accounts/{account_id}",
    "/accounts/{account_id}/action",
    "/admin/audit",
    "/admin/faults",
    "/admin/operators",
    "/admin/reset",
)
HARNESS_FAULTS = ("report_flood", "restart")
"""Faults the harness makes itself (a report flood is load; a restart needs the process)."""


@dataclass(frozen=True)
class TargetFacts:
    scale: float  # the target's time scale
    tokens: dict[str, str]  # operator id -> credentials
    fault_kinds: frozenset[str]  # what POST /admin/faults accepts


def check_target(
    target: HttpTarget,
    where: str,
    experiment: Experiment,
    roster: Sequence[OperatorSpec],
    *,
    restartable: bool,
) -> TargetFacts:
    """The steady state before load; `where` names the target in errors (the option that
    gave it). `restartable`: the harness started the target and can restart it."""
    health = _get(target, where, "/health")
    if health != {"status": "ok"}:
        raise BadInput(f"{where}: not healthy (GET /health answered {str(health)[:80]})")
    api = _get(target, where, "/openapi.json")
    paths = api.get("paths", {})
    missing = [p for p in PATHS if p not in paths]
    if api.get("info", {}).get("title") != API_TITLE or missing:
        raise BadInput(
            f"{where}: does not answer as the moderation API (its /openapi.json lacks "
            f"{', '.join(missing[:3]) or 'the title ' + repr(API_TITLE)})"
        )
    try:
        target.faults()
    except Unauthorized:
        raise BadInput(
            f"{where}: refused the admin token (give the right one with --admin-token or "
            "HARNESS_ADMIN_TOKEN)"
        ) from None
    clock = _read(where, "GET /clock", target.clock)
    if clock["manual"]:
        raise BadInput(
            f"{where}: its clock is manual (--time-scale 0); live mode needs a running clock"
        )
    tokens = _read(where, "GET /admin/operators", target.credentials)
    absent = [spec.id for spec in roster if spec.id not in tokens]
    if absent:
        raise BadInput(
            f"{where}: does not serve this experiment's operators (no {', '.join(absent[:3])}); "
            "serve the same experiment file"
        )
    kinds = supported_faults(api)
    for index, fault in enumerate(experiment.faults):
        if fault.kind == "restart" and not restartable:
            raise BadInput(
                f"faults.{index}.kind = 'restart': the harness can restart only a target it "
                "started itself; run without --target"
            )
        if fault.kind not in HARNESS_FAULTS and fault.kind not in kinds:
            raise BadInput(
                f"faults.{index}.kind = {fault.kind!r}: {where} does not support it (it "
                f"supports {', '.join(sorted(kinds)) or 'no faults'})"
            )
    return TargetFacts(float(clock["scale"]), tokens, kinds)


def supported_faults(api: dict[str, Any]) -> frozenset[str]:
    """The fault kinds POST /admin/faults accepts, from its OpenAPI document."""
    body = api["paths"]["/admin/faults"].get("post", {}).get("requestBody", {})
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    return frozenset(schema.get("discriminator", {}).get("mapping", {}))


def protected_problems(target: HttpTarget, protected_ids: Sequence[int]) -> list[str]:
    """What is wrong with the protected accounts at a shift's start (nothing, normally)."""
    problems = []
    for account_id in protected_ids:
        try:
            account = target.account(account_id)
        except (ModerationError, Indeterminate) as exc:
            problems.append(f"account {account_id}: {exc}")
            continue
        if not account.protected:
            problems.append(f"account {account_id} is not on the target's protected list")
        elif account.status != "active":
            problems.append(f"protected account {account_id} is {account.status}")
    return problems


def roll_back(target: HttpTarget) -> list[str]:
    """Switch every fault off; returns what could not be (the target may be gone)."""
    try:
        active = target.faults()
        for kind in active["core"]:
            target.fault(kind, False)
        if active["latency_seconds"]:
            target.fault("latency", False)
        if active["server_error_share"]:
            target.fault("server_errors", False)
    except (ModerationError, Indeterminate) as exc:
        return [str(exc)]
    return []


def _get(target: HttpTarget, where: str, path: str) -> dict[str, Any]:
    """A public JSON document of the target, or one line saying why there is none."""
    try:
        status, data, text = target.transport.send(Request("GET", path, path, {}))
    except Indeterminate as exc:
        raise BadInput(f"{where}: cannot reach it (GET {path}: {_short(exc)})") from None
    if status != 200 or not isinstance(data, dict):
        raise BadInput(
            f"{where}: does not answer as the moderation API (GET {path}: {status} {text[:60]!r})"
        )
    return data


def _read(where: str, what: str, call: Any) -> Any:
    try:
        return call()
    except Indeterminate as exc:
        raise BadInput(f"{where}: cannot reach it ({what}: {_short(exc)})") from None
    except ModerationError as exc:
        raise BadInput(
            f"{where}: does not answer as the moderation API ({what}: {_short(exc)})"
        ) from None


def _short(exc: Exception) -> str:
    """The gist of an error: the operating system's reason when there is one."""
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    reason = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    return reason.group(1).lower() if reason else text[:120]

"""A safeguard is one module: the registry derived from the modules, every safeguard that
is switched on consulted by the service, fail modes that mean what they say, and a row in
docs/safeguards.md and a settings block in docs/experiment-files.md for each."""

from __future__ import annotations

import pkgutil
import re

import pytest
from conftest import ROOT

from harness.experiment.model import SafeguardsSection
from harness.explore import narrate
from targets.moderation import (
    APPLIED,
    SAFEGUARD_NAMES,
    TARGET_FAULTS,
    AccountProfile,
    ManualClock,
    ModerationService,
    OperatorRecord,
    SafeguardsConfig,
)
from targets.moderation import safeguards as package
from targets.moderation.safeguards import (
    LISTED,
    SAFEGUARDS,
    AccountSafeguard,
    OperatorSafeguard,
    Safeguard,
)

HEAD_OF_STATE = AccountProfile(1, "head_of_state", "Head of State", 50_000_000, protected=True)
OPERATORS = [
    OperatorRecord("r1", "reviewer", "tok-r1"),
    OperatorRecord("r2", "reviewer", "tok-r2"),
    OperatorRecord("s1", "senior", "tok-s1"),
]
IDS = [s.name for s in SAFEGUARDS]


def service(safeguard: type[Safeguard], **keys) -> ModerationService:
    """A service with only `safeguard` switched on (with `keys` on top)."""
    config = SafeguardsConfig.model_validate({safeguard.name: {**safeguard.switched_on, **keys}})
    return ModerationService([HEAD_OF_STATE], OPERATORS, clock=ManualClock(), safeguards=config)


# --- the registry ------------------------------------------------------------------------


def test_every_module_of_the_package_is_a_registered_safeguard():
    modules = {m.name for m in pkgutil.iter_modules(package.__path__)} - {"base"}
    assert modules == set(SAFEGUARD_NAMES)
    for safeguard in SAFEGUARDS:
        assert issubclass(safeguard, OperatorSafeguard | AccountSafeguard), safeguard.name


def test_the_consulted_and_listed_places_are_distinct_and_operators_come_first():
    assert len({s.consulted for s in SAFEGUARDS}) == len(SAFEGUARDS)
    assert len({s.listed for s in SAFEGUARDS}) == len(SAFEGUARDS)
    assert tuple(s.name for s in sorted(SAFEGUARDS, key=lambda s: s.consulted)) == SAFEGUARD_NAMES
    levels = [s.level for s in SAFEGUARDS]
    assert levels == sorted(levels, key=lambda level: level != "operator"), levels
    # the account-level steps of the service's pipeline, in the order it takes them
    account = [s.name for s in SAFEGUARDS if s.level == "account"]
    assert account == ["protected_list", "two_person_rule", "delayed_action"]


def test_settings_and_faults_are_derived_from_the_modules():
    assert tuple(SafeguardsConfig.model_fields) == tuple(s.name for s in LISTED)
    assert tuple(SafeguardsSection.model_fields) == tuple(SafeguardsConfig.model_fields)
    for safeguard in SAFEGUARDS:
        field = SafeguardsConfig.model_fields[safeguard.name]
        assert field.annotation is safeguard.settings
    dependent = [s for s in LISTED if s.dependency is not None]
    assert tuple(s.dependency.fault for s in dependent) == TARGET_FAULTS
    for safeguard in dependent:  # a dependency needs a fail mode
        fail = safeguard.settings.model_fields.get("fail")
        assert fail is not None, f"{safeguard.name} depends on a fault but has no `fail` key"


def test_the_narration_tells_every_fault_and_names_every_safeguard():
    assert set(narrate.DEPENDENCY) == set(TARGET_FAULTS)
    for safeguard in SAFEGUARDS:
        assert narrate._name(safeguard.name) == safeguard.title


# --- the service consults them -----------------------------------------------------------


def spy(monkeypatch, safeguard: type[Safeguard]) -> list:
    """Calls of `safeguard`'s check from now on."""
    calls: list = []
    check = safeguard.check

    def counted(self, *args):
        calls.append(args)
        return check(self, *args)

    monkeypatch.setattr(safeguard, "check", counted)
    return calls


def decide(svc: ModerationService, token: str) -> None:
    report = svc.file_report("user", HEAD_OF_STATE.id)
    assert svc.claim(token).id == report
    svc.decide(token, report, "approve", "deactivate")


def direct_action(svc: ModerationService, token: str) -> None:
    svc.direct_action(token, HEAD_OF_STATE.id, "deactivate")


def restore(svc: ModerationService, token: str) -> None:
    svc.restore(token, HEAD_OF_STATE.id)


PATHS = [  # account-level safeguards do not apply to restores
    (safeguard, path)
    for safeguard in SAFEGUARDS
    for path in (decide, direct_action, restore)
    if path is not restore or safeguard.level == "operator"
]


@pytest.mark.parametrize(
    ("safeguard", "path"), PATHS, ids=[f"{s.name}-{p.__name__}" for s, p in PATHS]
)
def test_every_safeguard_switched_on_is_consulted(monkeypatch, safeguard, path):
    calls = spy(monkeypatch, safeguard)
    svc = service(safeguard)
    path(svc, "tok-r1")
    assert calls, f"{safeguard.name} is switched on but the service never consulted it"


@pytest.mark.parametrize(
    "safeguard",
    [s for s in SAFEGUARDS if getattr(s, "guards_approvals", False)],
    ids=lambda s: s.name,
)
def test_a_safeguard_that_guards_approvals_is_consulted_on_a_second_approval(
    monkeypatch, safeguard
):
    config = {"two_person_rule": {"enabled": True}, safeguard.name: safeguard.switched_on}
    svc = ModerationService(
        [HEAD_OF_STATE],
        OPERATORS,
        clock=ManualClock(),
        safeguards=SafeguardsConfig.model_validate(config),
    )
    pending = svc.direct_action("tok-r1", HEAD_OF_STATE.id, "deactivate")
    approver = next(op for op in OPERATORS if op.id == pending.approver)
    calls = spy(monkeypatch, safeguard)
    svc.second_approve(approver.token, pending.pending_id, True)
    assert [args[0] for args in calls] == [approver]


@pytest.mark.parametrize("safeguard", [s for s in SAFEGUARDS if s.dependency], ids=lambda s: s.name)
def test_a_safeguard_whose_dependency_is_down_fails_as_its_fail_mode_says(safeguard):
    """Open lets a reviewer's action on a protected account through while the dependency is
    down; closed stops it there."""
    for fail, stops in (("open", False), ("closed", True)):
        svc = service(safeguard, fail=fail)
        svc.set_fault(safeguard.dependency.fault, True)
        out = svc.direct_action("tok-r1", HEAD_OF_STATE.id, "deactivate")
        assert (out.safeguard == safeguard.name) is stops, (fail, out)
        assert (out.status == APPLIED) is not stops, (fail, out)


# --- the documentation -------------------------------------------------------------------


@pytest.mark.parametrize("safeguard", SAFEGUARDS, ids=IDS)
def test_every_safeguard_has_a_documented_row_and_its_settings(safeguard):
    table = (ROOT / "docs" / "safeguards.md").read_text().split("\nConsulted in this order", 1)[0]
    assert f"\n| `{safeguard.name}` |" in table, (
        f"no row for {safeguard.name} in docs/safeguards.md"
    )
    example = (ROOT / "docs" / "experiment-files.md").read_text()
    block = re.search(rf"\n\[safeguards\.{safeguard.name}\]\n(.*?)\n\n", example, re.S)
    assert block is not None, f"no [safeguards.{safeguard.name}] in docs/experiment-files.md"
    keys = {line.split("=")[0].strip() for line in block[1].splitlines() if "=" in line}
    section = SafeguardsSection.model_fields[safeguard.name].annotation
    assert keys == set(section.model_fields), safeguard.name

"""The in-process service and the HTTP client both speak the Target protocol the drivers
rely on: the same method names, parameters and return types."""

from __future__ import annotations

import inspect

import pytest

from harness.drivers.client import HttpTarget
from harness.drivers.target import Target, TimedTarget
from targets.moderation import ModerationService


def protocol_methods() -> list[str]:
    return [n for n, v in vars(Target).items() if callable(v) and not n.startswith("_")]


def test_service_has_every_target_method_with_the_same_parameters():
    assert len(protocol_methods()) >= 12
    for name in [*protocol_methods(), "advance"]:
        ours = inspect.signature(getattr(TimedTarget, name))
        theirs = inspect.signature(inspect.unwrap(getattr(ModerationService, name)))
        expected = [p for p in ours.parameters if p != "idempotency_key"]
        assert [p for p in theirs.parameters] == expected, name


@pytest.mark.parametrize("name", [*protocol_methods(), "advance"])
def test_http_client_has_every_method_with_the_same_signature(name):
    protocol = getattr(TimedTarget, name)
    assert inspect.signature(getattr(HttpTarget, name)) == inspect.signature(protocol), name

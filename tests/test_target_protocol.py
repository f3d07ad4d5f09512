"""The in-process service speaks the Target protocol the drivers rely on."""

from __future__ import annotations

import inspect

from harness.target import Target
from targets.moderation import ModerationService


def protocol_methods() -> list[str]:
    return [n for n, v in vars(Target).items() if callable(v) and not n.startswith("_")]


def test_service_has_every_target_method_with_the_same_parameters():
    assert len(protocol_methods()) >= 12
    for name in protocol_methods():
        ours = inspect.signature(getattr(Target, name))
        theirs = inspect.signature(inspect.unwrap(getattr(ModerationService, name)))
        expected = [p for p in ours.parameters if p != "idempotency_key"]
        assert [p for p in theirs.parameters] == expected, name

"""The SQLite journal store in-process: restarts neither lose nor repeat commands, the clock
resumes where it stood, and a file that is not a store is refused."""

from __future__ import annotations

import pytest
from servers import served, tiny_spec

from targets.moderation import ModerationService as Core
from targets.moderation.store import SqliteStore, StoreError


def reopen(path, time_scale: float = 0.0):
    return served(
        tiny_spec(two_person_rule={"enabled": True}), store=SqliteStore(path), time_scale=time_scale
    )


def test_restarts_replay_every_command_once(tmp_path):
    path = tmp_path / "state.db"
    target = reopen(path)
    report = target.call(Core.file_report, "user", 1)
    target.call(Core.claim, "tok-r1")
    pending = target.call(Core.decide, "tok-r1", report, "approve", "deactivate")
    target.advance(120.0)
    audit = target.service.audit()
    target.store.close()
    for _ in range(3):
        again = reopen(path)
        assert again.replayed == 3
        assert again.service.audit() == audit
        assert again.clock.now() == 120.0
        [waiting] = again.call(Core.pending_approvals, f"tok-{pending.approver}")
        assert waiting.state == "awaiting_approval"
        again.store.close()


def test_a_new_time_scale_continues_from_where_the_clock_stood(tmp_path):
    path = tmp_path / "state.db"
    manual = reopen(path)
    manual.advance(500.0)
    manual.store.close()
    running = reopen(path, time_scale=60)
    assert 500.0 <= running.clock.now() < 500.0 + 60 * 5
    assert running.clock_state()["scale"] == 60


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("not a database, just some words that fill a page " * 100)
    with pytest.raises(StoreError, match="not a database"):
        SqliteStore(path)

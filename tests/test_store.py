"""The SQLite journal store in-process: restarts neither lose nor repeat commands, the clock
resumes where it stood, and a file that is not a store is refused."""

from __future__ import annotations

import sqlite3

import pytest
from servers import served, tiny_spec

from targets.moderation import ModerationService as Core
from targets.moderation import Unavailable
from targets.moderation.store import SqliteStore, StoreError


def reopen(path, time_scale: float = 0.0):
    return served(
        tiny_spec(two_person_rule={"enabled": True}), store=SqliteStore(path), time_scale=time_scale
    )


def token(target, operator: str) -> str:
    """An operator's token: a durable store derives them from the admin token."""
    return next(op.token for op in target.spec.operators if op.id == operator)


def test_restarts_replay_every_command_once(tmp_path):
    path = tmp_path / "state.db"
    target = reopen(path)
    report = target.call(Core.file_report, "user", 1)
    target.call(Core.claim, token(target, "r1"))
    pending = target.call(Core.decide, token(target, "r1"), report, "approve", "deactivate")
    target.advance(120.0)
    audit = target.service.audit()
    target.store.close()
    for _ in range(3):
        again = reopen(path)
        assert again.replayed == 3
        assert again.service.audit() == audit
        assert again.clock.now() == 120.0
        [waiting] = again.call(Core.pending_approvals, token(again, pending.approver))
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


class FullDisk:
    """A SQLite connection whose writes to the journal fail, as on a full disk."""

    def __init__(self, db):
        self._db = db

    def execute(self, sql, *args):
        if sql.startswith("INSERT INTO journal"):
            raise sqlite3.OperationalError("database or disk is full")
        return self._db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._db, name)


def test_a_journal_that_cannot_be_written_stops_the_service_until_restart(tmp_path):
    """Fail-stop: the core's memory would hold an unjournaled effect, so nothing more is
    answered; a restart rebuilds exactly the acknowledged state."""
    path = tmp_path / "state.db"
    target = reopen(path)
    report = target.call(Core.file_report, "user", 3)
    target.call(Core.claim, token(target, "r1"))
    acknowledged = target.service.audit()
    target.store._db = FullDisk(target.store._db)
    with pytest.raises(Unavailable, match="disk is full"):
        target.call(Core.decide, token(target, "r1"), report, "approve", "suspend")
    with pytest.raises(Unavailable, match="restart the service"):
        target.call(Core.account, 3)
    target.store._db = target.store._db._db
    target.store.close()
    again = reopen(path)
    assert again.service.audit() == acknowledged
    assert again.call(Core.account, 3).status == "active"
    assert again.call(Core.decide, token(again, "r1"), report, "approve", "suspend").status == (
        "applied"
    )


def test_health_answers_503_once_the_store_failed(tmp_path):
    from fastapi.testclient import TestClient

    from targets.moderation.api import create_app

    target = reopen(tmp_path / "state.db")
    client = TestClient(create_app(target))
    assert client.get("/health").json() == {"status": "ok"}
    target.failure = "state.db: cannot write the journal (disk full)"
    answer = client.get("/health")
    assert answer.status_code == 503 and answer.json()["error"] == "unavailable"

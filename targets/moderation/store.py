"""Where a served moderation service keeps its state: in memory, or durably in SQLite.

The durable store is a journal, not a copy of the state: the core appends every successful
command (with its instant and idempotency key) before the caller gets the answer, and
`ModerationService.replay` rebuilds identical state from the journal on a fresh service
built from the same `ServiceSpec`. SQLite runs in WAL mode with `synchronous=NORMAL`: each
command is its own committed transaction, so an acknowledged write survives the process
being killed (kill -9, a crash, the OOM killer). It does not promise to survive a power
cut of the operating system itself; that would cost an fsync per command.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from .service import Journal
from .spec import ServiceSpec

Entry = tuple[float, str, tuple, dict]


class StoreError(Exception):
    """The store cannot be opened or read; the message names the file and the problem."""


class Saved(NamedTuple):
    """What a store held when it was opened: enough to rebuild the service."""

    spec: ServiceSpec
    meta: dict[str, Any]
    entries: list[Entry]


class Store(Protocol):
    durable: bool

    @property
    def journal(self) -> Journal | None: ...

    def load(self) -> Saved | None: ...

    def start(self, spec: ServiceSpec, meta: dict[str, Any]) -> None: ...

    def set_meta(self, key: str, value: Any) -> None: ...

    def close(self) -> None: ...

    def describe(self) -> str: ...


class MemoryStore:
    """Nothing outlives the process: the fastest store, for load tests and simulation."""

    durable = False
    journal = None

    def load(self) -> Saved | None:
        return None

    def start(self, spec: ServiceSpec, meta: dict[str, Any]) -> None:
        pass

    def set_meta(self, key: str, value: Any) -> None:
        pass

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return "memory"


class SqliteStore:
    """A SQLite (WAL) journal of commands plus a table of what rebuilds the service."""

    durable = True

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, at REAL NOT NULL,"
                " command TEXT NOT NULL, arguments TEXT NOT NULL)"
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open as a SQLite store ({exc})") from None

    @property
    def journal(self) -> Journal:
        return self

    def append(self, at: float, command: str, args: tuple, kwargs: dict) -> None:
        """Commit one command; called by the core before the caller gets its answer."""
        try:
            self._db.execute(
                "INSERT INTO journal (at, command, arguments) VALUES (?, ?, ?)",
                (at, command, json.dumps([args, kwargs], separators=(",", ":"))),
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write the journal ({exc})") from None

    def load(self) -> Saved | None:
        try:
            meta = {k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM meta")}
            if "spec" not in meta:
                return None
            spec = ServiceSpec.from_json(meta.pop("spec"))
            entries = []
            for at, command, arguments in self._db.execute(
                "SELECT at, command, arguments FROM journal ORDER BY seq"
            ):
                args, kwargs = json.loads(arguments)
                entries.append((at, command, tuple(args), kwargs))
        except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"{self.path}: not a readable moderation store ({exc})") from None
        return Saved(spec, meta, entries)

    def start(self, spec: ServiceSpec, meta: dict[str, Any]) -> None:
        """Begin a fresh service: forget the journal, keep the new spec, in one transaction."""
        rows = [("spec", json.dumps(spec.to_json()))]
        rows += [(k, json.dumps(v)) for k, v in meta.items()]
        with self._transaction():
            self._db.execute("DELETE FROM journal")
            self._db.execute("DELETE FROM meta")
            self._db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", rows)

    def set_meta(self, key: str, value: Any) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value))
        )

    def close(self) -> None:
        self._db.close()

    def describe(self) -> str:
        return f"sqlite:{self.path}"

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

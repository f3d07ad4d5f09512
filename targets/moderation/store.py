"""Where a served moderation service keeps its state: in memory, or durably in SQLite.

The durable store is a journal, not a copy of the state: the core appends every successful
command (with its instant and idempotency key) before the caller gets the answer, and
`ModerationService.replay` rebuilds identical state from the journal on a fresh service
built from the same `ServiceSpec`. SQLite runs in WAL mode with `synchronous=NORMAL`: each
command is its own committed transaction, so an acknowledged write survives the process
being killed (kill -9, a crash, the OOM killer). It does not promise to survive a power
cut of the operating system itself; that would cost an fsync per command.

One process serves a store at a time: the store holds an exclusive lock on its file while
it is open, so a second server on the same file is refused instead of interleaving its
journal with the first's. Store files are created readable by their owner only.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from .model import OperatorRecord
from .service import Journal
from .spec import ServiceSpec

Entry = tuple[float, str, tuple, dict]


class StoreError(Exception):
    """The store cannot be opened or read; the message names the file and the problem."""


class Saved(NamedTuple):
    """What a store held when it was opened: enough to rebuild the service. `snapshot`
    (if any) is the state after the first `covered` commands; `entries` came after it."""

    spec: ServiceSpec
    meta: dict[str, Any]
    entries: list[Entry]
    snapshot: bytes | None = None
    covered: int = 0


class Store(Protocol):
    durable: bool
    uncompacted: int  # commands journaled since the last snapshot

    @property
    def journal(self) -> Journal | None: ...

    def load(self) -> Saved | None: ...

    def start(self, spec: ServiceSpec, meta: dict[str, Any]) -> None: ...

    def set_meta(self, key: str, value: Any) -> None: ...

    def compact(self, state: bytes) -> None: ...

    def use_tokens(self, operators: Iterable[OperatorRecord]) -> None: ...

    def close(self) -> None: ...

    def describe(self) -> str: ...


class MemoryStore:
    """Nothing outlives the process: the fastest store, for load tests and simulation."""

    durable = False
    journal = None
    uncompacted = 0

    def load(self) -> Saved | None:
        return None

    def start(self, spec: ServiceSpec, meta: dict[str, Any]) -> None:
        pass

    def set_meta(self, key: str, value: Any) -> None:
        pass

    def compact(self, state: bytes) -> None:
        pass

    def use_tokens(self, operators: Iterable[OperatorRecord]) -> None:
        pass

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return "memory"


class SqliteStore:
    """A SQLite (WAL) journal of commands plus a table of what rebuilds the service, and a
    snapshot of the state that replaces the journal entries it covers."""

    durable = True
    uncompacted = 0

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._operator_of: dict[str, str] = {}
        self._lock = _lock(self.path)
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
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS snapshot"
                " (covered INTEGER NOT NULL, state BLOB NOT NULL)"
            )
        except sqlite3.Error as exc:
            os.close(self._lock)
            raise StoreError(f"{self.path}: cannot open as a SQLite store ({exc})") from None

    @property
    def journal(self) -> Journal:
        return self

    def use_tokens(self, operators: Iterable[OperatorRecord]) -> None:
        """Journal these operators' tokens as `{"operator": id}`: the store holds none."""
        self._operator_of = {op.token: op.id for op in operators}

    def append(self, at: float, command: str, args: tuple, kwargs: dict) -> None:
        """Commit one command; called by the core before the caller gets its answer."""
        if args and args[0] in self._operator_of:
            args = ({"operator": self._operator_of[args[0]]}, *args[1:])
        try:
            self._db.execute(
                "INSERT INTO journal (at, command, arguments) VALUES (?, ?, ?)",
                (at, command, json.dumps([args, kwargs], separators=(",", ":"))),
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write the journal ({exc})") from None
        self.uncompacted += 1

    def compact(self, state: bytes) -> None:
        """Keep `state` (the service after every journaled command) in place of the journal."""
        try:
            with self._transaction():
                covered = self.uncompacted + self._covered()
                self._db.execute("DELETE FROM snapshot")
                self._db.execute("INSERT INTO snapshot VALUES (?, ?)", (covered, state))
                self._db.execute("DELETE FROM journal")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write a snapshot ({exc})") from None
        self.uncompacted = 0

    def _covered(self) -> int:
        row = self._db.execute("SELECT covered FROM snapshot").fetchone()
        return 0 if row is None else row[0]

    def load(self) -> Saved | None:
        try:
            meta = {k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM meta")}
            if "spec" not in meta:
                return None
            spec = ServiceSpec.from_json(meta.pop("spec"))
            covered, snapshot = self._db.execute(
                "SELECT covered, state FROM snapshot"
            ).fetchone() or (0, None)
            rows = self._db.execute("SELECT at, command, arguments FROM journal ORDER BY seq")
            entries = [_entry(covered + n, *row) for n, row in enumerate(rows, 1)]
        except _BadEntry as exc:
            raise StoreError(f"{self.path}: {exc}") from None
        except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"{self.path}: not a readable moderation store ({exc})") from None
        self.uncompacted = len(entries)
        return Saved(spec, meta, entries, None if snapshot is None else bytes(snapshot), covered)

    def start(self, spec: ServiceSpec, meta: dict[str, Any]) -> None:
        """Begin a fresh service: forget the journal, keep the new spec, in one transaction."""
        rows = [("spec", json.dumps(spec.to_json()))]
        rows += [(k, json.dumps(v)) for k, v in meta.items()]
        with self._transaction():
            self.uncompacted = 0
            self._db.execute("DELETE FROM journal")
            self._db.execute("DELETE FROM snapshot")
            self._db.execute("DELETE FROM meta")
            self._db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", rows)

    def set_meta(self, key: str, value: Any) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value))
        )

    def close(self) -> None:
        self._db.close()
        os.close(self._lock)

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


class _BadEntry(Exception):
    pass


def _entry(number: int, at: Any, command: Any, arguments: Any) -> Entry:
    """One journal row as the core replays it; a row that is not one names itself."""
    try:
        args, kwargs = json.loads(arguments)
        if not isinstance(at, float | int) or not isinstance(command, str):
            raise ValueError("wrong column types")
        return (float(at), command, tuple(args), dict(kwargs))
    except (ValueError, TypeError) as exc:
        raise _BadEntry(f"journal entry {number} cannot be read ({exc})") from None


def _lock(path: Path) -> int:
    """An exclusive lock on the store file, held until the store is closed (or the process
    dies): one server per store. Creates the file, owner-only, if it does not exist."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StoreError(f"{path}: cannot open as a SQLite store ({exc.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise StoreError(
            f"{path}: in use by another running server (one server per store); stop it, "
            "or give this one another store"
        ) from None
    return fd


def with_tokens(entries: list[Entry], operators: Iterable[OperatorRecord]) -> list[Entry]:
    """Journal entries as the core replays them: `{"operator": id}` back to its token."""
    token = {op.id: op.token for op in operators}

    def caller(first: Any) -> Any:
        return token[first["operator"]] if isinstance(first, dict) else first

    return [
        (at, name, (caller(args[0]), *args[1:]) if args else args, kw)
        for at, name, args, kw in entries
    ]

"""A run folder's files: written atomically or appended as a run goes, so nothing is lost,
and read back; the manifest that says what ran."""

from __future__ import annotations

import csv
import json
import platform
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from .. import __version__
from ..history import write_jsonl
from .layout import HISTORIES

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


class RunFolder:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)

    @classmethod
    def create(cls, name: str, out: str | None, base: str = "results") -> RunFolder:
        if out is not None:
            return cls(Path(out))
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = Path(base) / f"{name}-{stamp}"
        suffix = 1
        while path.exists():
            suffix += 1
            path = Path(base) / f"{name}-{stamp}-{suffix}"
        return cls(path)

    def write_text(self, name: str, text: str) -> Path:
        """Write atomically: a reader never sees half a file, even after a kill."""
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
        return target

    def write_json(self, name: str, data: object) -> Path:
        return self.write_text(name, json.dumps(data, indent=2, sort_keys=False) + "\n")

    def read_json(self, name: str) -> dict:
        return json.loads((self.path / name).read_text(encoding="utf-8"))

    def read_table(self, name: str) -> list[dict[str, str]]:
        with (self.path / name).open(newline="", encoding="utf-8") as rows:
            return list(csv.DictReader(rows))

    def start_table(self, name: str, columns: Iterable[str]) -> None:
        with (self.path / name).open("w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerow(columns)

    def append_rows(self, name: str, rows: Iterable[list]) -> None:
        with (self.path / name).open("a", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows(rows)

    def write_table(self, name: str, columns: Iterable[str], rows: Iterable[list]) -> None:
        self.start_table(name, columns)
        self.append_rows(name, rows)

    def write_history(self, replication: int, ops: list) -> Path:
        target = self.path / HISTORIES / f"replication-{replication:04d}.jsonl"
        target.parent.mkdir(exist_ok=True)
        write_jsonl(ops, target, replication)
        return target


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), *args],
        capture_output=True,
        text=True,
        timeout=5,
        check=True,
    ).stdout.strip()


def git_revision() -> tuple[str | None, bool | None]:
    """The project's git revision and whether tracked files have uncommitted changes (a
    user's own new experiment file beside the shipped ones does not make the tree dirty)."""
    try:
        return _git("rev-parse", "HEAD"), bool(
            _git("status", "--porcelain", "--untracked-files=no")
        )
    except (OSError, subprocess.SubprocessError):
        return None, None


def manifest(**fields: object) -> dict:
    revision, dirty = git_revision()
    return {
        "package": "safeguard-harness",
        "version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_revision": revision,
        "git_dirty": dirty,
        "command": sys.argv,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **fields,
    }

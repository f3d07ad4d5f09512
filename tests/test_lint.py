"""The code base stays ruff clean (lint and format), with the settings in pyproject.toml, and
no function is longer than a screen."""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import ROOT


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True
    )


def test_ruff_check_is_clean():
    result = ruff("check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = ruff("format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


LONGEST = 60  # lines a function may have; the FastAPI app factory declares every route
EXEMPT = {("targets/moderation/api/app.py", "create_app")}


def test_no_function_is_longer_than_a_screen():
    long = []
    for root in ("harness", "targets"):
        for path in sorted((ROOT / root).rglob("*.py")):
            where = path.relative_to(ROOT).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = node.end_lineno - node.lineno + 1
                    if lines > LONGEST and (where, node.name) not in EXEMPT:
                        long.append(f"{where}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, long

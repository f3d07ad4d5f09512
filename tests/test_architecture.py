"""The architecture page names every package and module of the tree, so it cannot drift
from the code: a new module or package without its mention fails here."""

from __future__ import annotations

from conftest import ROOT

PAGE = ROOT / "docs" / "architecture.md"
SOURCES = [p for root in ("harness", "targets") for p in sorted((ROOT / root).rglob("*.py"))]
# one module per persona, one per safeguard: their own pages list them, and their tests
# fail when a module has no row there, so adding one touches no page but its own
PLUGGABLE = {ROOT / "harness" / "personas", ROOT / "targets" / "moderation" / "safeguards"}


def section() -> str:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index("## How it fits together")
    return text[start : text.index("\n## ", start + 1)]


def test_every_module_is_named():
    text = section()
    modules = [
        p
        for p in SOURCES
        if p.name != "__init__.py" and (p.parent not in PLUGGABLE or p.stem == "base")
    ]
    missing = [p.relative_to(ROOT).as_posix() for p in modules if f"`{p.name}`" not in text]
    assert not missing, f"docs/architecture.md does not name: {missing}"


def test_every_package_is_named():
    text = section()
    packages = {p.parent for p in SOURCES if p.name == "__init__.py"}
    names = {p.relative_to(ROOT).as_posix() for p in packages} - {"harness", "targets"}
    missing = sorted(
        n for n in names if f"`{n}/`" not in text and f"`{n.split('/', 1)[1]}/`" not in text
    )
    assert not missing, f"docs/architecture.md does not name the packages: {missing}"

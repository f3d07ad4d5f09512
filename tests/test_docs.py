"""The documentation site builds with `mkdocs build --strict` and no warning; its
experiment-file reference is written from the schema and shows every key, or the build
fails; every command has a page showing its usage; the README's links lead to pages."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT
from mkdocs.config import load_config
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files


def hook(name: str):
    """A build hook of docs/hooks/, loaded the way MkDocs loads it (by path)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_site_builds_strict_without_a_warning(tmp_path):
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not re.search(r"^(WARNING|ERROR)\b", output, flags=re.MULTILINE), output
    reference = (site / "reference" / "index.html").read_text(encoding="utf-8")
    for table in ("[experiment]", "[safeguards.two_person_rule]", "[[faults]]", "[compare]"):
        assert table in reference, table
    assert "usage: harness worker" in (site / "commands" / "worker" / "index.html").read_text()
    # a pipe escaped for a table inside code is shown with its backslash by the site
    pages = site.rglob("*.html")
    shown = [str(p.relative_to(site)) for p in pages if "\\|" in p.read_text(encoding="utf-8")]
    assert shown == []


def test_a_key_the_reference_does_not_show_fails_the_build():
    reference = hook("reference")
    schema = reference.file_schema(comparison=True)
    assert "`cancel_probability`" in reference.render(schema)
    schema["$defs"]["Unreachable"] = {"type": "object", "properties": {"lost": {"type": "integer"}}}
    with pytest.raises(PluginError, match=r"Unreachable\.lost"):
        reference.render(schema)


def test_a_command_without_a_page_fails_the_build(tmp_path):
    usage = hook("usage")
    config = load_config(str(ROOT / "mkdocs.yml"))
    pages = []
    for name in usage.commands():
        (tmp_path / "commands").mkdir(exist_ok=True)
        (tmp_path / "commands" / f"{name}.md").write_text(f"<!-- usage: {name} -->")
        pages.append(File(f"commands/{name}.md", str(tmp_path), str(tmp_path / "site"), True))
    assert usage.on_files(Files(pages), config)
    with pytest.raises(PluginError, match="usage of: worker"):
        usage.on_files(Files([page for page in pages if "worker" not in page.src_uri]), config)


def test_every_link_of_the_readme_to_the_documentation_leads_to_a_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((docs/[^)#]+)", readme)
    assert links
    assert [link for link in links if not (ROOT / link).is_file()] == []

"""Each command's page shows its `--help` as the installed harness prints it, written at
every build of the documentation; a command without a page, or a page naming a command the
harness lacks, fails the build (MkDocs hook, see mkdocs.yml)."""

from __future__ import annotations

import argparse
import os
import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from harness.cli import build_parser

MARKER = re.compile(r"<!-- usage: ([a-z]+) -->")
WIDTH = "100"  # columns argparse wraps the help at, as a terminal of that width would


def commands() -> dict[str, argparse.ArgumentParser]:
    """The harness's commands by name, as its command line defines them."""
    parser = build_parser()
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Fail the build when a command has no page that shows its usage."""
    shown = set()
    for file in files.documentation_pages():
        if file.src_uri.startswith("commands/"):
            shown |= set(MARKER.findall(file.content_string))
    missing = sorted(set(commands()) - shown)
    if missing:
        raise PluginError(f"no command page shows the usage of: {', '.join(missing)}")
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace each usage marker with the command's help in a code block."""
    known = commands()

    def usage(match: re.Match[str]) -> str:
        name = match[1]
        if name not in known:
            raise PluginError(f"{page.file.src_uri}: the harness has no command {name!r}")
        before = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = WIDTH
        try:
            text = known[name].format_help()
        finally:
            if before is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = before
        return f"## Usage\n\n```text\n{text.rstrip()}\n```"

    return MARKER.sub(usage, markdown)

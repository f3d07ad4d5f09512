"""The experiment-file reference page, written from `harness schema` at every build of the
documentation, so it cannot fall behind the models that validate experiment files. A key of
the schema that the page does not show fails the build (MkDocs hook, see mkdocs.yml)."""

from __future__ import annotations

import json
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

from harness.experiment.schema import file_schema

PAGE = "reference.md"
DISTRIBUTION = {"$ref": "#/$defs/Distribution"}
TYPES = {"object": "table", "array": "list"}
DURATION_WORDS = "a duration such as"  # the description every duration shares: its type says it
UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))

INTRO = """# Experiment-file reference

Every key an experiment file (and a comparison file) takes, written from the schema that
`harness schema --comparison` prints when this site is built, so it lists exactly what the
harness accepts: each key's type, default, allowed values or range, and what it is (for
personas, where its default comes from). Durations are written `"90s"`, `"11m"`, `"8h"`,
`"2d"` or `"1h30m"`, or as a number of seconds. Where a key says *or a distribution*, a
distribution such as `{ dist = "uniform", low = 0.1, high = 0.3 }` or
`{ choice = [false, true] }` may stand instead of a value ([uncertainty](uncertainty.md)).
Checks that involve several keys at once (a fault after the end of the shift, the size of a
run) are in [experiment files](experiment-files.md#bounds).

"""


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the generated page to the site's files."""
    files.append(File.generated(config, PAGE, content=render(file_schema(comparison=True))))
    return files


def render(schema: dict[str, Any]) -> str:
    """The page in Markdown; fails when a key of the schema is missing from it."""
    page = Page(schema["$defs"])
    for name, field in schema["properties"].items():
        page.top_level(name, field, name in schema.get("required", ()))
    missing = sorted(expected(schema) - page.shown)
    if missing:
        keys = ", ".join(f"{owner}.{key}" for owner, key in missing)
        raise PluginError(f"{PAGE}: the schema has keys the reference does not show: {keys}")
    return INTRO + "\n".join(page.lines) + "\n"


def expected(schema: dict[str, Any]) -> set[tuple[str, str]]:
    """Every (model, key) pair of the schema: the file's top level and each definition."""
    pairs = {("file", key) for key in schema["properties"]}
    for owner, definition in schema["$defs"].items():
        pairs |= {(owner, key) for key in definition.get("properties", {})}
    for name, field in schema["properties"].items():
        inline = field.get("items", field).get("properties", {})
        pairs |= {(f"file.{name}", key) for key in inline}
    return pairs


class Page:
    """The Markdown lines of the reference and the (model, key) pairs they show."""

    def __init__(self, definitions: dict[str, Any]) -> None:
        self.definitions = definitions
        self.lines: list[str] = []
        self.shown: set[tuple[str, str]] = set()

    def top_level(self, name: str, field: dict[str, Any], required: bool) -> None:
        """One top-level key: a table, a list of tables (one section per kind), or a value."""
        self.shown.add(("file", name))
        items = field.get("items", {})
        if "$ref" in field:
            self.table(f"[{name}]", name, ref_name(field), required)
        elif field.get("type") == "array" and ("oneOf" in items or "$ref" in items):
            self.entries(name, field)
        elif "properties" in items:
            self.inline(f"[[{name}]]", name, field.get("description", ""), items)
        elif "properties" in field:
            self.inline(f"[{name}]", name, field.get("description", ""), field)
        else:
            self.lines += [f"## `[{name}]`", "", *paragraph(field)]

    def table(self, heading: str, path: str, owner: str, required: bool = False) -> None:
        """A TOML table: its rows, then a section for each table nested in it."""
        definition = self.definitions[owner]
        note = " (required)" if required else ""
        self.lines += [f"## `{heading}`{note}", "", *paragraph(definition)]
        nested = []
        self.header()
        for key, field in definition.get("properties", {}).items():
            self.shown.add((owner, key))
            if "$ref" in field and field["$ref"] != DISTRIBUTION["$ref"]:
                nested.append((key, ref_name(field)))
                self.lines.append(
                    f"| `{key}` | table | | | see [`[{path}.{key}]`](#{anchor(path, key)}) |"
                )
            else:
                self.row(key, field, key in definition.get("required", ()))
        self.lines.append("")
        for key, child in nested:
            self.table(f"[{path}.{key}]", f"{path}.{key}", child)

    def entries(self, name: str, field: dict[str, Any]) -> None:
        """A list of tables, e.g. `[[operators]]`: one section per kind of entry."""
        items = field["items"]
        limits = allowed_of(field)
        self.lines += [
            f"## `[[{name}]]`",
            "",
            f"A list of tables{'; ' + limits if limits else ''}.",
            "",
        ]
        for variant in items.get("oneOf", [items]):
            owner = ref_name(variant)
            definition = self.definitions[owner]
            if "oneOf" in items:  # one section per kind, named by the word that picks it
                self.lines += [f"### `[[{name}]]` {kind_label(definition) or owner}", ""]
            self.lines += paragraph(definition)
            self.header()
            for key, sub in definition.get("properties", {}).items():
                self.shown.add((owner, key))
                self.row(key, sub, key in definition.get("required", ()))
            self.lines.append("")

    def inline(self, heading: str, name: str, text: str, table: dict[str, Any]) -> None:
        """A table, or list of tables, whose keys the schema gives in place."""
        self.lines += [f"## `{heading}`", "", " ".join(text.split()), ""]
        self.header()
        for key, sub in table["properties"].items():
            self.shown.add((f"file.{name}", key))
            self.row(key, sub, key in table.get("required", ()))
        self.lines.append("")

    def header(self) -> None:
        """The column titles of a table of keys."""
        self.lines += ["| key | type | default | allowed | what it is |", "|---|---|---|---|---|"]

    def row(self, key: str, field: dict[str, Any], required: bool) -> None:
        """One key's row."""
        default = "required" if required else show_default(field)
        cells = [f"`{key}`", type_of(field), default, allowed_of(field), describe(field)]
        self.lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")


def anchor(path: str, key: str) -> str:
    """The id MkDocs gives the heading of a nested table."""
    return f"{path}{key}".replace(".", "").lower()


def ref_name(field: dict[str, Any]) -> str:
    """The definition a `$ref` points to."""
    return field["$ref"].rsplit("/", 1)[-1]


def kind_label(definition: dict[str, Any]) -> str:
    """`persona = "diligent"` for the variant of a list of tables that a fixed word picks."""
    for key, field in definition.get("properties", {}).items():
        if "const" in field:
            return f'{key} = "{field["const"]}"'
        words = plain(field).get("enum")
        if key in ("kind", "persona") and words:
            return f"{key} = " + " or ".join(f'"{word}"' for word in words)
    return ""


def plain(field: dict[str, Any]) -> dict[str, Any]:
    """The field without the distribution alternative every plain value has, its nested
    alternatives flattened into one `anyOf` (or none, when only one is left)."""
    options = options_of(field)
    rest = {key: value for key, value in field.items() if key != "anyOf"}
    if "anyOf" not in field:
        return field
    return {**options[0], **rest} if len(options) == 1 else {**rest, "anyOf": options}


def options_of(field: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives of a value, nested `anyOf` flattened, the distribution left out."""
    if "anyOf" not in field:
        return [field]
    found = []
    for option in field["anyOf"]:
        if option != DISTRIBUTION:
            found += options_of(option)
    return found


def is_duration(field: dict[str, Any]) -> bool:
    """A duration: a number of seconds, or a string such as "1h30m"."""
    kinds = {(option.get("type"), "pattern" in option) for option in options_of(field)}
    return {("number", False), ("string", True)} <= kinds


def type_of(field: dict[str, Any]) -> str:
    """The kind of value, as a person writes it in TOML."""
    base = plain(field)
    suffix = ", or a distribution" if DISTRIBUTION in field.get("anyOf", []) else ""
    if is_duration(base):
        optional = (
            " (or left out)" if any(o.get("type") == "null" for o in options_of(base)) else ""
        )
        return "duration" + optional + suffix
    if "const" in base:
        return "fixed word"
    if "enum" in base:
        return "word" + suffix
    if base.get("type") == "array":
        parts = [type_of(item) for item in base.get("prefixItems", [])]
        return f"[{', '.join(parts)}]" if parts else "list"
    options = base.get("anyOf", [base])
    names = [
        TYPES.get(o.get("type", "object"), o.get("type"))
        for o in options
        if o.get("type") != "null"
    ]
    text = " or ".join(sorted(set(names))) or "table"
    if any(option.get("type") == "null" for option in options):
        text += " (or left out)"
    return text + suffix


def allowed_of(field: dict[str, Any]) -> str:
    """The allowed words, the range of a number, the length of a list or a string."""
    base = plain(field)
    if "const" in base:
        return f'`"{base["const"]}"`'
    if "enum" in base:
        return " | ".join(f"`{json.dumps(word)}`" for word in base["enum"])
    if is_duration(base):
        top = max(option.get("maximum", 0) for option in options_of(base))
        return f"up to `{duration(top)}`" if top else ""
    options = [option for option in base.get("anyOf", [base]) if option.get("type") != "null"]
    return "; ".join(filter(None, (bounds(option) for option in options)))


def bounds(field: dict[str, Any]) -> str:
    """A number's range, a string's pattern and length, a list's length."""
    parts = []
    low = field.get("minimum", field.get("exclusiveMinimum"))
    high = field.get("maximum", field.get("exclusiveMaximum"))
    if low is not None or high is not None:
        left = "(" if "exclusiveMinimum" in field else "["
        right = ")" if "exclusiveMaximum" in field else "]"
        parts.append(f"{left}{number(low, '-inf')}, {number(high, 'inf')}{right}")
    if ("minItems" in field or "maxItems" in field) and "prefixItems" not in field:
        parts.append(
            f"{field.get('minItems', 0)} to {field.get('maxItems', 'any number of')} entries"
        )
    if "maxLength" in field:
        parts.append(f"at most {field['maxLength']} characters")
    if "pattern" in field:
        parts.append(f"matching `{field['pattern']}`")
    return ", ".join(parts)


def number(value: float | None, unbounded: str) -> str:
    """A bound as people read it: 1,000,000 rather than 1000000."""
    if value is None:
        return unbounded
    return f"{value:,}" if isinstance(value, int) else f"{value:,g}"


def show_default(field: dict[str, Any]) -> str:
    """The default as it would be written in the file (durations as durations)."""
    if "default" not in field:
        return ""
    value = field["default"]
    if value is None:
        return "none"
    if is_duration(plain(field)) and isinstance(value, int | float):
        return f"`{duration(value)}`"
    if isinstance(value, dict):
        return "see below"
    if isinstance(value, list) and value and all(isinstance(v, int | float) for v in value):
        durations = plain(field).get("prefixItems")
        if durations and all(is_duration(item) for item in durations):
            return "`[" + ", ".join(f'"{duration(v)}"' for v in value) + "]`"
    return f"`{json.dumps(value)}`"


def duration(seconds: float) -> str:
    """Seconds as a duration people write: 5400 -> "1h30m"."""
    if seconds == 0 or seconds != int(seconds):
        return f"{seconds:g}s"
    parts, rest = [], int(seconds)
    for unit, size in UNITS:
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts)


def paragraph(item: dict[str, Any]) -> list[str]:
    """A table's description and a blank line, or nothing when it has none."""
    text = describe(item)
    return [text, ""] if text else []


def describe(item: dict[str, Any]) -> str:
    """A key's or table's description on one line (none for the words every duration has)."""
    text = " ".join(item.get("description", "").split())
    return "" if text.startswith(DURATION_WORDS) else text

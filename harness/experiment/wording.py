"""Validation errors in the project's words: what a key allows, with a suggestion where one
exists. Pydantic finds the problem; this module says it the way the documentation does
(docs/experiment-files.md)."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Iterator
from typing import Annotated, Any, Literal, Union

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, PlainSerializer
from pydantic.fields import FieldInfo

from targets.moderation.durations import format_duration

PATTERNS = {
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$": "letters, digits, '_', '.' and '-', starting with a "
    "letter or digit (it names the run folder)",
}
"""What each string pattern of the schema allows, in words."""


def suggest(word: str, options: Iterable[str]) -> str:
    """'; did you mean X?' for the closest option, or nothing when none is close."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""


def explain(error: dict[str, Any], root: type[BaseModel]) -> str:
    """One of pydantic's errors (from `errors(include_url=False)`) on a `root` document,
    as what the key allows."""
    kind, ctx, value = error["type"], error.get("ctx", {}), error.get("input")
    field = field_at(root, error["loc"])
    if kind in ("value_error", "assertion_error"):
        return error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "missing" and error["loc"] and isinstance(error["loc"][-1], int):
        return _length(kind, ctx, field)  # a pair given one value
    if kind == "missing":
        return "missing: this key is required"
    if kind in _BOUNDS:
        return _bound(kind, ctx[_BOUNDS[kind]], field, value)
    if kind == "literal_error":
        options = [str(o) for o in _literals(field)]
        if not options:
            return f"one of {ctx['expected']}"
        return f"one of {', '.join(map(repr, options))}{suggest(str(value), options)}"
    if kind in ("too_short", "too_long", "tuple_type"):
        return _length(kind, ctx, field)
    return _of_type(kind, ctx, field, value)


def _of_type(kind: str, ctx: dict[str, Any], field: FieldInfo | None, value: Any) -> str:
    """What a key of the wrong type or form takes."""
    if kind == "finite_number":
        return "a finite number (inf and nan are not allowed)"
    if kind.startswith("float"):
        return "a number" + _number_hint(value, _is_share(field))
    if kind.startswith("int"):
        return "a whole number" + _number_hint(value, False)
    if kind == "string_too_long":
        return f"at most {ctx['max_length']} characters"
    if kind == "string_pattern_mismatch":
        return PATTERNS.get(ctx["pattern"], "not in the form this key takes")
    return _FIXED.get(kind, "not a value this key takes")


_BOUNDS = {
    "greater_than_equal": "ge",
    "greater_than": "gt",
    "less_than_equal": "le",
    "less_than": "lt",
}
_FIXED = {
    "bool_type": "true or false, without quotes",
    "bool_parsing": "true or false, without quotes",
    "string_type": "text in quotes",
    "list_type": "a list in square brackets",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "dict_type": "a table",
}


def _bound(kind: str, bound: float, field: FieldInfo | None, value: Any) -> str:
    """A value past a bound: a share, a duration or a number, as the documentation writes them."""
    if _is_share(field):
        example = (
            f": {value:g}% is {value / 100:g}"
            if isinstance(value, int | float) and 1 < value <= 100
            else " (2% is 0.02)"
        )
        return f"a share between 0 and 1{example}"
    shown = (
        format_duration(bound)
        if _is_duration(field)
        else f"{bound:,}"
        if isinstance(bound, int)
        else f"{bound:,g}"
    )
    words = {"ge": "at least", "gt": "more than", "le": "at most", "lt": "less than"}
    return f"{words[_BOUNDS[kind]]} {shown}"


def _number_hint(value: Any, share: bool) -> str:
    """What to write instead of a string that looks like a number (or a percentage)."""
    if isinstance(value, bool):
        return ", not true or false"
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if text.endswith("%"):
        try:
            return f": write {float(text[:-1]) / 100:g} for {text}"
        except ValueError:
            pass
    try:
        float(text)
    except ValueError:
        return " (2% is 0.02)" if share else ""
    return f", without quotes: {text}"


def _length(kind: str, ctx: dict[str, Any], field: FieldInfo | None) -> str:
    """A list with too few or too many entries, or a pair that is not a pair."""
    annotation = _unwrap(field.annotation) if field else None
    if typing.get_origin(annotation) is tuple:
        return f"a list of {len(typing.get_args(annotation))} values"
    if kind == "too_short":
        need = ctx["min_length"]
        return f"needs at least {need} {'entry' if need == 1 else 'entries'}, has none"
    return f"at most {ctx['max_length']:,} entries"


def _limits(field: FieldInfo | None) -> dict[str, float]:
    found: dict[str, float] = {}
    for item in field.metadata if field else ():
        for cls, name in ((Ge, "ge"), (Gt, "gt"), (Le, "le"), (Lt, "lt")):
            if isinstance(item, cls):
                found[name] = getattr(item, name)
    return found


def _is_share(field: FieldInfo | None) -> bool:
    return _limits(field) == {"ge": 0, "le": 1}


def _is_duration(field: FieldInfo | None) -> bool:
    return field is not None and any(
        isinstance(m, PlainSerializer) and m.func is format_duration for m in field.metadata
    )


def _literals(field: FieldInfo | None) -> tuple[Any, ...]:
    annotation = _unwrap(field.annotation) if field else None
    return typing.get_args(annotation) if typing.get_origin(annotation) is Literal else ()


def _unwrap(annotation: Any) -> Any:
    """The annotation without Annotated metadata and without `| None`."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def field_at(root: type[BaseModel], loc: tuple) -> FieldInfo | None:
    """The field an error location points to; union tags (a persona, a fault kind) in the
    location pick the union's member."""
    annotation: Any = root
    field = None
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            args = typing.get_args(annotation)
            annotation = args[0] if args else None
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            if field is None:
                return None
            annotation = field.annotation
        else:
            annotation = next((m for m in _members(annotation) if part in _tags(m)), None)
    return field


def _members(annotation: Any) -> Iterator[type[BaseModel]]:
    for member in typing.get_args(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            yield member


def _tags(model: type[BaseModel]) -> set[Any]:
    """The literal values a union member's fields take (its persona or kind among them)."""
    return {
        value
        for field in model.model_fields.values()
        if typing.get_origin(field.annotation) is Literal
        for value in typing.get_args(field.annotation)
    }


def key_homes(root: type[BaseModel], key: str) -> list[str]:
    """Where else in the schema a key of this name lives, e.g. "[population]" or
    "[[operators]] with persona = 'random_approver'"."""
    return [home for name, home in _schema_keys(root, "", "") if name == key]


def _schema_keys(model: type[BaseModel], table: str, note: str) -> Iterator[tuple[str, str]]:
    """(key, the table it lives in) for every key of the schema, every union member's too."""
    for name, field in model.model_fields.items():
        yield name, f"[{table}]{note}" if table else "the top level"
        annotation = field.annotation
        listed = typing.get_origin(_unwrap(annotation)) is list
        inner = typing.get_args(_unwrap(annotation))[0] if listed else annotation
        here = f"[{name}]" if listed else f"{table}.{name}".strip(".")
        for sub, sub_note in _sub_models(inner):
            yield from _schema_keys(sub, here, sub_note)


def _sub_models(annotation: Any) -> Iterator[tuple[type[BaseModel], str]]:
    """The models a field holds, each with how a file names it (the union's tag)."""
    metadata = typing.get_args(annotation)[1:] if typing.get_origin(annotation) is Annotated else ()
    tag = next((m.discriminator for m in metadata if getattr(m, "discriminator", None)), None)
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation, ""
        return
    for member in _members(annotation):
        value = typing.get_args(member.model_fields[tag].annotation)[0] if tag else None
        yield member, f" with {tag} = {value!r}" if tag else ""

"""JSON Schemas of experiment and comparison files, built from the models that validate them,
so that editors (taplo, Even Better TOML) complete keys and flag mistakes as they are typed.

The schema checks what each key accepts on its own (types, ranges, allowed words, unknown
keys). What depends on several keys at once (a fault after the shift ends, escalation with
no senior operator, the size of a run) is still checked only by the harness."""

from __future__ import annotations

from typing import Any

from ..uncertainty.distributions import MAX_CHOICES, REQUIRED
from .model import Experiment

DRAFT = "https://json-schema.org/draft/2020-12/schema"

DISTRIBUTION = {
    "description": "an uncertain value (`harness run` and `harness sensitivity` draw it): "
    '{ dist = "uniform", low = 0.1, high = 0.3 } or { choice = [false, true] }',
    "oneOf": [
        {
            "type": "object",
            "properties": {
                "dist": {"enum": list(REQUIRED)},
                **{name: {"type": "number"} for names in REQUIRED.values() for name in names},
            },
            "required": ["dist"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"choice": {"type": "array", "minItems": 1, "maxItems": MAX_CHOICES}},
            "required": ["choice"],
            "additionalProperties": False,
        },
    ],
}
"""Where a value goes, a distribution may stand instead (harness/uncertainty/tables.py)."""

DOTTED_KEY = "a dotted experiment key, as `--set` takes it"

COMPARISON_TABLES = {
    "matrix": {
        "description": "the cross product of these values: "
        f'"{DOTTED_KEY}" = [values], e.g. "safeguards.protected_list.mode" = ["off", "escalate"]',
        "type": "object",
        "additionalProperties": {"$ref": "#/$defs/MatrixValues"},
    },
    "configurations": {
        "description": "named configurations, run after the matrix's",
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "set": {"type": "object", "description": f"{DOTTED_KEY} = value"},
            },
            "required": ["name"],
            "additionalProperties": False,
        },
    },
    "compare": {
        "type": "object",
        "properties": {
            "baseline": {
                "type": "string",
                "description": "the configuration the others are compared with "
                "(default: the first)",
            }
        },
        "additionalProperties": False,
    },
}
"""The tables a comparison file adds to an experiment file (harness/matrix.py)."""

MATRIX_VALUES = {
    "description": "a non-empty list of values, or a table of dotted keys (TOML nests "
    "a bare dotted key into tables)",
    "anyOf": [
        {"type": "array", "minItems": 1},
        {"type": "object", "additionalProperties": {"$ref": "#/$defs/MatrixValues"}},
    ],
}


def file_schema(comparison: bool = False) -> dict[str, Any]:
    """The schema of an experiment file, or with `comparison` of a comparison file."""
    schema = Experiment.model_json_schema()
    for definition in [schema, *schema["$defs"].values()]:
        _allow_distributions(definition)
    schema["$defs"]["Distribution"] = DISTRIBUTION
    if comparison:
        schema["properties"].update(COMPARISON_TABLES)
        schema["$defs"]["MatrixValues"] = MATRIX_VALUES
        schema["title"] = "Comparison"
    return {"$schema": DRAFT, **schema}


def _allow_distributions(model: dict[str, Any]) -> None:
    """Let every plain value of `model` be a distribution instead, except fixed words (a
    persona or fault kind, which picks the table's shape)."""
    for name, field in model.get("properties", {}).items():
        if "const" in field or "$ref" in field or field.get("type") in ("array", "object"):
            continue
        shown = {key: field.pop(key) for key in ("title", "description", "default") if key in field}
        model["properties"][name] = {**shown, "anyOf": [field, {"$ref": "#/$defs/Distribution"}]}

"""Durations as people write them in experiment files: "90s", "11m", "8h", "2d", "1h30m"."""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

DAY = 86400.0
_UNITS = {"d": DAY, "h": 3600.0, "m": 60.0, "s": 1.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?[dhms])+$")
MAX_DURATION = 365 * DAY
"""The longest duration anything takes: a year, far past any shift, window or delay."""
DURATION_HELP = "a duration such as '90s', '11m', '8h', '2d' or '1h30m'"


def parse_duration(text: str) -> float:
    """Seconds in `text`; raises ValueError naming the accepted forms."""
    return _bounded(seconds_of(text))


def _bounded(seconds: float) -> float:
    """`seconds`, if it is a number of seconds a duration may have (finite, at most a year):
    an endless or absurd duration would make a run that never ends."""
    if not math.isfinite(seconds) or abs(seconds) > MAX_DURATION:
        raise ValueError(f"expected {DURATION_HELP}, at most {format_duration(MAX_DURATION)}")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact spelling of `seconds` ("11m", "1h30m", "2.5s")."""
    if seconds == 0:
        return "0s"
    parts = []
    rest = float(seconds)
    for unit in ("d", "h", "m"):
        size = _UNITS[unit]
        whole = int(rest // size)
        if whole:
            parts.append(f"{whole}{unit}")
            rest -= whole * size
    if rest or not parts:
        parts.append(f"{rest:g}s")
    return "".join(parts)


def seconds_of(value: object) -> float:
    """The seconds a duration field's value says, before any bound: "11m" or a number."""
    if isinstance(value, str):
        compact = value.strip().replace(" ", "")
        if not _WHOLE.match(compact):
            raise ValueError(f"expected {DURATION_HELP}, got {value!r}")
        return sum(float(n) * _UNITS[u] for n, u in _PART.findall(compact))
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected {DURATION_HELP}")
    try:
        return float(value)
    except OverflowError:  # an integer too large for a float
        return math.inf


def _coerce(value: object) -> float:
    return _bounded(seconds_of(value))


DURATION_JSON_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": -MAX_DURATION, "maximum": MAX_DURATION},
        {"type": "string", "pattern": r"^\s*(?:\d+(?:\.\d+)?\s*[dhms]\s*)+$"},
    ],
    "description": f"{DURATION_HELP}, or a number of seconds",
}
"""What editors check a duration against: the strings people write as well as seconds."""

Duration = Annotated[
    float,
    BeforeValidator(_coerce),
    PlainSerializer(format_duration),
    WithJsonSchema(DURATION_JSON_SCHEMA),
]
"""A duration field: accepts "11m" (or plain seconds), holds seconds, writes "11m"."""

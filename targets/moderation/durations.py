"""Durations as people write them in experiment files: "90s", "11m", "8h", "2d", "1h30m"."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

DAY = 86400.0
_UNITS = {"d": DAY, "h": 3600.0, "m": 60.0, "s": 1.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?[dhms])+$")
DURATION_HELP = "a duration such as '90s', '11m', '8h', '2d' or '1h30m'"


def parse_duration(text: str) -> float:
    """Seconds in `text`; raises ValueError naming the accepted forms."""
    compact = text.strip().replace(" ", "")
    if not _WHOLE.match(compact):
        raise ValueError(f"expected {DURATION_HELP}, got {text!r}")
    return sum(float(n) * _UNITS[u] for n, u in _PART.findall(compact))


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


def _coerce(value: object) -> object:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected {DURATION_HELP}")
    return float(value)


Duration = Annotated[float, BeforeValidator(_coerce), PlainSerializer(format_duration)]
"""A duration field: accepts "11m" (or plain seconds), holds seconds, writes "11m"."""

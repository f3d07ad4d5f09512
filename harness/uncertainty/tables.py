"""Recognising a distribution where a number is expected, in raw experiment data.

Light on purpose: `harness.experiment.model` imports it, and the command line must start at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..errors import BadInput

MARKERS = ("dist", "choice")
"""A table with one of these keys stands for an uncertain value."""


def is_distribution(value: Any) -> bool:
    return isinstance(value, dict) and any(marker in value for marker in MARKERS)


def distributions(raw: Any, prefix: str = "") -> Iterator[tuple[str, dict]]:
    """(dotted key, table) for every distribution in raw experiment data, in file order."""
    if is_distribution(raw):
        yield prefix, raw
        return
    if isinstance(raw, list):
        raw = dict(enumerate(raw))
    items = raw.items() if isinstance(raw, dict) else ()
    for key, value in items:
        yield from distributions(value, f"{prefix}.{key}" if prefix else str(key))


def refuse_distributions(raw: dict[str, Any], where: Callable[[str], str]) -> None:
    """Commands that run one configuration need numbers: say which key is uncertain."""
    for key, _ in distributions(raw):
        raise BadInput(
            f"{where(key)}: {key}: a distribution; only `harness run` (simulated), `check`, "
            "`compare` and `sensitivity` draw uncertain parameters, here the key needs a value"
        )


def refuse_band_gates(raw: dict[str, Any], where: Callable[[str], str]) -> None:
    """A band gate bounds a spread over parameter sets: without an uncertain parameter
    there is none."""
    gates = raw.get("gates")
    for i, gate in enumerate(gates if isinstance(gates, list) else ()):
        if isinstance(gate, dict) and "max_band_p95" in gate:
            raise BadInput(
                f"{where(f'gates.{i}')}: gates.{i}.max_band_p95: bounds the uncertainty band "
                "over parameter sets, and this experiment has no uncertain parameter "
                "(a distribution where a number goes); use max or max_upper_ci"
            )

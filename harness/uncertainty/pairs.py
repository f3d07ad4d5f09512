"""Configurations compared under the same parameter draws: in how many parameter sets each
is safer than the baseline, and where it loses.

Every configuration of a comparison under uncertainty runs the same parameter sets with the
same replication seeds, so set i of one and set i of another differ only by configuration.
A configuration that wins on average may still lose in part of the parameter space (a
safeguard that only helps against a malicious insider): the count says how often, and the
parameter that best separates the sets it loses from the others says where. Everything is
computed from the run folders (`summary.json` and `parameter_sets.csv`)."""

from __future__ import annotations

import csv
import statistics
from collections.abc import Sequence
from typing import Any

from ..run_folder import RunData
from .evaluate import RATES

METRIC = RATES[0]
"""Safer means a lower protected slip-through rate in the parameter set."""
SETS = "parameter_sets.csv"
NUMERIC_GROUPS = 5
"""A parameter with more distinct values than this is split at its median; one with fewer
(a choice) is grouped by value."""


def under_uncertainty(runs: Sequence[RunData], baseline: int | None) -> dict:
    """comparison.json's `uncertainty` section: each configuration's band and, against the
    baseline, the parameter sets it is safer, as safe and less safe in."""
    sections = [run.summary.get("uncertainty") for run in runs]
    first = next(s for s in sections if s is not None)
    bands = {
        run.name: {rate: s["metrics"][rate]["band"] for rate in RATES}
        for run, s in zip(runs, sections, strict=True)
        if s is not None
    }
    pairs = []
    if baseline is not None:
        base = runs[baseline]
        pairs = [pair(run, base) for i, run in enumerate(runs) if i != baseline]
    return {
        "samples": first["samples"],
        "sampling": first["sampling"],
        "replications_per_set": first["replications_per_set"],
        "metric": METRIC,
        "bands": bands,
        "pairs": pairs,
    }


def same_draws(a: dict | None, b: dict | None) -> bool:
    """Whether two runs' parameter sets are the same draws (same design, seed, keys)."""
    if a is None or b is None:
        return False
    fields = ("samples", "sampling", "replications_per_set")
    return all(a[f] == b[f] for f in fields) and _drawn(a) == _drawn(b)


def _drawn(section: dict) -> list[str]:
    return section.get("drawn_for") or [p["key"] for p in section["parameters"]]


def pair(run: RunData, base: RunData) -> dict:
    """`run` against `base`, set by set."""
    entry: dict[str, Any] = {"configuration": run.name, "baseline": base.name}
    ours, theirs = run.summary.get("uncertainty"), base.summary.get("uncertainty")
    if not same_draws(ours, theirs) or run.summary["seed"] != base.summary["seed"]:
        return {
            **entry,
            "note": "not compared set by set: the parameter sets did not run in both, or "
            "were drawn apart (other keys, samples or seed)",
        }
    mine, other = read_sets(run), read_sets(base)
    ours_rates = [float(row[METRIC]) for row in mine]
    theirs_rates = [float(row[METRIC]) for row in other]
    losing = [a > b for a, b in zip(ours_rates, theirs_rates, strict=True)]
    safer = sum(a < b for a, b in zip(ours_rates, theirs_rates, strict=True))
    keys = [k for k in _drawn(ours) if k in mine[0] or k in other[0]]
    values = {k: [(r if k in r else o)[k] for r, o in zip(mine, other, strict=True)] for k in keys}
    return {
        **entry,
        "sets": len(losing),
        "safer": safer,
        "tied": len(losing) - safer - sum(losing),
        "less_safe": sum(losing),
        "safer_share": safer / len(losing) if losing else None,
        "loses_where": loses_where(values, losing),
    }


def read_sets(run: RunData) -> list[dict[str, str]]:
    with (run.path / SETS).open(encoding="utf-8", newline="") as rows:
        return list(csv.DictReader(rows))


def loses_where(values: dict[str, list[str]], losing: Sequence[bool]) -> dict | None:
    """The parameter whose groups (two halves at its median, or its options) differ most in
    the share of sets lost, and the group where the most are lost; None when it loses in no
    set or in every one."""
    if not 0 < sum(losing) < len(losing):
        return None
    best: tuple[float, dict] | None = None
    for key, column in values.items():
        groups = {name: members for name, members in _groups(column).items() if members}
        shares = {name: _share(members, losing) for name, members in groups.items()}
        worst = max(shares, key=lambda name: shares[name])
        spread = shares[worst] - min(shares.values())
        if best is None or spread > best[0]:
            members = groups[worst]
            rest = [i for i in range(len(losing)) if i not in set(members)]
            best = (
                spread,
                {
                    "parameter": key,
                    "region": worst,
                    "losing": sum(losing[i] for i in members),
                    "sets": len(members),
                    "losing_elsewhere": sum(losing[i] for i in rest),
                    "sets_elsewhere": len(rest),
                },
            )
    return None if best is None else best[1]


def _share(members: Sequence[int], losing: Sequence[bool]) -> float:
    return sum(losing[i] for i in members) / len(members)


def _groups(column: Sequence[str]) -> dict[str, list[int]]:
    """Set indices by region: `x < m` and `x >= m` for a many-valued number (m its median),
    `x = value` otherwise."""
    numbers = _numbers(column)
    if numbers is not None and len(set(numbers)) > NUMERIC_GROUPS:
        middle = statistics.median(numbers)
        low = [i for i, x in enumerate(numbers) if x < middle]
        high = [i for i, x in enumerate(numbers) if x >= middle]
        return {f"< {middle:.4g}": low, f">= {middle:.4g}": high}
    groups: dict[str, list[int]] = {}
    for i, value in enumerate(column):
        groups.setdefault(f"= {value}", []).append(i)
    return groups


def _numbers(column: Sequence[str]) -> list[float] | None:
    try:
        return [float(v) for v in column]
    except ValueError:
        return None

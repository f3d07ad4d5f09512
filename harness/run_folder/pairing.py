"""When two runs are comparable: one definition, for comparisons and for baselines.

Replication i draws its reports from streams seeded by the experiment's seed, i and a
purpose, over the shift and the population; operators, safeguards, faults and the restore
monitor draw from streams of their own. So replication i of two runs saw the same reports,
and the runs pair replication by replication (common random numbers), exactly when
- the same harness version ran them (it derives the streams),
- in the same mode (a live shift is not replayed from its seed), and
- from the same seed, shift and population.
What else differs (safeguards, operators, faults, restore) is what a comparison is about.
A baseline is further held to be a run of the same experiment (`SAME_EXPERIMENT`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..metrics import lookup

REPORT_STREAM = ("experiment.seed", "experiment.shift", "population")
"""What decides the reports a replication sees, besides the harness version and mode."""

SAME_EXPERIMENT = ("experiment.name", "operators", "faults")
"""What a baseline must also share with the run it judges: the same scenario, so that a
difference can only come from what a change alters (safeguards, restore, the code)."""

WHY = (
    "runs compare only when the same harness version ran them in the same mode from the "
    "same seed, shift and population, so that each replication saw the same reports"
)


class RunFacts(NamedTuple):
    """What a run folder records that decides whether it pairs with another."""

    version: str | None
    mode: str | None
    experiment: dict  # the resolved experiment


class Difference(NamedTuple):
    """The first fact in which two runs differ: its key, the other run's value, ours."""

    key: str
    theirs: Any
    ours: Any


def pairing_difference(theirs: RunFacts, ours: RunFacts) -> Difference | None:
    """The first fact that keeps two runs' replications from pairing, or None."""
    facts = [
        ("harness version", theirs.version, ours.version),
        ("mode", theirs.mode, ours.mode),
        *((k, lookup(theirs.experiment, k), lookup(ours.experiment, k)) for k in REPORT_STREAM),
    ]
    return _first(facts)


def scenario_difference(theirs: RunFacts, ours: RunFacts) -> Difference | None:
    """The first key of `SAME_EXPERIMENT` in which two runs differ, or None."""
    return _first(
        [(k, lookup(theirs.experiment, k), lookup(ours.experiment, k)) for k in SAME_EXPERIMENT]
    )


def _first(facts: list[tuple[str, Any, Any]]) -> Difference | None:
    for key, a, b in facts:
        found = first_difference(key, a, b)
        if found is not None:
            return found
    return None


def first_difference(path: str, theirs: Any, ours: Any) -> Difference | None:
    """The first leaf in which two values differ: dictionaries key by key in our file's
    order (then keys only theirs has), lists entry by entry (a different length is the
    difference of their lengths)."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        for key in [*ours, *(k for k in theirs if k not in ours)]:
            found = first_difference(f"{path}.{key}", theirs.get(key), ours.get(key))
            if found is not None:
                return found
        return None
    if isinstance(theirs, list) and isinstance(ours, list):
        if len(theirs) != len(ours):
            return Difference(f"{path} entries", len(theirs), len(ours))
        for i, (a, b) in enumerate(zip(theirs, ours, strict=True)):
            found = first_difference(f"{path}.{i}", a, b)
            if found is not None:
                return found
        return None
    return None if theirs == ours else Difference(path, theirs, ours)

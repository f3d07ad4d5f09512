"""Comparison files: one experiment and the configurations to run it under.

A comparison file is an experiment file with, in addition, either or both of

    [matrix]                      # the cross product of these values
    "safeguards.protected_list.mode" = ["off", "escalate"]
    "safeguards.two_person_rule.enabled" = [false, true]

    [[configurations]]            # named configurations, after the matrix's
    name = "2020 population"
    [configurations.set]
    "operators.2" = { persona = "compromised", count = 4 }

    [compare]
    baseline = "2020 population"  # default: the first configuration

Keys are dotted experiment keys, as `--set` takes them. Each configuration is the file's
experiment with its values set, validated like any experiment file. Configurations share the
seed, shift, replications and population, so replication i of each sees the same reports
(common random numbers): keys under `experiment.` and `population.` cannot vary.
"""

from __future__ import annotations

import copy
import itertools
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from ..errors import BadInput
from .model import (
    COMPARISON_TABLES,
    Experiment,
    apply_override,
    check_key,
    keys_overlap,
    read_toml,
    set_key,
    suggest,
    validate,
)

SHARED_SECTIONS = ("experiment", "population")
"""What every configuration shares so that replication i sees the same reports in each."""


@dataclass(frozen=True)
class Configuration:
    name: str
    values: tuple[tuple[str, Any], ...]  # (dotted key, value) set on the file's experiment
    experiment: Experiment

    def slug(self, index: int) -> str:
        """A folder name: its position, then its name in safe characters."""
        safe = re.sub(r"[^A-Za-z0-9_.]+", "-", self.name).strip("-.").lower()
        return f"{index + 1:02d}-{safe[:100]}".rstrip("-.")


@dataclass(frozen=True)
class Comparison:
    source: str
    configurations: tuple[Configuration, ...]
    baseline: int  # index into configurations

    @property
    def name(self) -> str:
        return self.configurations[0].experiment.experiment.name


Build = typing.Callable[[dict, str, typing.Sequence[str]], Experiment]
"""Raw data of one configuration (its values set), where it comes from and the overrides,
to its validated experiment."""


def load_comparison(
    path: str | Path, overrides: typing.Sequence[str] = (), build: Build = validate
) -> Comparison:
    """Read a comparison file, apply `--set` overrides to every configuration, and build
    one validated experiment per configuration (by `build`)."""
    source = str(path)
    raw = read_toml(path)
    tables = {name: raw.pop(name) for name in COMPARISON_TABLES if name in raw}
    if "matrix" not in tables and "configurations" not in tables:
        raise BadInput(
            f"{source}: nothing to compare: add a [matrix] table or [[configurations]] "
            "(`harness run` runs a single experiment)"
        )
    matrix = _matrix(tables.get("matrix", {}), source)
    named = _configurations(tables.get("configurations", []), source)
    varied = [key for key, _ in matrix] + [key for _, values in named for key, _ in values]
    for item in overrides:
        key = item.partition("=")[0].strip()
        for other in varied:
            if keys_overlap(key, other):
                raise BadInput(
                    f"{source}: --set {item}: {other!r} differs between configurations; "
                    "set it in the [matrix] or [[configurations]] instead"
                )
        apply_override(raw, item, source)

    plans = [(_matrix_name(combo), combo) for combo in _product(matrix)] + named
    if not plans:
        raise BadInput(f"{source}: matrix: empty: give at least one dotted.key = [values]")
    names = [name for name, _ in plans]
    for name in names:
        if names.count(name) > 1:
            raise BadInput(f"{source}: configurations: two configurations are named {name!r}")
    configurations = tuple(
        _build(raw, name, values, source, overrides, build) for name, values in plans
    )
    baseline = _baseline(tables.get("compare", {}), names, source)
    return Comparison(source, configurations, baseline)


def _check_shared(key: str, where: str) -> None:
    if key.split(".", 1)[0] in SHARED_SECTIONS:
        raise BadInput(
            f"{where}: {key!r} cannot differ between configurations: they share the "
            "experiment's seed, shift, replications and population so that each replication "
            "sees the same reports (set it outside the matrix)"
        )


def _matrix(table: Any, source: str) -> list[tuple[str, list]]:
    """(key, values) in file order. A bare dotted key (TOML nests it into tables) reads the
    same as a quoted one: every matrix value is a list, so nesting is unambiguous."""
    where = f"{source}: matrix"
    if not isinstance(table, dict):
        raise BadInput(f"{where}: expected a table of dotted.key = [values]")
    matrix = []
    for key, values in _flatten(table):
        if not isinstance(values, list) or not values:
            raise BadInput(
                f"{where}: {key!r} = {values!r}: expected a non-empty list of values, "
                "e.g. [false, true]"
            )
        for value in values:
            if values.count(value) > 1:
                raise BadInput(f"{where}: {key!r}: {toml_value(value)} is listed twice")
        _check_shared(key, where)
        matrix.append((key, values))
    return matrix


def _flatten(table: dict, prefix: str = "") -> list[tuple[str, Any]]:
    items = []
    for key, value in table.items():
        if isinstance(value, dict):
            items.extend(_flatten(value, f"{prefix}{key}."))
        else:
            items.append((f"{prefix}{key}", value))
    return items


def _configurations(entries: Any, source: str) -> list[tuple[str, tuple[tuple[str, Any], ...]]]:
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise BadInput(f"{source}: configurations: expected [[configurations]] tables")
    named = []
    for i, entry in enumerate(entries):
        where = f"{source}: configurations.{i}"
        unknown = sorted(set(entry) - {"name", "set"})
        if unknown:
            raise BadInput(f"{where}: unknown key {unknown[0]!r} (allowed here: name, set)")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise BadInput(f"{where}.name: missing: each configuration needs a name")
        values = entry.get("set", {})
        if not isinstance(values, dict):
            raise BadInput(f"{where}.set: expected a table of dotted.key = value")
        for key in values:
            _check_shared(key, f"{where}.set")
        named.append((name.strip(), tuple(values.items())))
    return named


def _product(matrix: list[tuple[str, list]]) -> list[tuple[tuple[str, Any], ...]]:
    """The cross product in file order, the first key varying slowest."""
    if not matrix:
        return []
    keys = [key for key, _ in matrix]
    return [
        tuple(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in matrix))
    ]


def _matrix_name(values: tuple[tuple[str, Any], ...]) -> str:
    """`protected_list.mode=escalate, two_person_rule.enabled=true`: the keys without the
    leading sections they all share (each keeps at least its last two parts)."""
    split = [key.split(".") for key, _ in values]
    common = 0
    while (
        all(len(parts) - common > 2 for parts in split)
        and len({parts[common] for parts in split}) == 1
    ):
        common += 1
    return ", ".join(
        f"{'.'.join(parts[common:])}={value if isinstance(value, str) else toml_value(value)}"
        for parts, (_, value) in zip(split, values, strict=True)
    )


def toml_value(value: Any) -> str:
    """A value as the file would write it: `"escalate"`, `true`, `{ persona = "x" }`."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).strip().removeprefix("v = ")


def _build(
    base: dict,
    name: str,
    values: tuple[tuple[str, Any], ...],
    source: str,
    overrides: typing.Sequence[str],
    build: Build,
) -> Configuration:
    raw = copy.deepcopy(base)
    where = f"{source}: configuration {name!r}"
    for key, value in values:
        check_key(raw, key, where)
        set_key(raw, key, copy.deepcopy(value), where)
    return Configuration(name, values, build(raw, where, overrides))


def _baseline(table: Any, names: list[str], source: str) -> int:
    if not isinstance(table, dict):
        raise BadInput(f'{source}: compare: expected a table with baseline = "name"')
    unknown = sorted(set(table) - {"baseline"})
    if unknown:
        raise BadInput(f"{source}: compare: unknown key {unknown[0]!r} (allowed here: baseline)")
    if "baseline" not in table:
        return 0
    chosen = table["baseline"]
    if chosen not in names:
        raise BadInput(
            f"{source}: compare.baseline = {chosen!r}: no configuration has that name"
            f"{suggest(str(chosen), names)}"
        )
    return names.index(chosen)

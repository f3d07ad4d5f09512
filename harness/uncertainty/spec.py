"""An experiment with uncertain parameters: the raw data, each uncertain key with its
distribution, and the experiment at the median of every one.

Parameter sets are applied to the raw data through the experiment's dotted keys and
validated like any file, so an uncertain key accepts exactly what the key accepts."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BadInput
from ..experiment.model import Experiment, _blame, apply_override, read_toml, set_key, validate
from .distributions import Distribution, parse
from .tables import distributions


@dataclass(frozen=True)
class Parameter:
    key: str  # dotted, as --set names it: operators.2.careless_multiplier
    distribution: Distribution


@dataclass(frozen=True)
class Study:
    """What a two-level run or a sensitivity study works on."""

    raw: dict[str, Any]  # with the distributions in place
    source: str
    overrides: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    median: Experiment  # every uncertain key at its median

    def experiment(self, values: Sequence[Any]) -> Experiment:
        """The experiment with one value per parameter."""
        raw = with_values(self.raw, self.parameters, values)
        return validate(raw, self.source, self.overrides, uncertain=bool(self.parameters))


def with_values(
    raw: dict[str, Any], parameters: Sequence[Parameter], values: Sequence[Any]
) -> dict[str, Any]:
    """A copy of the raw data with one value per parameter."""
    raw = copy.deepcopy(raw)
    for parameter, value in zip(parameters, values, strict=True):
        set_key(raw, parameter.key, value, parameter.key)
    return raw


def medians(parameters: Sequence[Parameter]) -> list[Any]:
    return [p.distribution.median() for p in parameters]


def load_study(path: str | Path, overrides: Sequence[str] = ()) -> Study:
    """Read the file, apply --set overrides (which may give distributions too), parse and
    check every distribution; one BadInput line for the first problem."""
    source = str(path)
    raw = read_toml(path)
    for item in overrides:
        apply_override(raw, item, source)
    return study_from_raw(raw, source, overrides)


def study_from_raw(raw: dict[str, Any], source: str, overrides: Sequence[str] = ()) -> Study:
    """The study of raw experiment data with its overrides already applied (`source` and
    `overrides` name them in errors)."""
    where = _blame(source, overrides)
    parameters = []
    for key, table in distributions(raw):
        try:
            parameters.append(Parameter(key, parse(table, key)))
        except ValueError as exc:
            raise BadInput(f"{where(key)}: {key}: {exc}") from None
    middle = medians(parameters)
    try:
        median = validate(
            with_values(raw, parameters, middle), source, overrides, uncertain=bool(parameters)
        )
    except BadInput as exc:
        culprit = next((p for p in parameters if _names(exc, p.key)), None)
        if culprit is None:
            raise
        raise _outside(culprit, culprit.distribution.median(), exc, where) from None
    study = Study(raw, source, tuple(overrides), tuple(parameters), median)
    for i in range(len(parameters)):
        _check_support(study, middle, i, where)
    return study


def _names(exc: BadInput, key: str) -> bool:
    """Whether the message is about `key` (not a key it is the start of)."""
    return re.search(rf": {re.escape(key)}[ :]", str(exc)) is not None


def _check_support(
    study: Study, middle: list[Any], index: int, where: Callable[[str], str]
) -> None:
    """The key's own validation at each end of the distribution's support (and at its
    median, which a whole-number key may refuse), the others at their medians (valid)."""
    parameter = study.parameters[index]
    dist = parameter.distribution
    for end in (*dist.ends(), dist.median()):
        values = list(middle)
        values[index] = end
        try:
            study.experiment(values)
        except BadInput as exc:
            raise _outside(parameter, end, exc, where) from None


def _outside(parameter: Parameter, value: Any, exc: BadInput, where) -> BadInput:
    """The error for a distribution that reaches a value its key refuses."""
    text = str(exc)
    shown = f": {parameter.key} = {value!r}: "
    reason = text.split(shown, 1)[1] if shown in text else text.split(": ", 1)[-1]
    return BadInput(
        f"{where(parameter.key)}: {parameter.key} = {parameter.distribution.describe()}: "
        f"reaches {value!r}, which the key does not allow ({reason})"
    )

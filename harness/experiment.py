"""Experiment files: the declarative description of a run (Chaos Toolkit's "experiment as data").

`load()` reads TOML, applies `--set dotted.key=value` overrides, and validates everything
into an immutable `Experiment` with every default filled in. Any problem becomes one
`BadInput` line naming the file, the key and what is allowed.
"""

from __future__ import annotations

import copy
import difflib
import tomllib
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import tomli_w
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from targets.moderation import (
    TARGET_FAULTS,
    Duration,
    RestoreConfig,
    SafeguardsConfig,
    TwoPersonRuleConfig,
)
from targets.moderation.config import Settings

from .errors import BadInput
from .estimate.spec import EstimateSpec
from .metrics import INTERVAL_METRICS, METRIC_PATHS

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Role = Literal["reviewer", "senior"]
Action = Literal["suspend", "deactivate"]
DEPENDENCE_LEVELS = ("zero", "low", "moderate", "high", "complete")


class ExperimentInfo(Settings):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80)
    description: str = ""
    seed: int = Field(0, ge=0)
    replications: int = Field(100, ge=1, le=10_000_000)
    shift: Duration = Field(8 * 3600.0, gt=0)
    shifts_per_year: int = Field(730, ge=1, le=100_000)  # for the yearly risk


class PopulationSpec(Settings):
    accounts: int = Field(5000, ge=2, le=2_000_000)
    protected: int = Field(20, ge=0)
    reports_per_hour: float = Field(120.0, gt=0)
    protected_report_share: Probability = 0.02
    violating_share: Probability = 0.3  # of reports on ordinary accounts
    ambiguous_share: Probability = 0.1  # of reports that are a hard policy call

    @model_validator(mode="after")
    def _protected_fit(self) -> PopulationSpec:
        if self.protected >= self.accounts:
            raise ValueError(
                f"protected ({self.protected}) must be smaller than accounts ({self.accounts})"
            )
        return self


# --- operators ---------------------------------------------------------------------------


class OperatorEntry(Settings):
    """Keys every [[operators]] entry takes."""

    role: Role = "reviewer"
    count: int = Field(1, ge=0, le=10_000)
    collude: bool = False  # approves fellow colluders' pending actions without looking
    item_time: tuple[Duration, Duration] = (30.0, 150.0)  # public moderator throughput figures
    action: Action = "suspend"  # what this operator does when approving a report

    @field_validator("item_time")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] <= value[1]:
            raise ValueError("item_time must be [shortest, longest] with 0 < shortest <= longest")
        return value


class Judging(OperatorEntry):
    """Operators who judge on merit and err at human-reliability rates."""

    # NUREG/CR-1278 (THERP) and HEART nominal error on a clear case, lognormal per operator
    error: Probability = 0.003
    error_factor: float = Field(5.0, ge=1.0)  # THERP error factor: 95th percentile / median
    # SPAR-H diagnosis 0.01; Facebook reported more than 1 in 10 moderation calls wrong
    ambiguous_error: Probability = 0.05


class Diligent(Judging):
    persona: Literal["diligent"]


class Tired(Judging):
    """Error multiplier rises with hours on shift (HSE human factors note 10; Tucker et al.
    2003; Folkard & Tucker 2003); degraded fitness x5 (SPAR-H, NUREG/CR-6883)."""

    persona: Literal["tired"]
    hours_into_shift: float = Field(4.0, ge=0, le=48)  # hours already worked at shift start
    night: bool = False  # night work x1.3
    degraded_fitness: bool = False


class RandomApprover(OperatorEntry):
    """Approves with probability p regardless of merit: vigilance research finds fatigue
    shifts the response bias toward "yes"."""

    persona: Literal["random_approver"]
    approve_probability: Probability = 0.5


class DepartingInsider(Judging):
    """Last day (CERT/SEI: most leaver misuse falls within 30-60 days of exit; 2017: the
    last hour of the last shift). Careless in the hazard window, optionally malicious."""

    persona: Literal["departing_insider"]
    action: Action = "deactivate"
    exit_after: Duration | None = None  # default: at the end of the shift
    hazard_window: Duration = Field(3600.0, ge=0)
    careless_multiplier: float = Field(10.0, ge=1.0)
    malicious: bool = False  # approves any protected-account report in the hazard window


class Compromised(Judging):
    """An attacker holding this operator's credentials goes after protected accounts
    directly through the admin tool (the 2020 takeover). The human works as diligent."""

    persona: Literal["compromised"]
    # industry phishing benchmarks: 0.33 untrained, 0.18 after 90 days, 0.05 after a year
    phish_probability: Probability = 0.33
    attack_at: Duration | None = None  # default: a uniformly random time in the shift
    attempts: int = Field(3, ge=1, le=1000)  # protected accounts the attacker goes after
    attack_interval: Duration = Field(60.0, gt=0)  # between attempts; a script goes faster
    attack_action: Action = "deactivate"


PersonaEntry = Annotated[
    Union[Diligent, Tired, RandomApprover, DepartingInsider, Compromised],  # noqa: UP007
    Field(discriminator="persona"),
]
PERSONAS: tuple[str, ...] = (
    "diligent",
    "tired",
    "random_approver",
    "departing_insider",
    "compromised",
)


# --- safeguards, faults, gates -----------------------------------------------------------


class TwoPersonRuleSection(TwoPersonRuleConfig):
    """The target's two-person rule plus how the second approver depends on the first
    (THERP dependence levels, NUREG/CR-1278)."""

    dependence: Literal["zero", "low", "moderate", "high", "complete"] = "zero"


class SafeguardsSection(SafeguardsConfig):
    two_person_rule: TwoPersonRuleSection = TwoPersonRuleSection()

    def target_config(self) -> SafeguardsConfig:
        """The settings the target understands (operator behaviour stays in the harness)."""
        data = self.model_dump()
        del data["two_person_rule"]["dependence"]
        return SafeguardsConfig.model_validate(data)


class TargetFault(Settings):
    """A safeguard dependency that fails for a while."""

    kind: Literal[TARGET_FAULTS]  # type: ignore[valid-type]
    at: Duration = Field(ge=0)
    duration: Duration = Field(gt=0)


class ReportFlood(Settings):
    """Brigading: a burst of reports against one protected account."""

    kind: Literal["report_flood"]
    at: Duration = Field(ge=0)
    duration: Duration = Field(gt=0)
    rate: float = Field(600.0, gt=0)  # extra reports per hour
    target: int = Field(1, ge=1)  # rank of the protected account by followers


class LatencyFault(Settings):
    """Live mode: every operator and user request waits `delay` (simulated time, so the wall
    delay is `delay` / time scale) before the served target handles it."""

    kind: Literal["latency"]
    at: Duration = Field(ge=0)
    duration: Duration = Field(gt=0)
    delay: Duration = Field(2.0, gt=0)


class ServerErrorsFault(Settings):
    """Live mode: a share of operator and user requests is answered 503 after the served
    target handled it, so the harness cannot tell whether it took effect."""

    kind: Literal["server_errors"]
    at: Duration = Field(ge=0)
    duration: Duration = Field(gt=0)
    share: Probability = 0.1


class RestartFault(Settings):
    """Live mode: the served target's process is killed at `at` and started again on the
    same store and port after `duration` (simulated), plus the time it takes to start."""

    kind: Literal["restart"]
    at: Duration = Field(ge=0)
    duration: Duration = Field(gt=0)


FaultEntry = Annotated[
    Union[TargetFault, ReportFlood, LatencyFault, ServerErrorsFault, RestartFault],  # noqa: UP007
    Field(discriminator="kind"),
]
LIVE_FAULTS: tuple[str, ...] = ("latency", "server_errors", "restart")
"""Faults of the network and the target's process: injected in live mode only (the
simulator records them in the history with no effect)."""
FAULT_KINDS: tuple[str, ...] = (*TARGET_FAULTS, "report_flood", *LIVE_FAULTS)


# A bound is a finite, non-negative number written as one: "0.01" (a string) or true is not.
Bound = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]


class Gate(Settings):
    """A threshold on a metric; a run that crosses it fails."""

    metric: str
    max: Bound | None = None
    min: Bound | None = None
    max_upper_ci: Bound | None = None  # holds only if the 95% interval's upper end is under

    @field_validator("metric")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in METRIC_PATHS:
            raise ValueError(f"unknown metric {value!r}{suggest(value, METRIC_PATHS)}")
        return value

    @model_validator(mode="after")
    def _one_bound(self) -> Gate:
        bounds = [k for k in ("max", "min", "max_upper_ci") if getattr(self, k) is not None]
        if len(bounds) != 1:
            raise ValueError("a gate needs exactly one of max, min or max_upper_ci")
        if self.metric in INTERVAL_METRICS and self.bound > 1:
            raise ValueError(
                f"{self.kind} = {self.bound:g}: {self.metric} is a share between 0 and 1 "
                "(write 0.001 for 0.1%)"
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("max", "min", "max_upper_ci") if getattr(self, k) is not None)

    @property
    def bound(self) -> float:
        return getattr(self, self.kind)

    @property
    def label(self) -> str:
        """How CI shows the gate: 'gate protected_slip_through.rate max_upper_ci 0.0015'."""
        return f"gate {self.metric} {self.kind} {self.bound:g}"


class CheckSpec(Settings):
    """How `harness check` stops early: after each batch of replications it looks at every
    gate's interval at `confidence` split over the planned looks (Bonferroni)."""

    confidence: float = Field(0.95, gt=0.5, lt=1.0)
    batch: int = Field(100, ge=1, le=10_000_000)  # replications between looks


class LiveSpec(Settings):
    """How `harness run --mode live` works the experiment against a served target. Intervals
    are simulated time; the time scale turns them into wall time."""

    replications: int = Field(20, ge=1, le=10_000)  # shifts, back to back on one target
    time_scale: float = Field(7200.0, gt=0, le=10_000_000)  # simulated seconds per wall second
    users_per_operator: int = Field(1, ge=1, le=100)  # sessions per operator identity
    reporters: int = Field(4, ge=1, le=100)  # Locust users sharing the report stream
    probe_interval: Duration = Field(600.0, gt=0)  # every protected account's status
    audit_interval: Duration = Field(60.0, gt=0)  # timers read from the audit log
    idle_poll: Duration = Field(300.0, gt=0)  # an idle operator looks at the queue unasked


class Experiment(Settings):
    experiment: ExperimentInfo
    population: PopulationSpec = PopulationSpec()
    operators: list[PersonaEntry] = Field(min_length=1)
    safeguards: SafeguardsSection = SafeguardsSection()
    restore: RestoreConfig = RestoreConfig()
    faults: list[FaultEntry] = []
    gates: list[Gate] = []
    check: CheckSpec = CheckSpec()
    live: LiveSpec = LiveSpec()
    estimate: EstimateSpec = EstimateSpec()

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        if not any(o.count for o in self.operators):
            raise ValueError("operators: at least one entry needs count >= 1")
        shift = self.experiment.shift
        for i, fault in enumerate(self.faults):
            if fault.at >= shift:
                raise ValueError(f"faults.{i}.at: starts after the shift ends ({shift:g}s)")
        for i, op in enumerate(self.operators):
            attack_at = getattr(op, "attack_at", None)
            if attack_at is not None and attack_at >= shift:
                raise ValueError(f"operators.{i}.attack_at: after the shift ends ({shift:g}s)")
        seniors = sum(o.count for o in self.operators if o.role == "senior")
        if self.safeguards.protected_list.mode == "escalate" and not seniors:
            raise ValueError(
                "safeguards.protected_list.mode = 'escalate' needs at least one "
                "senior operator to work the senior queue"
            )
        rule = self.safeguards.two_person_rule
        if rule.enabled and rule.pool == "senior" and not seniors:
            raise ValueError(
                "safeguards.two_person_rule.pool = 'senior' needs at least one senior operator"
            )
        for i, gate in enumerate(self.gates):
            if gate.kind == "max_upper_ci" and gate.metric not in INTERVAL_METRICS:
                raise ValueError(
                    f"gates.{i}: max_upper_ci needs a rate with an interval: "
                    f"{' or '.join(INTERVAL_METRICS)}"
                )
        return self

    def to_toml(self) -> str:
        """The resolved experiment (every default filled in), as a TOML document."""
        return tomli_w.dumps(self.model_dump(mode="json", exclude_none=True))


# --- loading -----------------------------------------------------------------------------


def load(path: str | Path, overrides: typing.Sequence[str] = ()) -> Experiment:
    """Read, override and validate an experiment file."""
    return from_raw(read_toml(path), str(path), overrides)


def from_raw(raw: dict[str, Any], source: str, overrides: typing.Sequence[str] = ()) -> Experiment:
    """Override and validate raw experiment data; `source` names it in errors."""
    raw = copy.deepcopy(raw)
    for item in overrides:
        apply_override(raw, item, source)
    return validate(raw, source, overrides)


def read_toml(path: str | Path) -> dict[str, Any]:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{source}: no such file") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise BadInput(f"{source}: cannot read the file ({exc.__class__.__name__})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{source}: not valid TOML: {exc}") from None


def apply_override(raw: dict[str, Any], item: str, source: str) -> None:
    """Apply one `dotted.key=value` override; the value is read as TOML, else as a string."""
    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise BadInput(f"--set {item!r}: expected dotted.key=value")
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    set_key(raw, key.strip(), value, f"{source}: --set {item}")


def set_key(raw: dict[str, Any], dotted: str, value: Any, where: str) -> None:
    """Set `dotted` (list entries by index: operators.0.count) in raw experiment data."""
    parts = dotted.split(".")
    node: Any = raw
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise BadInput(
                    f"{where}: {here}: {'.'.join(parts[:depth])} has "
                    f"{len(node)} entries, indexed 0 to {len(node) - 1}"
                )
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise BadInput(f"{where}: {'.'.join(parts[:depth])} is a value, not a table")


COMPARISON_TABLES = ("matrix", "configurations", "compare")
"""Top-level tables of a comparison file (`harness compare`), not of one experiment."""


def validate(raw: dict[str, Any], source: str, overrides: typing.Sequence[str] = ()) -> Experiment:
    where = _blame(source, overrides)
    for table in COMPARISON_TABLES:
        if table in raw:
            raise BadInput(
                f"{where(table)}: {table}: this file compares several configurations; "
                "run it with `harness compare`"
            )
    _check_keys(raw, Experiment, (), where)
    try:
        return Experiment.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = _dotted(error["loc"], raw)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "missing: this key is required"
        elif error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            key = error["ctx"]["discriminator"].strip("'")
            loc = f"{loc}.{key}"
            allowed = PERSONAS if key == "persona" else FAULT_KINDS
            message = (
                "missing: this key is required; " if error["type"] == "union_tag_not_found" else ""
            ) + f"one of {', '.join(allowed)}"
        if loc:
            got = _lookup(raw, loc)
            shown = f" = {got!r}" if got is not _ABSENT and not isinstance(got, dict | list) else ""
            raise BadInput(f"{where(loc)}: {loc}{shown}: {message}") from None
        raise BadInput(f"{where('')}: {message}") from None


def experiment_keys(raw: dict[str, Any]) -> list[str]:
    """Every dotted key `set_key` can give a value in `raw`: the schema's tables and values,
    with list entries (operators, faults, gates) indexed as `raw` has them."""
    keys: list[str] = []

    def walk(model: type[BaseModel], prefix: str, data: Any) -> None:
        for name, field in model.model_fields.items():
            here = f"{prefix}{name}"
            keys.append(here)
            value = data.get(name) if isinstance(data, dict) else None
            for index, item, sub in _submodels(field.annotation, value):
                if index is None:
                    walk(sub, f"{here}.", item)
                else:
                    walk(sub, f"{here}.{index}.", item)
            if isinstance(value, list):
                keys.extend(f"{here}.{i}" for i in range(len(value)))

    walk(Experiment, "", raw)
    return keys


def check_key(raw: dict[str, Any], dotted: str, where: str) -> None:
    """Refuse a dotted key that is not a key of the experiment, suggesting the closest."""
    keys = experiment_keys(raw)
    if dotted not in keys:
        raise BadInput(f"{where}: {dotted!r} is not an experiment key{suggest(dotted, keys)}")


# --- error helpers -----------------------------------------------------------------------

_ABSENT = object()


def keys_overlap(a: str, b: str) -> bool:
    """Whether dotted keys `a` and `b` are the same key or one lies inside the other."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _blame(source: str, overrides: typing.Sequence[str]) -> typing.Callable[[str], str]:
    """Name the --set override when the faulty key came from one, else the file."""
    keys = [item.partition("=")[0].strip() for item in overrides]

    def where(loc: str) -> str:
        for key, item in zip(keys, overrides, strict=True):
            if loc and keys_overlap(loc, key):
                return f"{source}: --set {item}"
        return source

    return where


def suggest(word: str, options: typing.Iterable[str]) -> str:
    """'; did you mean X?' for the closest option, or nothing when none is close."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""


def _check_keys(data: Any, model: type[BaseModel], path: tuple, where) -> None:
    """Unknown keys anywhere in `data`, with the closest known key suggested."""
    if not isinstance(data, dict):
        return
    fields = model.model_fields
    for key, value in data.items():
        here = ".".join((*path, str(key)))
        if key not in fields:
            allowed = ", ".join(fields)
            raise BadInput(
                f"{where(here)}: unknown key {here!r}{suggest(key, fields)} "
                f"(allowed here: {allowed})"
            )
        for index, item, sub in _submodels(fields[key].annotation, value):
            sub_path = (*path, str(key)) if index is None else (*path, str(key), str(index))
            _check_keys(item, sub, sub_path, where)


def _submodels(annotation: Any, value: Any, tag: str | None = None):
    """Yield (index, value, model) for the nested models a field's value should match;
    `tag` is the discriminator of the union being matched (persona, kind)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield None, value, annotation
        return
    origin = typing.get_origin(annotation)
    if origin is list and isinstance(value, list):
        (inner,) = typing.get_args(annotation)
        for i, item in enumerate(value):
            for _, v, model in _submodels(inner, item):
                yield i, v, model
    elif origin is Annotated:
        inner, *metadata = typing.get_args(annotation)
        tag = next((m.discriminator for m in metadata if getattr(m, "discriminator", None)), tag)
        yield from _submodels(inner, value, tag)
    elif origin in (Union, types.UnionType) and isinstance(value, dict):
        for member in typing.get_args(annotation):
            if (
                isinstance(member, type)
                and issubclass(member, BaseModel)
                and _tag_matches(member, value, tag)
            ):
                yield None, value, member
                return


def _tag_matches(model: type[BaseModel], value: dict, tag: str | None) -> bool:
    """Whether `value` names `model` by the union's discriminator (not by another literal
    such as `role`, which every persona shares)."""
    field = model.model_fields.get(tag) if tag else None
    return field is not None and value.get(tag) in typing.get_args(field.annotation)


def _dotted(loc: tuple, raw: Any) -> str:
    """Pydantic's error location as a dotted key, without union tags."""
    parts: list[str] = []
    node = raw
    for part in loc:
        if (
            isinstance(node, dict)
            and part not in node
            and isinstance(part, str)
            and parts
            and part in (*PERSONAS, *FAULT_KINDS)
        ):
            continue  # a discriminated-union tag (e.g. 'tired'): not a key of the file
        parts.append(str(part))
        if isinstance(node, dict):
            node = node.get(part, _ABSENT)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = _ABSENT
    return ".".join(parts)


def _lookup(raw: Any, dotted: str) -> Any:
    node = raw
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _ABSENT
    return node

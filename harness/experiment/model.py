"""Experiment files: the declarative description of a run (Chaos Toolkit's "experiment as data").

`load()` reads TOML, applies `--set dotted.key=value` overrides, and validates everything
into an immutable `Experiment` with every default filled in. Any problem becomes one
`BadInput` line naming the file, the key and what is allowed.
"""

from __future__ import annotations

import copy
import stat
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
from targets.moderation.durations import DAY, format_duration, seconds_of

from ..errors import BadInput
from ..estimate.spec import EstimateSpec
from ..metrics import INTERVAL_METRICS, METRIC_PATHS
from ..personas import PERSONAS, PersonaEntry, Probability
from ..uncertainty.tables import refuse_distributions
from .wording import explain, key_homes, suggest

DEPENDENCE_LEVELS = ("zero", "low", "moderate", "high", "complete")

# Sizes: each bound is far past what a real experiment needs and keeps a run finite in time
# and memory (docs/experiment-files.md lists them).
MAX_SEED = 2**63 - 1
MAX_REPLICATIONS = 1_000_000
MAX_SHIFT = 7 * DAY  # a week of work in one replication
MAX_ACCOUNTS = 200_000  # built in about 5 s (benchmarks/bench_population.py)
MAX_PROTECTED = 10_000
MAX_REPORT_RATE = 100_000.0  # reports an hour, of users or of one flood
MAX_REPORTS_PER_SHIFT = 200_000  # expected; each one is decided and kept in the history
MAX_REPORTS_PER_RUN = 100_000_000  # expected, over all replications: queue waits are kept
MAX_OPERATORS = 10_000  # operators of all entries together
MAX_ENTRIES = 1_000  # [[operators]] or [[faults]] entries
MAX_GATES = 100
MAX_ATTACK_ATTEMPTS = 100_000  # compromised operators' attempts in a shift, all together


class ExperimentInfo(Settings):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80)
    description: str = ""
    seed: int = Field(0, ge=0, le=MAX_SEED)
    replications: int = Field(100, ge=1, le=MAX_REPLICATIONS)
    shift: Duration = Field(8 * 3600.0, gt=0)
    shifts_per_year: int = Field(730, ge=1, le=100_000)  # for the yearly risk

    @field_validator("shift", mode="before")
    @classmethod
    def _a_week_at_most(cls, value: object) -> object:
        """Said before the bound every duration has (a year), which is not the shift's."""
        try:
            too_long = seconds_of(value) > MAX_SHIFT
        except ValueError:
            return value  # the duration's own message says what is wrong
        if too_long:
            raise ValueError(
                f"a shift is at most {format_duration(MAX_SHIFT)}; "
                "more shifts are more replications"
            )
        return value


class PopulationSpec(Settings):
    accounts: int = Field(5000, ge=2, le=MAX_ACCOUNTS)
    protected: int = Field(20, ge=0, le=MAX_PROTECTED)
    reports_per_hour: float = Field(120.0, gt=0, le=MAX_REPORT_RATE)
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


# --- operators: one module per persona in harness/personas ----------------------------


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
    rate: float = Field(600.0, gt=0, le=MAX_REPORT_RATE)  # extra reports per hour
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
    batch: int = Field(100, ge=1, le=MAX_REPLICATIONS)  # replications between looks


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
    operators: list[PersonaEntry] = Field(min_length=1, max_length=MAX_ENTRIES)
    safeguards: SafeguardsSection = SafeguardsSection()
    restore: RestoreConfig = RestoreConfig()
    faults: list[FaultEntry] = Field([], max_length=MAX_ENTRIES)
    gates: list[Gate] = Field([], max_length=MAX_GATES)
    check: CheckSpec = CheckSpec()
    live: LiveSpec = LiveSpec()
    estimate: EstimateSpec = EstimateSpec()

    @model_validator(mode="after")
    def _within_bounds(self) -> Experiment:
        """Sizes that only together make a run too long or too large for memory."""
        operators = sum(o.count for o in self.operators)
        if operators > MAX_OPERATORS:
            raise ValueError(
                f"operators: {operators:,} operators in all; at most {MAX_OPERATORS:,}"
            )
        attempts = sum(o.count * o.attempts_per_shift() for o in self.operators)
        if attempts > MAX_ATTACK_ATTEMPTS:
            raise ValueError(
                f"operators: compromised operators make {attempts:,} attempts a shift in all "
                f"(count x attempts x (1 + repeats)); at most {MAX_ATTACK_ATTEMPTS:,}"
            )
        per_shift = self.reports_per_shift()
        if per_shift > MAX_REPORTS_PER_SHIFT:
            raise ValueError(
                f"population.reports_per_hour: about {per_shift:,.0f} reports a shift "
                f"(reports_per_hour x shift, with floods); at most {MAX_REPORTS_PER_SHIFT:,}"
            )
        in_all = per_shift * max(self.experiment.replications, self.live.replications)
        if in_all > MAX_REPORTS_PER_RUN:
            raise ValueError(
                f"experiment.replications: about {in_all:,.0f} reports over the run "
                f"(replications x reports a shift); at most {MAX_REPORTS_PER_RUN:,}: "
                "fewer replications, or a shorter shift"
            )
        return self

    def reports_per_shift(self) -> float:
        """The expected number of reports in one shift: users' and floods'."""
        shift = self.experiment.shift
        floods = sum(
            f.rate / 3600.0 * max(0.0, min(f.duration, shift - f.at))
            for f in self.faults
            if isinstance(f, ReportFlood)
        )
        return self.population.reports_per_hour / 3600.0 * shift + floods

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        if not any(o.count for o in self.operators):
            raise ValueError("operators: at least one entry needs count >= 1")
        shift = self.experiment.shift
        for i, fault in enumerate(self.faults):
            if fault.at >= shift:
                raise ValueError(f"faults.{i}.at: starts after the shift ends ({shift:g}s)")
        for i, op in enumerate(self.operators):
            late = op.after_shift(shift)
            if late is not None:
                raise ValueError(f"operators.{i}.{late}: after the shift ends ({shift:g}s)")
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


MAX_FILE_BYTES = 1_000_000
"""An experiment file is a few kilobytes; a larger one is a mistake (or /dev/zero)."""
MAX_NESTING = 16
"""Tables and lists inside each other: an experiment file nests four or five deep."""


def read_toml(path: str | Path) -> dict[str, Any]:
    """The TOML document at `path`, or one BadInput line saying why it cannot be read."""
    source = str(path)
    text = _read_text(Path(path), source)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise BadInput(f"{source}: nested more than {MAX_NESTING} deep") from None
    if _nesting(raw) > MAX_NESTING:
        raise BadInput(f"{source}: nested more than {MAX_NESTING} deep")
    return raw


def _read_text(path: Path, source: str) -> str:
    """The file's text: a regular file (a FIFO or a device could block or never end), at
    most MAX_FILE_BYTES, UTF-8 with or without a byte-order mark."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise BadInput(f"{source}: not a regular file; an experiment is a .toml file")
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise BadInput(f"{source}: no such file") from None
    except OSError as exc:
        reason = (exc.strerror or exc.__class__.__name__).lower()
        raise BadInput(f"{source}: cannot read the file: {reason}") from None
    if len(data) > MAX_FILE_BYTES:
        raise BadInput(f"{source}: larger than {MAX_FILE_BYTES:,} bytes; not an experiment file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{source}: not UTF-8 text (byte {exc.start:,} cannot be read)") from None


def _nesting(value: Any, depth: int = 0) -> int:
    """How deep tables and lists nest in `value`, counted up to just past MAX_NESTING."""
    if depth > MAX_NESTING or not isinstance(value, dict | list):
        return depth
    items = value.values() if isinstance(value, dict) else value
    return max((_nesting(item, depth + 1) for item in items), default=depth + 1)


def apply_override(raw: dict[str, Any], item: str, source: str) -> None:
    """Apply one `dotted.key=value` override; the value is read as TOML, else as a string."""
    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise BadInput(f"--set {item!r}: expected dotted.key=value")
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    except RecursionError:
        raise BadInput(f"{source}: --set {item}: nested more than {MAX_NESTING} deep") from None
    if _nesting(value, 1) > MAX_NESTING:
        raise BadInput(f"{source}: --set {item}: nested more than {MAX_NESTING} deep")
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
    refuse_distributions(raw, where)
    _check_keys(raw, Experiment, (), where)
    try:
        return Experiment.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = _dotted(error["loc"], raw)
        if error["type"] == "missing" and error["loc"] and isinstance(error["loc"][-1], int):
            loc = loc.rpartition(".")[0]  # a pair given one value: name the pair
        message = explain(error, Experiment)
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc, message = _union_tag(error, loc)
        if loc:
            raise BadInput(f"{where(loc)}: {loc}{_shown(_lookup(raw, loc))}: {message}") from None
        raise BadInput(f"{where('')}: {message}") from None


def _union_tag(error: dict[str, Any], loc: str) -> tuple[str, str]:
    """The key and message for a missing or unknown persona or fault kind."""
    key = error["ctx"]["discriminator"].strip("'")
    allowed = PERSONAS if key == "persona" else FAULT_KINDS
    message = f"one of {', '.join(allowed)}"
    if error["type"] == "union_tag_not_found":
        return f"{loc}.{key}", f"missing: this key is required; {message}"
    return f"{loc}.{key}", message + suggest(str(error["input"][key]), allowed)


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


def _check_keys(data: Any, model: type[BaseModel], path: tuple, where) -> None:
    """Unknown keys anywhere in `data`, with the closest known key suggested."""
    if not isinstance(data, dict):
        return
    fields = model.model_fields
    for key, value in data.items():
        here = ".".join((*path, str(key)))
        if key not in fields:
            allowed = ", ".join(fields)
            hint = suggest(key, fields) or _elsewhere(str(key))
            raise BadInput(f"{where(here)}: unknown key {here!r}{hint} (allowed here: {allowed})")
        for index, item, sub in _submodels(fields[key].annotation, value):
            sub_path = (*path, str(key)) if index is None else (*path, str(key), str(index))
            _check_keys(item, sub, sub_path, where)


def _elsewhere(key: str) -> str:
    """'; it is a key of [population]' for a key written in the wrong table."""
    homes = key_homes(Experiment, key)
    return f"; {key!r} is a key of {' and of '.join(homes)}" if homes else ""


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


def _shown(value: Any) -> str:
    """' = value' for a plain value as the file wrote it (shortened), else nothing."""
    if value is _ABSENT or isinstance(value, dict | list):
        return ""
    text = repr(value)
    return f" = {text[:37]}..." if len(text) > 40 else f" = {text}"


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

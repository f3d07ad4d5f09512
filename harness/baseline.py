"""Baseline comparisons: is this run significantly worse than an earlier run of the same
experiment?

Both runs share the experiment's seed, so replication i of each saw the same report stream
and the same operators' random streams: replications pair by index. A baseline counts as
the same experiment when its name, seed, shift, population, operators and faults are those
of the run being checked; the safeguards, the restore monitor, the number of replications,
the gates and the code may differ, since those are what a change alters.

Each compared metric gets a one-sided test that the run is worse (higher) than the
baseline, on the replications both have; the p-values are Holm-adjusted across the metrics
so the chance of any false alarm stays at the chosen level.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .errors import BadInput
from .experiment import Experiment, load
from .results import RunFolder
from .stats import compare_paired, compare_proportions, design_effect, holm

Row = Mapping[str, float]
"""One replication's row of replications.csv, by column."""

SCENARIO = ("experiment.name", "experiment.seed", "experiment.shift", "population", "operators")
"""What a baseline must share with the run (with the faults) for replications to pair."""


@dataclass(frozen=True)
class Baseline:
    path: Path
    rows: dict[int, Row]  # replication index -> its row


@dataclass(frozen=True)
class Comparison:
    """One metric of the run against the baseline's."""

    metric: str
    test: str
    candidate: float | None  # the run's value on the paired replications
    baseline: float | None  # the baseline's value on the same replications
    pairs: int  # replications both runs have
    p_value: float  # one-sided: the run is worse
    p_adjusted: float  # Holm-adjusted across the metrics compared
    alpha: float

    @property
    def worse(self) -> bool:
        return self.p_adjusted <= self.alpha

    def describe(self) -> str:
        verdict = "significantly worse than" if self.worse else "not significantly worse than"
        return (
            f"{self.metric} {_show(self.candidate)} {verdict} baseline {_show(self.baseline)} "
            f"({self.test}, {self.pairs:,} paired replications, Holm-adjusted "
            f"p = {self.p_adjusted:.3g}, alpha {self.alpha:.3g})"
        )

    def as_dict(self) -> dict:
        return {**asdict(self), "worse": self.worse}


def _show(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


# --- the metrics compared -----------------------------------------------------------------


def _sum(rows: list[Row], column: str) -> int:
    return int(sum(row[column] for row in rows))


def _slip_through(run: list[Row], base: list[Row]) -> tuple[float | None, float | None, float]:
    """Pooled slips over protected trials: Fisher's exact test, one-sided, with counts
    deflated by the larger of the two runs' design effects (slips cluster in shifts)."""
    k1, n1 = _sum(run, "slips"), _sum(run, "trials")
    k2, n2 = _sum(base, "slips"), _sum(base, "trials")
    clustering = max(
        design_effect([(int(r["slips"]), int(r["trials"])) for r in rows]) for rows in (run, base)
    )
    p = compare_proportions(k1, n1, k2, n2, alternative="greater", design_effect=clustering)
    return (k1 / n1 if n1 else None), (k2 / n2 if n2 else None), p


def _exposure(run: list[Row], base: list[Row]) -> tuple[float | None, float | None, float]:
    """Minutes protected accounts were down per shift: Wilcoxon signed-rank, paired."""
    first = [row["exposure_minutes_total"] for row in run]
    second = [row["exposure_minutes_total"] for row in base]
    p = compare_paired(first, second, alternative="greater")
    return _mean(first), _mean(second), p


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


COMPARED: tuple[tuple[str, str, Callable], ...] = (
    ("protected_slip_through.rate", "Fisher's exact test, one-sided", _slip_through),
    ("exposure_minutes per shift", "Wilcoxon signed-rank test, paired, one-sided", _exposure),
)


def compare(run: Mapping[int, Row], baseline: Mapping[int, Row], alpha: float) -> list[Comparison]:
    """Each compared metric of `run` against `baseline` on the replications both have."""
    common = sorted(set(run) & set(baseline))
    mine, theirs = [run[i] for i in common], [baseline[i] for i in common]
    tested = [(metric, test, *measure(mine, theirs)) for metric, test, measure in COMPARED]
    adjusted = holm([p for *_, p in tested])
    return [
        Comparison(metric, test, value, base, len(common), p, p_adj, alpha)
        for (metric, test, value, base, p), p_adj in zip(tested, adjusted, strict=True)
    ]


# --- loading a baseline run folder --------------------------------------------------------


def load_baseline(path: str | Path, experiment: Experiment) -> Baseline:
    """A completed run folder of the same experiment, or one BadInput line saying why not."""
    folder = Path(path)
    where = f"--baseline {path}"
    if not folder.is_dir():
        raise BadInput(f"{where}: no such run folder")
    for name in ("experiment.toml", "summary.json", "replications.csv"):
        if not (folder / name).is_file():
            raise BadInput(f"{where}: not a run folder (it has no {name})")
    run = RunFolder(folder)
    try:
        theirs = load(folder / "experiment.toml")
    except BadInput as exc:
        raise BadInput(f"{where}: its experiment does not load ({exc})") from None
    try:
        summary = run.read_json("summary.json")
    except (ValueError, OSError) as exc:
        raise BadInput(f"{where}: summary.json is unreadable ({exc})") from None
    status = summary.get("status") if isinstance(summary, dict) else None
    if status != "completed":
        raise BadInput(f"{where}: the baseline run did not complete (status {status!r})")
    difference = scenario_difference(theirs, experiment)
    if difference:
        raise BadInput(f"{where}: a run of another experiment: {difference}")
    return Baseline(folder, _read_rows(run, where))


def scenario_difference(theirs: Experiment, ours: Experiment) -> str | None:
    """The first scenario key in which two experiments differ, said as 'key is X there, Y
    here', or None when replications of the two pair."""
    a, b = _scenario(theirs), _scenario(ours)
    return _first_difference(a, b, "")


def _scenario(experiment: Experiment) -> dict[str, Any]:
    data = experiment.model_dump(mode="json")
    picked: dict[str, Any] = {"faults": data["faults"]}
    for key in SCENARIO:
        section, _, field = key.partition(".")
        picked[key] = data[section][field] if field else data[section]
    return picked


def _first_difference(a: Any, b: Any, path: str) -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            found = _first_difference(a.get(key), b.get(key), f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path} has {len(a)} entries there, {len(b)} here"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _first_difference(x, y, f"{path}.{i}")
            if found:
                return found
        return None
    return None if a == b else f"{path} is {a!r} there, {b!r} here"


def _read_rows(folder: RunFolder, where: str) -> dict[int, Row]:
    rows: dict[int, Row] = {}
    for line, record in enumerate(folder.read_table("replications.csv"), start=2):
        try:
            rows[int(record["replication"])] = {
                column: float(record[column])
                for column in ("slips", "trials", "exposure_minutes_total")
            }
        except (KeyError, TypeError, ValueError):
            raise BadInput(
                f"{where}: replications.csv line {line} is not a replication row"
            ) from None
    return rows

"""Baseline comparisons: is this run significantly worse than an earlier run of the same
experiment?

A baseline pairs with the run replication by replication when `run_folder.pairing` says
the two runs compare (the same harness version and mode, seed, shift and population: each
replication saw the same reports), and it must be a run of the same experiment (the same
name, operators and faults); the safeguards, the restore monitor, the number of
replications, the gates and the target's code may differ, since those are what a change
alters.

Each compared metric gets a one-sided test that the run is worse (higher) than the
baseline, on the replications both have; the p-values are Holm-adjusted across the metrics
so the chance of any false alarm stays at the chosen level.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import __version__
from ..errors import BadInput
from ..experiment.model import Experiment, load
from ..run_folder import (
    Difference,
    RunFacts,
    RunFolder,
    pairing_difference,
    read_replications,
    require,
    scenario_difference,
)
from ..run_folder.layout import EXPERIMENT, MANIFEST, REPLICATIONS, SUMMARY
from ..run_folder.pairing import WHY
from ..statistics.intervals import compare_paired, compare_proportions, design_effect, holm

Row = Mapping[str, float]
"""One replication's row of replications.csv, by column."""


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
    """Minutes protected accounts were down per shift: a paired permutation test of the
    mean difference."""
    first = [row["exposure_minutes_total"] for row in run]
    second = [row["exposure_minutes_total"] for row in base]
    p = compare_paired(first, second, alternative="greater")
    return _mean(first), _mean(second), p


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


COMPARED: tuple[tuple[str, str, Callable], ...] = (
    ("protected_slip_through.rate", "Fisher's exact test, one-sided", _slip_through),
    ("exposure_minutes per shift", "paired permutation test of the mean, one-sided", _exposure),
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

COLUMNS = ("slips", "trials", "exposure_minutes_total")
"""The replications.csv columns the comparisons read."""


def load_baseline(path: str | Path, experiment: Experiment) -> Baseline:
    """A completed run folder of the same experiment, or one BadInput line saying why not."""
    where = f"--baseline {path}"
    needed = (EXPERIMENT, SUMMARY, REPLICATIONS, MANIFEST)
    folder = require(Path(path), needed, where, "not a run folder (it has no {name})")
    try:
        theirs = load(folder.path / EXPERIMENT)
    except BadInput as exc:
        raise BadInput(f"{where}: its experiment does not load ({exc})") from None
    try:
        summary, about = folder.read_json(SUMMARY), folder.read_json(MANIFEST)
    except (ValueError, OSError) as exc:
        raise BadInput(f"{where}: summary.json or manifest.json is unreadable ({exc})") from None
    status = summary.get("status") if isinstance(summary, dict) else None
    if status != "completed":
        raise BadInput(f"{where}: the baseline run did not complete (status {status!r})")
    there = RunFacts(about.get("version"), summary.get("mode"), theirs.model_dump(mode="json"))
    here = RunFacts(__version__, "sim", experiment.model_dump(mode="json"))
    if (found := pairing_difference(there, here)) is not None:
        raise BadInput(f"{where}: not comparable: {_said(found)}; {WHY}")
    if (found := scenario_difference(there, here)) is not None:
        raise BadInput(f"{where}: a run of another experiment: {_said(found)}")
    return Baseline(folder.path, _rows(folder, where))


def _said(found: Difference) -> str:
    return f"{found.key} is {found.theirs!r} there, {found.ours!r} here"


def _rows(folder: RunFolder, where: str) -> dict[int, Row]:
    """The compared columns of each replication; a row without them is one line."""
    rows: dict[int, Row] = {}
    for line, (index, row) in enumerate(read_replications(folder, where).items(), start=2):
        if any(row.get(column) is None for column in COLUMNS):
            raise BadInput(f"{where}: replications.csv line {line} is not a replication row")
        rows[index] = {column: row[column] for column in COLUMNS}  # type: ignore[misc]
    return rows

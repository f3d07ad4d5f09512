"""Reading run folders back: for comparisons, reports and baselines, one way. Anything
missing or unreadable is one line naming the folder."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from ..checker import Outage
from ..errors import BadInput
from .folder import RunFolder
from .layout import EXPERIMENT, MANIFEST, OUTAGES, REPLICATIONS, SUMMARY, WEIGHTED
from .pairing import WHY, RunFacts, pairing_difference

Rows = dict[int, dict[str, float | None]]
"""replications.csv by replication index: column -> value (None: blank)."""


@dataclass(frozen=True)
class RunData:
    """A finished (or interrupted) run folder."""

    path: Path
    name: str
    summary: dict
    manifest: dict
    experiment: dict  # the resolved experiment, as parsed from experiment.toml
    experiment_toml: str
    replications: Rows
    outages: tuple[Outage, ...]

    @property
    def facts(self) -> RunFacts:
        return RunFacts(self.manifest.get("version"), self.summary.get("mode"), self.experiment)


def require(path: Path, names: tuple[str, ...], where: str, lacking: str) -> RunFolder:
    """The run folder at `path`, or one BadInput line naming the first file it lacks
    (`lacking` says so, with {name} for the file)."""
    if not path.is_dir():
        raise BadInput(f"{where}: no such run folder")
    for name in names:
        if not (path / name).is_file():
            raise BadInput(f"{where}: {lacking.format(name=name)}")
    return RunFolder(path)


def read_run(path: str | Path, name: str | None = None) -> RunData:
    """Read a run folder, with its outages (a comparison's timeline needs them)."""
    path = Path(path)
    folder = require(
        path, (SUMMARY, MANIFEST, EXPERIMENT), str(path), "not a finished run folder (no {name})"
    )
    weighted = (path / WEIGHTED).is_file()
    if not weighted and not (path / OUTAGES).is_file():
        raise BadInput(f"{path}: no outages.csv: the run predates outage records; run it again")
    try:
        summary = folder.read_json(SUMMARY)
        about = folder.read_json(MANIFEST)
        text = (path / EXPERIMENT).read_text(encoding="utf-8")
        experiment = tomllib.loads(text)
        outages = tuple(
            Outage(
                int(row["account"]),
                float(row["start_minutes"]) * 60.0,
                float(row["minutes"]),
                row["restored"] == "1",
            )
            for row in (folder.read_table(OUTAGES) if not weighted else ())
        )
    except (OSError, ValueError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise BadInput(f"{path}: unreadable run folder ({exc.__class__.__name__}: {exc})") from None
    # an importance run's replications are weighted (weighted.csv), not rows to pair
    replications = read_replications(folder, str(path)) if not weighted else {}
    label = name or about.get("configuration") or summary.get("experiment") or path.name
    return RunData(path, label, summary, about, experiment, text, replications, outages)


def read_replications(folder: RunFolder, where: str) -> Rows:
    """replications.csv by replication index, every value a number (None: blank)."""
    rows: Rows = {}
    try:
        table = folder.read_table(REPLICATIONS)
    except OSError as exc:
        raise BadInput(
            f"{where}: unreadable run folder ({exc.__class__.__name__}: {exc})"
        ) from None
    for line, row in enumerate(table, start=2):
        try:
            rows[int(row["replication"])] = {
                k: float(v) if v != "" else None for k, v in row.items()
            }
        except (KeyError, TypeError, ValueError):
            raise BadInput(
                f"{where}: replications.csv line {line} is not a replication row"
            ) from None
    return rows


def check_comparable(runs: list[RunData]) -> None:
    """Refuse a folder given twice, or runs that did not see the same reports."""
    first = runs[0]
    seen = {first.path.resolve()}
    for run in runs[1:]:
        if run.path.resolve() in seen:
            raise BadInput(f"{run.path}: given twice")
        seen.add(run.path.resolve())
        ours, theirs = (r.summary.get("estimator", "crude") for r in (run, first))
        if ours != theirs:
            raise BadInput(
                f"{run.path}: not comparable: estimated by {ours}, {first.path} by {theirs}; "
                "configurations compare when one estimator measured them all"
            )
        found = pairing_difference(first.facts, run.facts)
        if found is not None:
            shown = f"{found.ours!r} here, {found.theirs!r} in {first.path}"
            raise BadInput(f"{run.path}: not comparable: {found.key} differs ({shown}); {WHY}")


def name_runs(paths: list[Path]) -> list[RunData]:
    """Read run folders named by their configuration or experiment; where two would share
    a name, by folder instead."""
    runs = [read_run(p) for p in paths]
    names = [r.name for r in runs]
    return [replace(r, name=r.path.name) if names.count(r.name) > 1 else r for r in runs]

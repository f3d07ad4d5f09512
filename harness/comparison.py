"""Comparing configurations from their run folders: what each one protects and costs, with
95% intervals, and whether it differs from the baseline by more than luck.

Replications pair across configurations because they share seeds (common random numbers):
replication i of every configuration saw the same reports. So exposure is compared with a
paired test on per-replication minutes down (Wilcoxon signed-rank); slip-through, pooled over
protected trials, with Fisher's exact test. All p-values of a comparison form one family and
are Holm-adjusted, so "significant" holds for the whole table at the 5% level.

Run folders compare when they were made by the same harness version and mode from the same
seed, shift and population: then they saw the same reports, and what differs is what they
were run under (safeguards, operators, faults, restore).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .checker import Outage
from .errors import BadInput
from .metrics import lookup
from .results import RunFolder
from .stats import CONFIDENCE, compare_paired, compare_proportions, holm, mean_interval

ALPHA = 1.0 - CONFIDENCE

PER_SHIFT = {
    "exposure_minutes": "exposure_minutes_total",
    "escalations": "escalations",
    "requeued": "requeued",
    "wrongful_actions": "wrongful_actions",
    "missed_violations": "missed_violations",
    "decisions": "decisions",
}
"""Per-shift quantities (mean over replications, with an interval): name -> replications.csv
column."""

COSTS = (
    "escalations",
    "requeued",
    "queue_wait_p95_minutes",
    "decisions_per_operator_hour",
    "wrongful_actions",
    "missed_violations",
)
"""What a configuration costs the operation, each compared with the baseline as a ratio."""

TRADEOFFS = ("decisions_per_operator_hour", "queue_wait_p95_minutes")
"""Costs a protection-versus-cost Pareto front is drawn against."""

REPORT_STREAM = ("experiment.seed", "experiment.shift", "population")
"""What decides the reports a replication sees: runs compare only when these agree."""


@dataclass(frozen=True)
class RunData:
    """A finished (or interrupted) run folder, as a comparison reads it."""

    path: Path
    name: str
    summary: dict
    manifest: dict
    experiment: dict  # the resolved experiment, as parsed from experiment.toml
    experiment_toml: str
    replications: dict[int, dict[str, float | None]]
    outages: tuple[Outage, ...]


def read_run(path: str | Path, name: str | None = None) -> RunData:
    """Read a run folder; anything missing or unreadable is one line naming the folder."""
    path = Path(path)
    if not path.is_dir():
        raise BadInput(f"{path}: no such run folder")
    folder = RunFolder(path)
    for needed in ("summary.json", "manifest.json", "experiment.toml"):
        if not (path / needed).is_file():
            raise BadInput(f"{path}: not a finished run folder (no {needed})")
    if (path / "weighted.csv").is_file():
        raise BadInput(
            f"{path}: an importance-sampling run; reports and comparisons read crude runs"
        )
    if not (path / "outages.csv").is_file():
        raise BadInput(f"{path}: no outages.csv: the run predates outage records; run it again")
    try:
        summary = folder.read_json("summary.json")
        about = folder.read_json("manifest.json")
        text = (path / "experiment.toml").read_text(encoding="utf-8")
        experiment = tomllib.loads(text)
        rows = folder.read_table("replications.csv")
        outages = tuple(
            Outage(
                int(row["account"]),
                float(row["start_minutes"]) * 60.0,
                float(row["minutes"]),
                row["restored"] == "1",
            )
            for row in folder.read_table("outages.csv")
        )
        replications = {
            int(row["replication"]): {k: float(v) if v != "" else None for k, v in row.items()}
            for row in rows
        }
    except (OSError, ValueError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise BadInput(f"{path}: unreadable run folder ({exc.__class__.__name__}: {exc})") from None
    label = name or about.get("configuration") or summary.get("experiment") or path.name
    return RunData(path, label, summary, about, experiment, text, replications, outages)


def check_comparable(runs: list[RunData]) -> None:
    """Refuse runs that did not see the same reports: another harness version, another
    mode, or another seed, shift or population."""
    first = runs[0]
    seen = {first.path.resolve()}
    for run in runs[1:]:
        if run.path.resolve() in seen:
            raise BadInput(f"{run.path}: given twice")
        seen.add(run.path.resolve())
        facts = [
            ("harness version", first.manifest.get("version"), run.manifest.get("version")),
            ("mode", first.summary.get("mode"), run.summary.get("mode")),
            *(
                (key, lookup(first.experiment, key), lookup(run.experiment, key))
                for key in REPORT_STREAM
            ),
        ]
        for what, theirs, ours in facts:
            if theirs != ours:
                shown = f"{ours!r} here, {theirs!r} in {first.path}"
                if isinstance(ours, dict) and isinstance(theirs, dict):
                    keys = [*ours, *(k for k in theirs if k not in ours)]  # in file order
                    key = next(k for k in keys if ours.get(k) != theirs.get(k))
                    what = f"{what}.{key}"
                    shown = f"{ours.get(key)!r} here, {theirs.get(key)!r} in {first.path}"
                raise BadInput(
                    f"{run.path}: not comparable: {what} differs ({shown}); runs compare only "
                    "when the same harness version ran them from the same seed, shift and "
                    "population, so that each replication saw the same reports"
                )


def name_runs(paths: list[Path]) -> list[RunData]:
    """Read run folders named by their configuration or experiment; where two would share
    a name, by folder instead."""
    runs = [read_run(p) for p in paths]
    names = [r.name for r in runs]
    return [replace(r, name=r.path.name) if names.count(r.name) > 1 else r for r in runs]


# --- the comparison ----------------------------------------------------------------------


def compare(runs: list[RunData], baseline: int | None) -> dict:
    """`comparison.json`: every configuration's protection and cost with 95% intervals, and
    each one against the baseline (None: no baseline to test against)."""
    entries = [_describe(run) for run in runs]
    base = runs[baseline] if baseline is not None else None
    tests: list[dict] = []
    for run, entry in zip(runs, entries, strict=True):
        entry["baseline"] = run is base
        if base is None or run is base:
            entry["vs_baseline"] = None
            continue
        entry["vs_baseline"] = {
            "protected_slip_through": _slip_test(run, base),
            "exposure_minutes_per_shift": _exposure_test(run, base),
            "cost_ratio": {key: _ratio(entry[key], entries[baseline][key]) for key in COSTS},
        }
        tests += [entry["vs_baseline"]["protected_slip_through"]]
        tests += [entry["vs_baseline"]["exposure_minutes_per_shift"]]
    tested = [t for t in tests if t["p"] is not None]
    for test, adjusted in zip(tested, holm([t["p"] for t in tested]), strict=True):
        test["p_adjusted"] = adjusted
        test["verdict"] = _verdict(test["difference"], adjusted)
    for cost in TRADEOFFS:
        points = [(e["protected_slip_through"]["rate"], point_value(e[cost])) for e in entries]
        front = pareto(points)
        for entry, on in zip(entries, front, strict=True):
            entry.setdefault("pareto", {})[cost] = on
    for entry, run in zip(entries, runs, strict=True):
        entry["differs_from_baseline"] = (
            _differences(base.experiment, run.experiment) if base is not None else {}
        )
    return {
        "baseline": base.name if base is not None else None,
        "confidence": CONFIDENCE,
        "tests": {
            "protected_slip_through": "Fisher's exact test, two-sided",
            "exposure_minutes_per_shift": "Wilcoxon signed-rank test on replications paired "
            "by seed, two-sided",
            "adjustment": f"Holm over all {len(tested)} tests of the table",
        },
        "configurations": entries,
    }


def _describe(run: RunData) -> dict:
    m = run.summary["metrics"]
    rows = [run.replications[i] for i in sorted(run.replications)]
    exposure = m["exposure_minutes"]
    entry: dict[str, Any] = {
        "name": run.name,
        "status": run.summary["status"],
        "replications": run.summary["replications"],
        "protected_slip_through": m["protected_slip_through"],
        "shift_incident_probability": m["shift_incident_probability"],
        "outage_minutes": {
            k: exposure[k] for k in ("count", "mean", "p50", "p95", "max", "unrestored")
        },
        "per_shift": {
            name: mean_interval([row[column] or 0.0 for row in rows])
            for name, column in PER_SHIFT.items()
        },
        "queue_wait_p95_minutes": m["queue_wait_minutes"]["p95"],
        "decisions_per_operator_hour": m["decisions_per_operator_hour"],
        "faults": run.summary["faults"],
        "outside_faults": run.summary.get("outside_faults"),
    }
    for name in ("escalations", "requeued", "wrongful_actions", "missed_violations"):
        entry[name] = entry["per_shift"][name]
    return entry


def verdict_key(entry: dict, test: str) -> str:
    """'baseline', a test's verdict, or 'not tested' (no baseline to test against)."""
    if entry["baseline"]:
        return "baseline"
    vs = entry["vs_baseline"]
    return vs[test]["verdict"] if vs is not None and vs[test]["verdict"] else "not tested"


def point_value(metric: Any) -> float | None:
    """A cost's point value: per-shift means are dicts, pooled figures plain numbers."""
    return metric["mean"] if isinstance(metric, dict) else metric


def _ratio(metric: Any, baseline: Any) -> float | None:
    value, base = point_value(metric), point_value(baseline)
    if value is None or base is None or base == 0:
        return None
    return value / base


def _slip_test(run: RunData, base: RunData) -> dict:
    ours = run.summary["metrics"]["protected_slip_through"]
    theirs = base.summary["metrics"]["protected_slip_through"]
    tested = ours["trials"] > 0 and theirs["trials"] > 0
    return {
        "test": "fisher_exact",
        "difference": ours["rate"] - theirs["rate"] if tested else None,
        "p": compare_proportions(
            ours["slips"],
            ours["trials"],
            theirs["slips"],
            theirs["trials"],
            design_effect=max(ours.get("design_effect", 1.0), theirs.get("design_effect", 1.0)),
        )
        if tested
        else None,
        "p_adjusted": None,
        "verdict": "not tested: no protected trials" if not tested else None,
    }


def _exposure_test(run: RunData, base: RunData) -> dict:
    paired = sorted(set(run.replications) & set(base.replications))
    column = PER_SHIFT["exposure_minutes"]
    ours = [run.replications[i][column] or 0.0 for i in paired]
    theirs = [base.replications[i][column] or 0.0 for i in paired]
    return {
        "test": "wilcoxon_signed_rank",
        "paired_replications": len(paired),
        "difference": (sum(ours) - sum(theirs)) / len(paired) if paired else None,
        "p": compare_paired(ours, theirs) if paired else None,
        "p_adjusted": None,
        "verdict": None if paired else "not tested: no replications in common",
    }


def _verdict(difference: float, p_adjusted: float) -> str:
    if p_adjusted >= ALPHA or difference == 0:
        return "no detectable difference"
    return "significantly lower" if difference < 0 else "significantly higher"


def pareto(points: list[tuple[float | None, float | None]]) -> list[bool]:
    """Which points no other point beats: as low or lower on both, lower on one. Points
    with a missing coordinate are not on the front."""
    known = [(i, p) for i, p in enumerate(points) if p[0] is not None and p[1] is not None]
    front = [False] * len(points)
    for i, (a, b) in known:
        front[i] = not any(c <= a and d <= b and (c < a or d < b) for j, (c, d) in known if j != i)
    return front


def _leaves(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_leaves(value, f"{prefix}{key}."))
        return out
    if isinstance(data, list) and any(isinstance(v, dict) for v in data):
        out = {}
        for i, value in enumerate(data):
            out.update(_leaves(value, f"{prefix}{i}."))
        return out
    return {prefix.rstrip("."): data}


def _differences(base: dict, other: dict) -> dict[str, list]:
    """Dotted keys whose resolved values differ: [baseline's, this one's] (None: absent)."""
    ours, theirs = _leaves(other), _leaves(base)
    return {
        key: [theirs.get(key), ours.get(key)]
        for key in sorted({*ours, *theirs}, key=lambda k: (k.split(".")[0], k))
        if ours.get(key) != theirs.get(key)
    }


# --- files for other tools ---------------------------------------------------------------

CSV_COLUMNS = (
    "configuration",
    "baseline",
    "status",
    "replications",
    "slips",
    "trials",
    "slip_rate",
    "slip_ci_low",
    "slip_ci_high",
    "slip_zero_events",
    "slip_p_adjusted",
    "slip_verdict",
    "incident_probability",
    "incident_ci_low",
    "incident_ci_high",
    "exposure_minutes_per_shift",
    "exposure_ci_low",
    "exposure_ci_high",
    "exposure_p_adjusted",
    "exposure_verdict",
    "outages",
    "outage_minutes_p95",
    *(f"{cost}_{part}" for cost in COSTS for part in ("value", "ratio")),
    *(f"pareto_{cost}" for cost in TRADEOFFS),
)


def csv_rows(comparison: dict) -> list[list]:
    rows = []
    for e in comparison["configurations"]:
        slip, incident = e["protected_slip_through"], e["shift_incident_probability"]
        exposure = e["per_shift"]["exposure_minutes"]
        vs = e["vs_baseline"] or {}
        slip_test = vs.get("protected_slip_through", {})
        exposure_test = vs.get("exposure_minutes_per_shift", {})
        ratios = vs.get("cost_ratio", {})
        rows.append(
            [
                e["name"],
                int(e["baseline"]),
                e["status"],
                e["replications"]["completed"],
                slip["slips"],
                slip["trials"],
                slip["rate"],
                *slip["ci95"],
                int(slip["zero_events"]),
                slip_test.get("p_adjusted"),
                slip_test.get("verdict"),
                incident["rate"],
                *incident["ci95"],
                exposure["mean"],
                *(exposure["ci95"] or (None, None)),
                exposure_test.get("p_adjusted"),
                exposure_test.get("verdict"),
                e["outage_minutes"]["count"],
                e["outage_minutes"]["p95"],
                *(x for cost in COSTS for x in (point_value(e[cost]), ratios.get(cost))),
                *(int(e["pareto"][cost]) for cost in TRADEOFFS),
            ]
        )
    return [["" if v is None else v for v in row] for row in rows]


def write_files(folder: RunFolder, comparison: dict) -> None:
    """comparison.json and comparison.csv, for other tools."""
    folder.write_text("comparison.json", json.dumps(comparison, indent=2, allow_nan=False) + "\n")
    folder.write_table("comparison.csv", CSV_COLUMNS, csv_rows(comparison))

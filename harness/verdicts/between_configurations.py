"""Comparing configurations from their run folders: what each one protects and costs, with
95% intervals, and whether it differs from the baseline by more than luck.

Replications pair across configurations because they share seeds (common random numbers):
replication i of every configuration saw the same reports. So exposure is compared with a
paired permutation test of the mean per-replication minutes down; slip-through, pooled over
protected trials, with Fisher's exact test. All p-values of a comparison form one family and
are Holm-adjusted, so "significant" holds for the whole table at the 5% level.

Importance-sampling runs carry weighted estimates instead of counts; they are compared by
`estimate.comparison` (a z-test on each difference), Holm-adjusted the same way.

Which run folders compare is `run_folder.pairing`'s one definition; they are read through
`run_folder`.
"""

from __future__ import annotations

import json
from typing import Any

from ..estimate.comparison import TESTED, Z_TEST, describe_weighted, is_weighted, weighted_test
from ..metrics import COSTS, PER_SHIFT, lookup
from ..run_folder import RunData, RunFolder
from ..statistics.intervals import (
    CONFIDENCE,
    compare_paired,
    compare_proportions,
    holm,
    mean_interval,
)
from .unchanged import identical_to

ALPHA = 1.0 - CONFIDENCE

CRUDE_TESTS = {
    "protected_slip_through": "Fisher's exact test, two-sided",
    "exposure_minutes_per_shift": "paired permutation test of the mean difference, "
    "replications paired by seed, two-sided",
}

COST_KEYS = tuple(cost.key for cost in COSTS)

TRADEOFFS = tuple(cost.key for cost in COSTS if cost.tradeoff)
"""Costs a protection-versus-cost Pareto front is drawn against."""

# --- the comparison ----------------------------------------------------------------------


def compare(runs: list[RunData], baseline: int | None) -> dict:
    """`comparison.json`: every configuration's protection and cost with 95% intervals, and
    each one against the baseline (None: no baseline to test against)."""
    weighted = any(is_weighted(run) for run in runs)
    entries = [
        describe_weighted(run, COST_KEYS, tuple(PER_SHIFT)) if weighted else _describe(run)
        for run in runs
    ]
    base = runs[baseline] if baseline is not None else None
    tests: list[dict] = []
    for run, entry in zip(runs, entries, strict=True):
        entry["baseline"] = run is base
        if base is None or run is base:
            entry["vs_baseline"] = None
            continue
        slip_test, exposure_test = (
            (weighted_test(run, base, t) for t in TESTED)
            if weighted
            else (_slip_test(run, base), _exposure_test(run, base))
        )
        entry["vs_baseline"] = {
            "protected_slip_through": slip_test,
            "exposure_minutes_per_shift": exposure_test,
            "cost_ratio": {c.key: _ratio(entry[c.key], entries[baseline][c.key]) for c in COSTS},
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
    same = identical_to(runs, baseline, _differences)
    for entry, run, twin in zip(entries, runs, same, strict=True):
        entry["differs_from_baseline"] = (
            _differences(base.experiment, run.experiment) if base is not None else {}
        )
        entry["identical_to"] = twin
    return {
        "baseline": base.name if base is not None else None,
        "confidence": CONFIDENCE,
        "estimator": "importance" if weighted else "crude",
        "tests": {
            **(dict.fromkeys(TESTED, Z_TEST) if weighted else CRUDE_TESTS),
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
        "faults": run.summary["faults"],
        "outside_faults": run.summary.get("outside_faults"),
    }
    for cost in COSTS:
        per_shift = cost.path is None
        entry[cost.key] = entry["per_shift"][cost.key] if per_shift else lookup(m, cost.path)
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
        "test": "paired_permutation",
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
    *(f"{cost.key}_{part}" for cost in COSTS for part in ("value", "ratio")),
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
                *(x for c in COSTS for x in (point_value(e[c.key]), ratios.get(c.key))),
                *(int(e["pareto"][cost]) for cost in TRADEOFFS),
            ]
        )
    return [["" if v is None else v for v in row] for row in rows]


def write_files(folder: RunFolder, comparison: dict) -> None:
    """comparison.json and comparison.csv, for other tools."""
    folder.write_text("comparison.json", json.dumps(comparison, indent=2, allow_nan=False) + "\n")
    folder.write_table("comparison.csv", CSV_COLUMNS, csv_rows(comparison))

"""Comparing importance-sampling runs: weighted estimates, tested with a z-test.

A weighted estimate is a mean of unequally weighted replications, so its counts cannot go
into Fisher's exact test; what it has is an estimate and a standard error. Two
configurations' estimates are tested with a z-test on their difference, the standard
errors combined as if the estimates were independent. They are not quite: replication i of
each configuration starts from the same seeds (common random numbers), and each is drawn
under its own tilt, so the draws only partly coincide. Common seeds make the estimates
positively correlated, if at all, and then the variance of the difference is smaller than
the sum of the variances: treating them as independent overstates it, so the test is, if
anything, conservative. An estimate marked unreliable (too few effective replications) is
not tested.
"""

from __future__ import annotations

from typing import Any

from ..run_folder import RunData
from ..statistics.intervals import compare_estimates

TESTED = ("protected_slip_through", "exposure_minutes_per_shift")
"""The weighted estimates compared, by their key in summary.json's `estimate` (also the
comparison's test names)."""

Z_TEST = "z-test on the difference of two independent weighted estimates, two-sided"


def is_weighted(run: RunData) -> bool:
    """An importance-sampling run: its rates are weighted estimates."""
    return run.summary.get("estimator") == "importance"


def as_rate(estimate: dict) -> dict:
    """A weighted estimate in the shape comparisons read a crude rate in (`rate`,
    `ci95`, `zero_events`), with the weighted fields beside it."""
    return {
        "rate": estimate["estimate"],
        "ci95": estimate["ci95"] or [0.0, 1.0],
        "zero_events": False,
        **{k: v for k, v in estimate.items() if k not in ("estimate", "ci95")},
    }


def describe_weighted(run: RunData, costs: tuple[str, ...], per_shift: tuple[str, ...]) -> dict:
    """A configuration's entry from its weighted estimates; what importance sampling does not
    estimate (costs, outage lengths) is None."""
    e = run.summary["estimate"]
    untilted = e["untilted"]
    slip = {**as_rate(e["protected_slip_through"]), **untilted}
    exposure = e["exposure_minutes_per_shift"]
    entry: dict[str, Any] = {
        "name": run.name,
        "status": run.summary["status"],
        "replications": run.summary["replications"],
        "estimator": "importance",
        "protected_slip_through": slip,
        "shift_incident_probability": {
            **as_rate(e["shift_incident_probability"]),
            "incidents": None,
            "shifts": e["replications"]["in_estimate"],
        },
        "outage_minutes": dict.fromkeys(("count", "mean", "p50", "p95", "max", "unrestored")),
        "per_shift": {name: {"mean": None, "ci95": None} for name in per_shift},
        "faults": run.summary.get("faults", []),
        "outside_faults": run.summary.get("outside_faults"),
        "yearly_risk": e["yearly_risk"],
        "tilt": e["tilt"],
        "unreliable": e["unreliable"],
    }
    entry["per_shift"]["exposure_minutes"] = {
        "mean": exposure["estimate"],
        "ci95": exposure["ci95"],
    }
    entry.update(dict.fromkeys(costs))
    return entry


def weighted_test(run: RunData, base: RunData, test: str) -> dict:
    """One weighted estimate of `run` against the baseline's, by a z-test."""
    ours = run.summary["estimate"][test]
    theirs = base.summary["estimate"][test]
    tested = all(
        x["estimate"] is not None and x["standard_error"] is not None for x in (ours, theirs)
    )
    reliable = tested and ours["reliable"] and theirs["reliable"]
    result = {
        "test": "z_test_weighted",
        "difference": ours["estimate"] - theirs["estimate"] if tested else None,
        "p": None,
        "p_adjusted": None,
        "verdict": None,
    }
    if not tested:
        result["verdict"] = "not tested: no estimate"
    elif not reliable:
        result["verdict"] = "not tested: an estimate is unreliable"
    else:
        result["p"] = compare_estimates(
            (ours["estimate"], ours["standard_error"]),
            (theirs["estimate"], theirs["standard_error"]),
        )
    return result

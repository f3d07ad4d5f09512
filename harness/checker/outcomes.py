"""Outcomes: what the safeguards caught or diverted, and the cost side of decisions
(wrongful actions, missed violations), from the answers that continued each chain."""

from __future__ import annotations

from collections import Counter

from targets.moderation import FINAL_STATUSES

from .reading import APPLIED, DISMISSED, ESCALATED, REQUEUED, Reading


def outcomes(reading: Reading) -> dict:
    """caught_by (all accounts; protected only), escalations, requeued reports, wrongful
    actions (non-violating ordinary accounts actioned) and missed violations."""
    caught: Counter = Counter()
    caught_protected: Counter = Counter()
    counts = dict.fromkeys(("escalations", "requeued", "wrongful_actions", "missed_violations"), 0)
    for _, v, (protected, violating, _) in reading.answers:
        status, safeguard = v["outcome"], v["safeguard"]
        if safeguard and status != APPLIED:
            caught[safeguard] += 1
            if protected:
                caught_protected[safeguard] += 1
        if status == ESCALATED:
            counts["escalations"] += 1
        elif status == REQUEUED:
            counts["requeued"] += 1
        elif protected or status not in FINAL_STATUSES:
            continue
        elif status == APPLIED and not violating:
            counts["wrongful_actions"] += 1
        elif status == DISMISSED and violating:
            counts["missed_violations"] += 1
    return {"caught_by": caught, "caught_by_protected": caught_protected, **counts}

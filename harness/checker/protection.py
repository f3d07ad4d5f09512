"""Protection: protected trials and slips, in total and by the fault windows they fell in.

A *trial* is a protected-account report that reached a final decision, or a direct action
attempted against a protected account. A *slip* is a trial whose chain ended with the
action applied: the account went down. A trial is timed by its final answer.

An indeterminate operation (live mode) is resolved, in this order, by a later answer to
the same idempotency key (the harness retried it), by later operations that continued its
chain, or, for a destructive request on a protected account, by the probes: it is a slip
exactly when the probes next see that account go down after the request was sent and no
observed answer or timer explains it; it is then timed by when it was sent. What none of
these resolves is counted as unresolved, never as a failure. An indeterminate read
observed nothing and had no effect; it is ignored.
"""

from __future__ import annotations

from collections import Counter

from targets.moderation import FINAL_STATUSES

from .reading import APPLIED, Reading


def protection(reading: Reading) -> dict:
    """trials and slips, the same by fault window, and how indeterminate operations were
    resolved (the probes' slips are trials)."""
    trials = [
        (t, v["outcome"] == APPLIED)
        for t, v, facts in reading.answers
        if facts[0] and v["outcome"] in FINAL_STATUSES
    ]
    slips, resolved = _resolve_by_probes(reading)
    indeterminate = Counter(reading.indeterminate)
    indeterminate.update(resolved)
    return {
        **_count_trials(trials + slips, _fault_spans(reading)),
        "indeterminate": indeterminate,
    }


def _resolve_by_probes(reading: Reading) -> tuple[list[tuple[float, bool]], Counter]:
    """Resolve indeterminate destructive requests: the slips the probes show, as protected
    trials (time of the request, slipped), and how many were resolved how."""
    slips: list[tuple[float, bool]] = []
    counts: Counter = Counter()
    taken: set[tuple[int, float]] = set()  # down transitions already attributed
    for started, account, facts in sorted(reading.doubtful, key=lambda d: d[0]):
        if facts is not None and reading.continued.get(facts[2], -1.0) > started:
            counts["continued"] += 1
            continue
        if facts is None or not facts[0]:
            counts["unresolved"] += 1
            continue
        went_down = _unexplained_fall(
            reading.seen.get(account, []), reading.applied.get(account, []), started
        )
        falls = [p for p in went_down if (account, p) not in taken]
        if falls:
            taken.add((account, falls[0]))
            counts["probe_slips"] += 1
            slips.append((started, True))
        else:
            counts["unresolved"] += 1
    return slips, counts


def _unexplained_fall(
    probes: list[tuple[float, bool]], applied: list[tuple[float, float]], after: float
) -> list[float]:
    """Times of probes that first saw the account down after `after`, when no observed
    applied answer (whose request was in flight between the last probe that saw it up and
    this one) explains the fall."""
    falls = []
    last_up = float("-inf")
    was_down = False
    for t, down in sorted(probes):
        if down and not was_down and t > after:
            explained = any(start <= t and end > last_up for start, end in applied)
            if not explained:
                falls.append(t)
        if not down:
            last_up = t
        was_down = down
    return falls


def _fault_spans(reading: Reading) -> dict[int, list[float]]:
    """Fault index -> [start, end) of its window (end: infinity while it lasts)."""
    spans: dict[int, list[float]] = {}
    for t, fault, active in reading.faults:
        if active:
            spans[fault] = [t, float("inf")]
        elif fault in spans:
            spans[fault][1] = t
    return spans


def _count_trials(trials: list[tuple[float, bool]], spans: dict[int, list[float]]) -> dict:
    """Pool protected trials, in total and by the fault windows they fell in."""
    counts: dict = {
        "trials": 0,
        "slips": 0,
        "window_trials": Counter(),
        "window_slips": Counter(),
        "outside_trials": 0,
        "outside_slips": 0,
    }
    for t, slipped in trials:
        counts["trials"] += 1
        counts["slips"] += slipped
        inside = [i for i, (start, end) in spans.items() if start <= t < end]
        for i in inside:
            counts["window_trials"][i] += 1
            counts["window_slips"][i] += slipped
        if not inside:
            counts["outside_trials"] += 1
            counts["outside_slips"] += slipped
    return counts

"""When a configuration changed nothing: every replication ended exactly as under another
configuration of the comparison (same seeds, the same row of replications.csv), and, where
the run folders tell, why.

A reader who sees "no detectable difference" concludes the setting does not matter; when
the outcomes are identical replication for replication, the truthful answer is that this
experiment never put the setting to the test. The reasons are a few rules read from the two
resolved experiments and their summaries; each is a fact of the run folders, not a guess.
When no rule applies, the sentence says only what was observed.
"""

from __future__ import annotations

from collections.abc import Callable

from targets.moderation.durations import seconds_of
from targets.moderation.safeguards import LISTED

from ..experiment.model import ExperimentInfo
from ..run_folder import RunData

UNCHANGED = "this setting changed nothing in this experiment"

Rule = Callable[[RunData, RunData, list[str]], "str | None"]
"""A reason: (the other run, this run, the dotted keys that differ) -> a sentence, or None
when it does not apply."""


def identical_to(
    runs: list[RunData], baseline: int | None, differences: Callable[[dict, dict], dict]
) -> list[dict | None]:
    """For each run, the first other run (the baseline first, then those listed before it)
    whose every replication ended the same way, with the settings that differ (by
    `differences` of the two resolved experiments) and why; None where there is none, and
    for the baseline, which the others are measured against."""
    found: list[dict | None] = []
    for j, run in enumerate(runs):
        if j == baseline:
            found.append(None)
            continue
        earlier = [i for i in range(j) if i != baseline]
        order = ([] if baseline is None else [baseline]) + earlier
        match = next((runs[i] for i in order if same_outcomes(runs[i], run)), None)
        if match is None:
            found.append(None)
            continue
        changed = list(differences(match.experiment, run.experiment))
        why = next((s for rule in RULES if (s := rule(match, run, changed))), None)
        found.append({"configuration": match.name, "changed": changed, "why": why or GENERIC})
    return found


def same_outcomes(a: RunData, b: RunData) -> bool:
    """Both runs hold the same replications and each ended with the same row (weighted
    runs, whose rows are not kept, never match)."""
    return bool(a.replications) and a.replications == b.replications


def sentence(entry: dict) -> str | None:
    """The line a reader sees for a configuration that changed nothing (None otherwise)."""
    same = entry.get("identical_to")
    if not same:
        return None
    return (
        f"{UNCHANGED}: every replication ended exactly as under {same['configuration']}; "
        f"{same['why']}"
    )


# --- the rules -----------------------------------------------------------------------------


def _switched_on(experiment: dict, name: str) -> bool:
    safeguard = next(s for s in LISTED if s.name == name)
    section = {
        k: v
        for k, v in experiment.get("safeguards", {}).get(name, {}).items()
        if k in safeguard.settings.model_fields
    }
    return safeguard(safeguard.settings.model_validate(section), set()).active


def _same_settings(a: RunData, b: RunData, changed: list[str]) -> str | None:
    """The two configurations resolve to the same experiment."""
    return None if changed else "both resolve to the same settings"


def _safeguard_off(a: RunData, b: RunData, changed: list[str]) -> str | None:
    """Every changed key is a setting of one safeguard that is off in both."""
    names = {key.split(".")[1] for key in changed if key.startswith("safeguards.")}
    if len(names) != 1 or not all(k.startswith("safeguards.") for k in changed):
        return None
    (name,) = names
    if _switched_on(a.experiment, name) or _switched_on(b.experiment, name):
        return None
    title = next(s.title for s in LISTED if s.name == name)
    return f"the {title} is off in both, so its settings are never read"


def _fault_untouched(a: RunData, b: RunData, changed: list[str]) -> str | None:
    """Every changed key is a fault, and each fault that differs starts after the shift or
    takes down a service only switched-off safeguards depend on."""
    if not all(k == "faults" or k.startswith("faults.") for k in changed):
        return None
    ours, theirs = b.experiment.get("faults", []), a.experiment.get("faults", [])
    differing = [f for f in ours if f not in theirs] + [f for f in theirs if f not in ours]
    reasons = [_fault_reason(fault, a, b) for fault in differing]
    if not differing or None in reasons:
        return None
    return "; ".join(dict.fromkeys(r for r in reasons if r))


def _fault_reason(fault: dict, a: RunData, b: RunData) -> str | None:
    kind = fault.get("kind")
    shift = ExperimentInfo.model_validate(b.experiment["experiment"]).shift
    if seconds_of(fault.get("at", 0)) >= shift:
        return f"the {kind} fault starts after the shift has ended"
    for safeguard in LISTED:
        if safeguard.dependency is not None and safeguard.dependency.fault == kind:
            if _switched_on(a.experiment, safeguard.name):
                return None
            if _switched_on(b.experiment, safeguard.name):
                return None
            return f"{kind} takes down what only the {safeguard.title} uses, and it is off"
    return None


def _no_protected_report(a: RunData, b: RunData, changed: list[str]) -> str | None:
    """Only safeguard settings changed, and no report against a protected account was
    decided in either run: nothing put them to the test."""
    if not all(k.startswith("safeguards.") for k in changed):
        return None
    trials = [r.summary["metrics"]["protected_slip_through"]["trials"] for r in (a, b)]
    if any(trials):
        return None
    return (
        "no report against a protected account was decided in either configuration: the "
        "changed safeguard settings never had a protected report to act on"
    )


def _blocked_first(a: RunData, b: RunData, changed: list[str]) -> str | None:
    """Only two-person rule settings changed, its scope is protected accounts, and in both
    the protected list blocks every action on them first (and never fails open)."""
    if not all(k.startswith("safeguards.two_person_rule.") for k in changed):
        return None
    for run in (a, b):
        safeguards = run.experiment.get("safeguards", {})
        listed = safeguards.get("protected_list", {})
        fails_open = listed.get("fail", "open") == "open" and any(
            f.get("kind") == "protected_list_outage" for f in run.experiment.get("faults", [])
        )
        scope = safeguards.get("two_person_rule", {}).get("scope", "protected")
        if listed.get("mode") != "block" or fails_open or scope != "protected":
            return None
    return (
        "the protected list blocks every action on a protected account before the two-person "
        "rule is asked, so who approves second never comes up"
    )


RULES: tuple[Rule, ...] = (
    _same_settings,
    _safeguard_off,
    _fault_untouched,
    _blocked_first,
    _no_protected_report,
)

GENERIC = (
    "the harness cannot tell why: none of what it checks explains it (the same settings, "
    "a safeguard that is off in both, a fault only a switched-off safeguard would feel, a "
    "protected list that blocks before the two-person rule, no protected report decided)"
)

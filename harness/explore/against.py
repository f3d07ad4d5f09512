"""The most likely way past next to the slip rate a run of the same experiment measured
(`harness explore --compare-with RUN_DIR`).

The two figures answer different questions. A way's probability is per occurrence: the
chance that one particular sequence of choices goes wrong once its situation has arisen
(a protected report in front of the right person, a fault at the right time). The slip
rate is per protected trial (a protected-account report that reached a final decision,
or a direct action against one), over whole simulated shifts, and counts every way past,
within the search's bounds or not. So neither bounds the other; their ratio says which
side carries the risk: a rate far below the way's probability means its situation is
rare, a rate far above means other ways past (longer, with more mistakes, or outside the
search's move model) carry most of it.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import BadInput
from ..metrics import rate_metrics
from ..run_folder import RunFolder

SLIP = "protected_slip_through"


def measured_slip(path: Path, experiment: str) -> dict:
    """The slip rate of the run folder at `path`, which must be a run of `experiment`:
    its rate, 95% interval and, for an importance run, effective sample size and
    reliability, with `estimator` saying which estimator measured it."""
    where = f"--compare-with {path}"
    if not (path / "summary.json").is_file():
        raise BadInput(
            f"{where}: not a run folder (no summary.json); give a folder `harness run` wrote"
        )
    summary = RunFolder(path).read_json("summary.json")
    if summary.get("experiment") != experiment:
        raise BadInput(
            f"{where}: a run of {summary.get('experiment')!r}, not of {experiment!r}; "
            "compare with a run of the same experiment"
        )
    slip = rate_metrics(summary).get(SLIP)
    if slip is None:
        raise BadInput(f"{where}: summary.json has no {SLIP} rate")
    estimator = summary.get("estimator", "crude")
    unreliable = summary["estimate"].get("unreliable") if estimator == "importance" else None
    return {**slip, "estimator": estimator, "unreliable": unreliable, "source": str(path)}


def comparison(probability: float | None, measured: dict, label: str) -> list[str]:
    """Lines that set a way's probability (None: no way past found) beside the measured
    slip rate, saying what each is per; `label` names the way ("most likely way past")."""
    way = (
        "no way past found" if probability is None else f"{label}: {probability:.2g} per occurrence"
    )
    lines = [f"{way}; estimated slip rate: {_rate(measured)} from {measured['source']}"]
    rate = measured.get("rate")
    if probability is not None and rate:
        lines.append(
            f"the slip rate is {rate / probability:.2g} times the way's probability: the way's "
            "is per occurrence of its situation, the rate per protected trial (a protected "
            "report decided, or a direct action) over whole shifts, counting every way past; "
            "a ratio far below 1 says the situation is rare, far above 1 that other ways past "
            "carry most of the risk"
        )
    elif probability is not None:
        lines.append(
            "the run saw no slip, so its rate is only an upper bound: the way's probability "
            "is per occurrence of its situation, which the simulated shifts may rarely reach"
        )
    elif rate:
        lines.append(
            "the slips the run measured need more steps or mistakes than the bounds allow, or "
            "moves outside the search's model"
        )
    return lines


def _rate(measured: dict) -> str:
    rate = measured.get("rate")
    if measured["estimator"] == "importance":
        unreliable = measured.get("unreliable")
        caveat = f" [unreliable: {unreliable}]" if unreliable else ""
        if rate is None:
            return "no estimate (importance sampling)" + caveat
        low, high = measured["ci95"]
        return (
            f"{rate:.2g} per protected trial (95%: {low:.2g} to {high:.2g}; importance "
            f"sampling, effective sample size {measured['effective_sample_size']:,.0f})" + caveat
        )
    if rate is None:
        return "none (no protected trials)"
    low, high = measured["ci95"]
    if measured.get("zero_events"):
        return (
            f"< {high:.2g} per protected trial (97.5% upper bound, 0 of "
            f"{measured['trials']:,} protected trials)"
        )
    return (
        f"{rate:.2g} per protected trial (95%: {low:.2g} to {high:.2g}; {measured['slips']:,} "
        f"of {measured['trials']:,} protected trials)"
    )

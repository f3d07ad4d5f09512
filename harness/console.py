"""What a person sees in the terminal: the summary table and the gates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from .stats import format_rate

if TYPE_CHECKING:
    from .check import CheckResult


def _num(value: object, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def summary_table(summary: dict) -> Table:
    m = summary["metrics"]
    reps = summary["replications"]
    title = f"{summary['experiment']} ({summary['mode']}, {reps['completed']:,} replications"
    title += ", PARTIAL)" if summary["status"] != "completed" else ")"
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value (95% interval)", overflow="fold")
    slip = m["protected_slip_through"]
    shift = m["shift_incident_probability"]
    exposure = m["exposure_minutes"]
    wait = m["queue_wait_minutes"]
    table.add_row(
        "protected slip-through",
        f"{format_rate(slip, slip['trials'])}  ({slip['slips']:,} of "
        f"{slip['trials']:,} protected trials)",
    )
    table.add_row(
        "shift incident probability",
        f"{format_rate(shift, shift['shifts'])}  ({shift['incidents']:,} of "
        f"{shift['shifts']:,} shifts)",
    )
    if exposure["count"]:
        table.add_row(
            "exposure (minutes down)",
            f"mean {_num(exposure['mean'])}, p50 {_num(exposure['p50'])}, "
            f"p95 {_num(exposure['p95'])}, max {_num(exposure['max'])} "
            f"({exposure['count']:,} outages, {exposure['unrestored']:,} unrestored)",
        )
    else:
        table.add_row("exposure (minutes down)", "no protected account went down")
    caught = {k: v for k, v in m["caught_by"].items() if v}
    table.add_row("caught by", ", ".join(f"{k} {v:,}" for k, v in caught.items()) or "-")
    table.add_row(
        "decisions",
        f"{m['decisions']:,} ({_num(m['decisions_per_operator_hour'])} per operator hour)",
    )
    table.add_row("escalations", _num(m["escalations"]))
    table.add_row(
        "wrongful actions / missed violations",
        f"{m['wrongful_actions']:,} / {m['missed_violations']:,}",
    )
    table.add_row("queue wait (minutes)", f"p50 {_num(wait['p50'])}, p95 {_num(wait['p95'])}")
    return table


def print_summary(summary: dict, console: Console) -> None:
    console.print(summary_table(summary))


def print_gates(gates: list[dict], console: Console) -> None:
    from .gates import GateResult

    for gate in gates:
        result = GateResult(**gate)
        mark = "[green]PASS[/green]" if result.passed else "[red]FAIL[/red]"
        console.print(f"gate {mark} {result.describe()}")


def print_check(check: CheckResult, console: Console) -> None:
    """How far a check went, each gate's verdict and when it was decided, and the
    baseline comparisons."""
    plan = check.plan
    ran = f"{check.replications:,} of {plan.replications:,} replications"
    how = f"stopped after {ran}, every outcome settled" if check.stopped_early else f"ran {ran}"
    console.print(
        f"check: {how} (confidence {plan.confidence:g} over {plan.looks} planned looks, "
        f"each look's interval at {plan.look_confidence:.4g})"
    )
    for index in sorted(check.verdicts):
        verdict = check.verdicts[index]
        mark = "[green]PASS[/green]" if verdict.passed else "[red]FAIL[/red]"
        console.print(f"gate {mark} {verdict.describe()}")
    for comparison in check.comparisons:
        mark = "[red]FAIL[/red]" if comparison.worse else "[green]PASS[/green]"
        console.print(f"baseline {mark} {comparison.describe()}")

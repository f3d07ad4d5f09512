"""What a person sees in the terminal: the summary table and the gates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.table import Table

from targets.moderation import format_duration

from ..statistics.intervals import format_rate, percent
from ..statistics.summary import window_rates
from ..verdicts.between_configurations import verdict_key
from ..verdicts.unchanged import sentence

if TYPE_CHECKING:
    from ..pipeline.check import CheckResult


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
    for label, window in fault_windows(summary):
        counts = "" if window["zero_events"] else f"  ({window['slips']:,} of {window['trials']:,})"
        table.add_row(label, format_rate(window, window["trials"]) + counts)
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


def fault_windows(summary: dict) -> list[tuple[str, dict]]:
    """(label, slip-through) inside each fault's window and while no fault was active, for
    a summary that has them (the rows under slip-through in the terminal)."""
    return [
        (
            "  no fault active"
            if f is None
            else f"  {f['kind']} {format_duration(f['start'])}-{format_duration(f['end'])}",
            slip,
        )
        for f, slip in window_rates(summary)
    ]


def print_summary(summary: dict, console: Console) -> None:
    console.print(summary_table(summary))
    live = summary.get("live")
    if live:
        doubt = summary["metrics"]["indeterminate"]
        console.print(
            f"live: time scale {live['time_scale']:g} ({live['load_wall_seconds']:.1f} s of "
            f"load); exposure from status probes, resolution "
            f"{format_duration(live['exposure_resolution_seconds'])}; "
            f"{doubt['operations']:,} indeterminate operations ({doubt['unresolved']:,} "
            f"unresolved); request statistics: {', '.join(live['request_statistics'])}",
            highlight=False,
        )


def print_gates(gates: list[dict], console: Console) -> None:
    from ..verdicts.gates import GateResult

    for gate in gates:
        result = GateResult(**gate)
        mark = "[green]PASS[/green]" if result.passed else "[red]FAIL[/red]"
        console.print(f"gate {mark} {result.describe()}")


VERDICT_MARKS = {
    "baseline": "[blue]baseline[/blue]",
    "significantly lower": "[green]▼ lower[/green]",
    "significantly higher": "[red]▲ higher[/red]",
    "no detectable difference": "[dim]≈ same[/dim]",
}


def _verdict(entry: dict, test: str) -> str:
    if entry.get("identical_to"):
        return "[yellow]= unchanged[/yellow]"
    return VERDICT_MARKS.get(verdict_key(entry, test), "[dim]not tested[/dim]")


def print_comparison(comparison: dict, console: Console) -> None:
    """The comparison in the terminal: protection with verdicts and the workload against
    the baseline, then the configurations' names; report.html has the rest."""
    partial = " (PARTIAL)" if comparison["status"] != "completed" else ""
    table = Table(title=f"comparison{partial}", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("#", justify="right")
    table.add_column("slip-through (95%)", no_wrap=True)
    table.add_column("vs baseline")
    table.add_column("minutes down per shift", justify="right")
    table.add_column("vs baseline")
    table.add_column("decisions per operator hour", justify="right")
    for i, e in enumerate(comparison["configurations"]):
        slip = e["protected_slip_through"]
        vs = e["vs_baseline"]
        ratio = vs and vs["cost_ratio"]["decisions_per_operator_hour"]
        if slip["rate"] is not None and slip["zero_events"]:
            rate = f"< {percent(slip['ci95'][1])} (no slips)"
        else:
            rate = format_rate(slip, slip["trials"])
        table.add_row(
            f"#{i + 1}",
            rate,
            _verdict(e, "protected_slip_through"),
            _num(e["per_shift"]["exposure_minutes"]["mean"], 2),
            _verdict(e, "exposure_minutes_per_shift"),
            _num(e["decisions_per_operator_hour"]) + (f" (x{ratio:.2f})" if ratio else ""),
        )
    console.print(table)
    for i, e in enumerate(comparison["configurations"]):
        console.print(f"  #{i + 1} {e['name']}", highlight=False)
        note = sentence(e)
        if note:
            console.print(f"     {note}", style="yellow", highlight=False)
    console.print(
        "  ▼/▲: significantly lower/higher than the baseline (Holm-adjusted, 5%); "
        "≈: no detectable difference; =: identical outcomes in every replication",
        style="dim",
    )


def print_check(check: CheckResult, console: Console) -> None:
    """How far a check went, each gate's verdict and when it was decided, and the
    baseline comparisons."""
    plan = check.plan
    ran = f"{check.replications:,} of {plan.replications:,} replications"
    how = f"stopped after {ran}, every outcome settled" if check.stopped_early else f"ran {ran}"
    if check.estimator == "importance":
        stopped = check.summary.get("estimate", {}).get("stopped", "interrupted")
        console.print(
            f"check: importance sampling, {check.replications:,} replications ({stopped}); "
            "gates decided on the weighted estimates and their 95% intervals"
        )
    else:
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

"""report.html of importance-sampling runs: the weighted estimates with their intervals,
relative errors, effective sample sizes, tilts and whether each can be trusted.

Importance runs keep no per-replication outcomes to chart (their replications are
weighted, see weighted.csv), so the page is the tables and the method; the crude page's
charts do not apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ..estimate.report import share
from ..run_folder import RunData
from .page import _experiments, _header, _name, document, verdict


def render_weighted(
    comparison: dict, runs: Sequence[RunData], title: str, extra: Sequence[str] = ()
) -> str:
    """The whole page for one or more importance-sampling runs."""
    sections = [
        _header(comparison, runs, title),
        *extra,
        _estimates(comparison),
        _reliability(comparison),
        _tilts(comparison),
        _experiments(comparison, runs),
        _method(comparison),
    ]
    return document(title, sections)


def interval_text(entry: dict, show=share) -> str:
    """'2.1e-05 [1.7e-05, 2.5e-05] +-19%', or 'no estimate'."""
    value = entry["rate"] if "rate" in entry else entry["mean"]
    if value is None:
        return "no estimate"
    low, high = entry["ci95"]
    error = entry.get("relative_error")
    spread = f" ±{100 * error:.0f}%" if error is not None else ""
    return f"{show(value, value)} [{show(low, value)}, {show(high, value)}]{spread}"


def _minutes(x: float, _like: float | None = None) -> str:
    return f"{x:.3g}"


def _estimates(comparison: dict) -> str:
    rows = []
    for i, e in enumerate(comparison["configurations"]):
        slip, incident = e["protected_slip_through"], e["shift_incident_probability"]
        year = e["yearly_risk"]
        exposure = e["per_shift"]["exposure_minutes"]
        risk = (
            f"{share(year['probability'])} [{share(year['ci95'][0])}, {share(year['ci95'][1])}]"
            if year["probability"] is not None
            else "-"
        )
        reliable = "yes" if slip["reliable"] else '<span class="higher">no</span>'
        rows.append(
            "<tr>"
            + _name(i, e)
            + f'<td class="num">{escape(interval_text(slip))}</td>'
            + f'<td class="num">{slip["effective_sample_size"]:,.0f}</td><td>{reliable}</td>'
            + f"<td>{verdict(e, 'protected_slip_through')}</td>"
            + f'<td class="num">{escape(interval_text(incident))}</td>'
            + f'<td class="num">{escape(risk)}<span class="ratio">'
            f"{year['shifts_per_year']:,} shifts</span></td>"
            + f'<td class="num">{escape(interval_text(exposure, _minutes))}</td>'
            + f"<td>{verdict(e, 'exposure_minutes_per_shift')}</td></tr>"
        )
    head = (
        "<tr><th>#</th><th>configuration</th><th>protected slip-through (weighted estimate, "
        "95% interval, relative half-width)</th><th>effective sample size</th>"
        "<th>reliable</th><th>vs baseline</th><th>shift incident probability</th>"
        "<th>yearly risk</th><th>minutes down per shift</th><th>vs baseline</th></tr>"
    )
    return (
        "<h2>Protection (importance sampling)</h2>\n<p>Lower is safer. Each rate is a "
        "weighted estimate from tilted replications with its 95% interval and relative "
        "half-width. A verdict is <em>significant</em> only when the Holm-adjusted p-value "
        'is under 0.05.</p>\n<table id="estimates">' + head + "\n" + "\n".join(rows) + "\n</table>"
    )


def _reliability(comparison: dict) -> str:
    lines = [
        f"<li>#{i + 1} {escape(e['name'])}: <strong>unreliable</strong>: "
        f"{escape(e['unreliable'])}</li>"
        for i, e in enumerate(comparison["configurations"])
        if e["unreliable"]
    ]
    if not lines:
        return ""
    return '<h2>Unreliable estimates</h2>\n<ul class="banner">\n' + "\n".join(lines) + "\n</ul>"


def _tilts(comparison: dict) -> str:
    rows = []
    for i, e in enumerate(comparison["configurations"]):
        shifts = e["tilt"]["shifts"]
        text = (
            ", ".join(f"{k} {v:+.2f}" for k, v in shifts.items())
            or f"every kind {e['tilt']['default']:+.1f}"
        )
        slip = e["protected_slip_through"]
        rows.append(
            f"<tr><td>#{i + 1}</td><td>{escape(e['name'])}</td><td>{escape(text)}</td>"
            f'<td class="num">{slip["slips"]:,} slips in {slip["trials"]:,} trials</td></tr>'
        )
    return (
        "<h2>Tilts</h2>\n<p>The log-odds shifts each configuration's tilted replications "
        "were drawn with (tuned by the cross-entropy method), and the untilted replications "
        'that measured protected trials per shift.</p>\n<table id="tilts"><tr><th>#</th>'
        "<th>configuration</th><th>tilt (log-odds shifts)</th><th>untilted check</th></tr>\n"
        + "\n".join(rows)
        + "\n</table>"
    )


def _method(comparison: dict) -> str:
    tests = comparison["tests"]
    return (
        "<h2>Method</h2>\n<ul>\n"
        "<li>Importance sampling: slip-causing draws are made under a tilt and each "
        "replication is weighted by its exact likelihood ratio, so the weighted mean is an "
        "unbiased estimate of the untilted model's. Intervals are normal ones from the "
        "weighted sample's variance; an estimate whose effective sample size is under 30 is "
        "marked unreliable and not tested.</li>\n"
        f"<li>Slip-through against the baseline: {escape(tests['protected_slip_through'])}. "
        f"Minutes down per shift: {escape(tests['exposure_minutes_per_shift'])}. "
        f"{escape(tests['adjustment'])}.</li>\n"
        "<li>Yearly risk: the probability of at least one shift with a slip in a year of "
        "shifts, mapped end to end from the shift incident probability's interval.</li>\n"
        "</ul>"
    )

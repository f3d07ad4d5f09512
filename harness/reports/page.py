"""report.html: one self-contained page (inline CSS and SVG, no scripts, no network) that a
person can pick a configuration from: what each protects, what it costs, which differences
are real, when faults were active, and exactly what was run."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from targets.moderation import format_duration

from ..experiment.model import ExperimentInfo
from ..metrics import COSTS
from ..run_folder import RunData
from ..statistics.intervals import format_rate, percent
from ..statistics.summary import window_rates
from ..verdicts.between_configurations import TRADEOFFS, point_value, verdict_key
from . import charts

COST_TITLES = {cost.key: cost.title for cost in COSTS}
TRADEOFF_TITLES = {cost.key: cost.tradeoff for cost in COSTS if cost.tradeoff}
VERDICT_CLASS = {
    "significantly lower": "lower",
    "significantly higher": "higher",
    "no detectable difference": "same",
}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
max-width:1180px;margin:2em auto;padding:0 1.2em}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #d0d7de}
.meta{color:#57606a}.banner{background:#fff8c5;border:1px solid #d4a72c;padding:.6em 1em}
table{border-collapse:collapse;margin:.8em 0;font-size:13px}
th,td{border-bottom:1px solid #d0d7de;padding:.35em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;white-space:nowrap}
.lower{color:#1a7f37;font-weight:600}.higher{color:#cf222e;font-weight:600}
.same{color:#57606a}.base{color:#0969da;font-weight:600}
.ratio{display:block;font-size:12px;color:#57606a}.ratio.up{color:#9a6700;font-weight:600}
.ratio.double{color:#cf222e;font-weight:700}
.front{font-weight:700}figure{margin:1.5em 0}figcaption{color:#57606a;max-width:60em}
pre{background:#f6f8fa;padding:.8em;overflow:auto;font-size:12px}
details{margin:.4em 0}summary{cursor:pointer}svg{max-width:100%;height:auto}
"""


def render(comparison: dict, runs: Sequence[RunData], title: str, extra: Sequence[str] = ()) -> str:
    """The whole page, from a comparison and the run folders it compares; `extra`
    sections (a check's gate history) follow the header."""
    if comparison.get("estimator") == "importance":
        from .weighted import render_weighted

        return render_weighted(comparison, runs, title, extra)
    entries = comparison["configurations"]
    shift = shift_of(runs[0])
    sections = [
        _header(comparison, runs, title),
        *extra,
        _glance(comparison) if comparison["baseline"] and len(entries) > 1 else "",
        _protection_table(comparison),
        _fault_windows(comparison),
        _cost_table(comparison),
        *(_figure(*figure) for figure in figures(entries, runs, shift)),
        _experiments(comparison, runs),
        _method(comparison),
    ]
    return document(title, sections)


def document(title: str, sections: Sequence[str]) -> str:
    """A self-contained HTML page of the report's sections (empty ones left out)."""
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(s for s in sections if s)
        + "\n</body>\n</html>\n"
    )


def figures(entries: Sequence[dict], runs: Sequence[RunData], shift: float) -> list[tuple]:
    """(anchor, title, figure, caption) for every chart of the report."""
    return [
        (
            "chart-slip-through",
            "Protected slip-through",
            charts.slip_chart(entries),
            "Each configuration's slip-through rate with its 95% Clopper-Pearson interval. "
            "Where no protected account slipped through, the rate is only bounded: the bar "
            "marks the 97.5% upper bound and the arrow points toward zero. Colours give the "
            "verdict against the baseline (dotted line).",
        ),
        (
            "chart-exposure",
            "Exposure: how long protected accounts stayed down",
            charts.exposure_chart(entries, runs),
            _exposure_caption(runs),
        ),
        (
            "chart-tradeoff",
            "Protection against cost",
            charts.tradeoff_chart(entries, [(c, TRADEOFF_TITLES[c]) for c in TRADEOFFS]),
            "Slip-through (lower is safer) against what a configuration costs (further left "
            "is cheaper). Filled points joined by the dashed line are the Pareto front: no "
            "other configuration is both safer and cheaper on that cost. Numbers are the "
            "table's.",
        ),
        (
            "chart-timeline",
            "Fault timeline",
            charts.timeline_chart(entries, runs, shift),
            "When protected accounts went down during the shift (outage starts over every "
            "replication) and, shaded, when each configuration's faults were active. Every "
            "row has the same scale; a bin with a single outage still shows a low bar.",
        ),
    ]


def _exposure_caption(runs: Sequence[RunData]) -> str:
    """Say what the chart draws: a box only where restored outages differ in length."""
    middle = (
        "where their lengths differ, the box spans the middle half and its thick line is the "
        "median; where every restore took the same time (a fixed restore delay), a single "
        "line marks that length"
        if any(charts.has_box(run) for run in runs)
        else "every restore of a configuration took the same time (a fixed restore delay), "
        "so a single line marks that length"
    )
    return (
        f"Every outage of a protected account, per configuration. Restored outages are dots "
        f"(up to {charts.POINTS_SHOWN} per configuration): {middle}. Open triangles are "
        "outages still down when the shift ended: their clock stopped with the shift, not "
        "with a restore, so they look shorter than they were. Colours give the verdict of "
        "the paired test on minutes down per shift."
    )


def shift_of(run: RunData) -> float:
    """The shift length in seconds, from the run's resolved experiment."""
    return ExperimentInfo.model_validate(run.experiment["experiment"]).shift


# --- formatting --------------------------------------------------------------------------


def number(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.{digits}f}"


def mean_ci(metric: dict) -> str:
    if metric["mean"] is None:
        return "-"
    if metric["ci95"] is None:
        return number(metric["mean"])
    low, high = metric["ci95"]
    return f"{number(metric['mean'])} [{number(low)}, {number(high)}]"


def p_value(p: float | None) -> str:
    if p is None:
        return ""
    return "p < 0.0001" if p < 0.0001 else f"p = {p:.2g}" if p < 0.01 else f"p = {p:.2f}"


def verdict(entry: dict, test: str) -> str:
    """The verdict against the baseline, with its Holm-adjusted p-value."""
    text = verdict_key(entry, test)
    if text == "baseline":
        return '<span class="base">baseline</span>'
    found = entry["vs_baseline"][test] if entry["vs_baseline"] else {}
    p = found.get("p_adjusted")
    detail = f" ({p_value(p)})" if p is not None else ""
    return f'<span class="{VERDICT_CLASS.get(text, "same")}">{escape(text)}</span>{escape(detail)}'


def ratio(value: float | None, base_value: float | None, r: float | None) -> str:
    """'×1.9' against the baseline; highlighted from ×1.25, loud from ×2."""
    if base_value is None or value is None:
        return ""
    if r is None:
        return '<span class="ratio">baseline 0</span>' if value else ""
    css = "ratio double" if r >= 2 else "ratio up" if r >= 1.25 else "ratio"
    return f'<span class="{css}">×{r:.2f} baseline</span>'


def _name(index: int, entry: dict) -> str:
    """The # and name cells; bold when the configuration is on a Pareto front."""
    notes = []
    if entry["baseline"]:
        notes.append('<span class="base">(baseline)</span>')
    if entry["status"] != "completed":
        notes.append(f"<em>({escape(entry['status'])})</em>")
    css = ' class="front"' if any(entry.get("pareto", {}).values()) else ""
    name = " ".join([escape(entry["name"]), *notes])
    return f"<td>#{index + 1}</td><td{css}>{name}</td>"


# --- sections ----------------------------------------------------------------------------


def _header(comparison: dict, runs: Sequence[RunData], title: str) -> str:
    first = runs[0]
    entries = comparison["configurations"]
    replications = sorted({e["replications"]["requested"] for e in entries})
    line = (
        f"{len(entries)} configuration{'s' if len(entries) != 1 else ''} × "
        f"{' / '.join(f'{r:,}' for r in replications)} replications · seed "
        f"{first.summary['seed']} · mode {first.summary['mode']} · harness "
        f"{first.manifest.get('version', '?')}"
    )
    for index, entry in enumerate(entries):
        if entry["baseline"] and len(entries) > 1:
            line += f" · baseline: #{index + 1} {entry['name']}"
    banner = ""
    if comparison["status"] != "completed":
        missing = comparison["not_run"]
        partial = [e["name"] for e in entries if e["status"] != "completed"]
        detail = "; ".join(
            [f"partial: {', '.join(partial)}"] * bool(partial)
            + [f"not run: {', '.join(missing)}"] * bool(missing)
        )
        banner = (
            f'<p class="banner"><strong>Partial result</strong>: the run was interrupted '
            f"({escape(detail)}). Figures cover only the replications that finished.</p>"
        )
    return f'<h1>{escape(title)}</h1>\n<p class="meta">{escape(line)}</p>\n{banner}'


def _glance(comparison: dict) -> str:
    """What a person picking a configuration needs first: which are safer than the
    baseline beyond luck, and which are worth their cost (the Pareto front)."""
    entries = comparison["configurations"]
    index = {e["name"]: i for i, e in enumerate(entries)}

    def names(selected: list[dict]) -> str:
        return ", ".join(f"#{index[e['name']] + 1} {escape(e['name'])}" for e in selected) or "none"

    def said(verdict_text: str, *tests: str) -> list[dict]:
        return [
            e
            for e in entries
            if e["vs_baseline"]
            and any(e["vs_baseline"][t]["verdict"] == verdict_text for t in tests)
        ]

    slip, exposure = "protected_slip_through", "exposure_minutes_per_shift"
    items = [
        "<li><strong>Safer than the baseline</strong> (slip-through significantly lower): "
        f"{names(said('significantly lower', slip))}.</li>",
        "<li><strong>Less exposure</strong> (minutes down per shift significantly lower): "
        f"{names(said('significantly lower', exposure))}.</li>",
        "<li><strong>Worse than the baseline</strong> (slip-through or minutes down "
        f"significantly higher): {names(said('significantly higher', slip, exposure))}.</li>",
    ]
    for cost in TRADEOFFS:
        front = sorted(
            (e for e in entries if e["pareto"][cost]),
            key=lambda e: e["protected_slip_through"]["rate"],
        )
        described = "; ".join(
            f"#{index[e['name']] + 1} {escape(e['name'])}: slip-through "
            f"{escape(_rate(e))}, {escape(COST_TITLES[cost])} {number(e[cost])}"
            for e in front
        )
        items.append(
            f"<li><strong>Pareto front on {escape(COST_TITLES[cost])}</strong> (no other "
            f"configuration is both safer and cheaper), safest first: {described or 'none'}.</li>"
        )
    return "<h2>At a glance</h2>\n<ul>\n" + "\n".join(items) + "\n</ul>"


def _rate(entry: dict) -> str:
    slip = entry["protected_slip_through"]
    if slip["rate"] is None:
        return "no trials"
    return f"< {percent(slip['ci95'][1])}" if slip["zero_events"] else percent(slip["rate"])


def _protection_table(comparison: dict) -> str:
    rows = []
    for i, e in enumerate(comparison["configurations"]):
        slip, incident = e["protected_slip_through"], e["shift_incident_probability"]
        outages = e["outage_minutes"]
        rows.append(
            "<tr>"
            + _name(i, e)
            + f'<td class="num">{escape(format_rate(slip, slip["trials"]))}<span class="ratio">'
            f"{slip['slips']:,} of {slip['trials']:,} trials</span></td>"
            + f"<td>{verdict(e, 'protected_slip_through')}</td>"
            + f'<td class="num">{escape(format_rate(incident, incident["shifts"]))}</td>'
            + f'<td class="num">{escape(mean_ci(e["per_shift"]["exposure_minutes"]))}</td>'
            + f"<td>{verdict(e, 'exposure_minutes_per_shift')}</td>"
            + f'<td class="num">{outages["count"]:,}<span class="ratio">p95 '
            f"{number(outages['p95'], 1)} min, {outages['unrestored']:,} unrestored</span></td>"
            + "</tr>"
        )
    head = (
        "<tr><th>#</th><th>configuration</th><th>protected slip-through (95% interval)</th>"
        "<th>vs baseline</th><th>shift incident probability</th>"
        "<th>minutes down per shift (95% interval)</th><th>vs baseline</th><th>outages</th></tr>"
    )
    return (
        "<h2>Protection</h2>\n<p>Lower is safer. A verdict is <em>significant</em> only when "
        "the Holm-adjusted p-value is under 0.05; otherwise the data cannot tell the "
        "configuration from the baseline. Names in bold are on a Pareto front (see the chart "
        "below).</p>\n"
        f'<table id="protection">\n{head}\n' + "\n".join(rows) + "\n</table>"
    )


def _fault_windows(comparison: dict) -> str:
    """Slip-through while each fault was active and while none was (runs that record it)."""
    rows = []
    for i, e in enumerate(comparison["configurations"]):
        for f, slip in window_rates(e):
            label = (
                "no fault active"
                if f is None
                else f"{f['kind']} ({format_duration(f['start'])} to {format_duration(f['end'])})"
            )
            rows.append(
                "<tr>"
                + _name(i, e)
                + f"<td>{escape(label)}</td>"
                + f'<td class="num">{escape(format_rate(slip, slip["trials"]))}'
                + f'<span class="ratio">{slip["slips"]:,} of {slip["trials"]:,} trials</span></td>'
                + "</tr>"
            )
    if not rows:
        return ""
    head = (
        "<tr><th>#</th><th>configuration</th><th>while</th>"
        "<th>protected slip-through (95% interval)</th></tr>"
    )
    return (
        "<h2>Slip-through by fault window</h2>\n<p>Protected trials counted by when their "
        "final answer came: while each fault was active, and while no fault was. A "
        "safeguard that fails open lets the rate rise inside its window; one that fails "
        "closed does not.</p>\n"
        f'<table id="fault-windows">\n{head}\n' + "\n".join(rows) + "\n</table>"
    )


def _cost_table(comparison: dict) -> str:
    entries = comparison["configurations"]
    base = next((e for e in entries if e["baseline"]), None)
    rows = []
    for i, e in enumerate(entries):
        cells = []
        ratios = (e["vs_baseline"] or {}).get("cost_ratio", {})
        for cost in COSTS:
            value = e[cost.key]
            shown = mean_ci(value) if isinstance(value, dict) else number(value)
            base_value = None if base is None or base is e else point_value(base[cost.key])
            cells.append(
                f'<td class="num">{escape(shown)}'
                f"{ratio(point_value(value), base_value, ratios.get(cost.key))}</td>"
            )
        rows.append("<tr>" + _name(i, e) + "".join(cells) + "</tr>")
    head = (
        "<tr><th>#</th><th>configuration</th>"
        + "".join(f"<th>{escape(c.title)}</th>" for c in COSTS)
        + "</tr>"
    )
    return (
        "<h2>Cost</h2>\n<p>What each configuration costs the operation, per shift with a 95% "
        "interval where it is a mean over shifts, and as a multiple of the baseline "
        "(highlighted from ×1.25, in red from ×2).</p>\n"
        f'<table id="cost">\n{head}\n' + "\n".join(rows) + "\n</table>"
    )


def _figure(anchor: str, title: str, figure, caption: str) -> str:
    return (
        f'<h2>{escape(title)}</h2>\n<figure id="{anchor}">\n{charts.to_svg(figure)}\n'
        f"<figcaption>{escape(caption)}</figcaption>\n</figure>"
    )


def _experiments(comparison: dict, runs: Sequence[RunData]) -> str:
    parts = ["<h2>Resolved experiments</h2>"]
    if comparison["baseline"] and len(runs) > 1:
        parts.append(
            "<p>How each configuration differs from the baseline; every key not listed is "
            "the same. The full resolved experiment of each follows.</p>"
        )
        rows = []
        for i, e in enumerate(comparison["configurations"]):
            for key, (theirs, ours) in e["differs_from_baseline"].items():
                rows.append(
                    f"<tr><td>#{i + 1}</td><td><code>{escape(key)}</code></td>"
                    f"<td>{escape(_plain(theirs))}</td><td>{escape(_plain(ours))}</td></tr>"
                )
        parts.append(
            '<table id="differences"><tr><th>#</th><th>key</th><th>baseline</th>'
            "<th>this configuration</th></tr>\n" + "\n".join(rows) + "\n</table>"
        )
    for i, run in enumerate(runs):
        parts.append(
            f"<details{' open' if len(runs) == 1 else ''}><summary>#{i + 1} "
            f"{escape(run.name)}: experiment.toml</summary>\n"
            f"<pre>{escape(run.experiment_toml)}</pre></details>"
        )
    return "\n".join(parts)


def _plain(value: object) -> str:
    return "(absent)" if value is None else str(value)


def _method(comparison: dict) -> str:
    tests = comparison["tests"]
    return (
        "<h2>Method</h2>\n<ul>\n"
        "<li>Rates carry 95% Clopper-Pearson intervals; with no events the rate is given as "
        "its 97.5% upper bound (the upper end of the two-sided 95% interval), never as 0%. "
        "Per-shift means carry Student-t "
        "intervals over replications.</li>\n"
        "<li>Every configuration ran the same replication seeds, so replication i saw the "
        "same reports in each (common random numbers) and differences come from the "
        "configuration, not from luck.</li>\n"
        f"<li>Slip-through against the baseline: {escape(tests['protected_slip_through'])}. "
        f"Minutes down per shift: {escape(tests['exposure_minutes_per_shift'])}. "
        f"{escape(tests['adjustment'])}.</li>\n"
        "<li>The Pareto front uses point estimates; read it with the intervals beside it.</li>\n"
        "</ul>"
    )

"""What a person sees: the uncertainty band in the terminal, the ranked sensitivity table,
and the sensitivity study's report.html (indices with intervals, and the slip rate against
the most influential parameter)."""

from __future__ import annotations

from html import escape

from rich.console import Console
from rich.table import Table

from ..statistics.intervals import percent

LABELS = {
    "protected_slip_through.rate": "protected slip-through",
    "shift_incident_probability.rate": "shift incident probability",
}


BAND_COLUMNS = (
    "metric",
    "at median parameters (95% sampling interval)",
    "uncertainty band (5th-95th percentile over parameter sets)",
    "sampling noise in the band",
)


def band_title(section: dict) -> str:
    return (
        f"What we do not know: {section['samples']} parameter sets "
        f"({section['sampling']}), {section['replications_per_set']:,} replications each"
    )


def band_rows(section: dict) -> list[tuple[str, str, str, str]]:
    """Each rate's sampling interval at the median parameters next to its band."""
    rows = []
    for rate, entry in section["metrics"].items():
        at = entry["median_parameters"]
        low, high = at["ci95"]
        band = entry["band"]
        rows.append(
            (
                LABELS[rate],
                f"{_pct(at['rate'])} [{_pct(low)}, {_pct(high)}]",
                f"{_pct(band['p5'])} to {_pct(band['p95'])} (median {_pct(band['p50'])})",
                f"{entry['noise_share']:.0%} of its variance",
            )
        )
    return rows


def print_band(section: dict, out: Console) -> None:
    """Each rate's sampling interval at the median parameters next to its band."""
    table = Table(title=band_title(section), title_justify="left")
    for column in BAND_COLUMNS:
        table.add_column(column)
    for row in band_rows(section):
        table.add_row(*row)
    out.print(table)
    for p in section["parameters"]:
        median = p["median"]
        shown = f"{median:.4g}" if isinstance(median, float) else repr(median)
        out.print(f"  uncertain: {p['key']} ~ {p['distribution']} (median {shown})")


def _pct(value: float | None) -> str:
    return "-" if value is None else percent(value)


def print_sensitivity(study: dict, out: Console) -> None:
    """One ranked table per metric, most influential parameter first."""
    sobol = study["method"] != "morris"
    for rate, entry in study["metrics"].items():
        table = Table(
            title=f"Sensitivity of {LABELS[rate]} ({_method(study)})", title_justify="left"
        )
        table.add_column("rank")
        table.add_column("parameter", overflow="fold")  # a dotted key is read whole
        for column in _columns(sobol):
            table.add_column(column)
        for row in entry["indices"]:
            table.add_row(str(row["rank"]), row["parameter"], *_cells(row, sobol))
        out.print(table)
        for line in notes(entry):
            out.print(f"  {line}")


def notes(entry: dict) -> list[str]:
    """What to know before reading a metric's indices."""
    said = [entry["note"]] if entry.get("note") else []
    if entry.get("explained") is not None:
        from .chaos import DEGREE

        said.append(
            f"the fitted expansion explains {entry['explained']:.0%} of the variance between "
            f"parameter sets; the rest is sampling noise and what degree {DEGREE} cannot follow"
        )
    return said


def _method(study: dict) -> str:
    return (
        f"{study['method']}, {study['evaluations']:,} parameter sets of "
        f"{study['replications_per_set']:,} replications, 95% intervals"
    )


def _columns(sobol: bool) -> tuple[str, ...]:
    if sobol:
        return ("total index ST", "first-order S1")
    return ("mu* (mean |effect|)", "sigma (interaction)")


def _cells(row: dict, sobol: bool) -> tuple[str, ...]:
    if sobol:
        return (_pm(row["ST"], row["ST_conf"]), _pm(row["S1"], row["S1_conf"]))
    return (_pm(row["mu_star"], row["mu_star_conf"]), _num(row["sigma"]))


def _pm(value: float | None, conf: float | None) -> str:
    return "-" if value is None else f"{value:.3f} ± {conf:.3f}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def render_page(study: dict, figures: list[tuple[str, str, object]]) -> str:
    """report.html: the method, each metric's table and the charts, in one page."""
    from ..reports.charts import to_svg

    parts = [
        f"<h1>Sensitivity: {escape(study['experiment'])}</h1>",
        f"<p>{escape(_method(study))}. {escape(READING)}</p>",
    ]
    for rate, entry in study["metrics"].items():
        sobol = study["method"] != "morris"
        head = "".join(f"<th>{escape(c)}</th>" for c in ("rank", "parameter", *_columns(sobol)))
        rows = [
            "<tr>"
            + "".join(
                f"<td>{escape(c)}</td>" for c in (str(r["rank"]), r["parameter"], *_cells(r, sobol))
            )
            + "</tr>"
            for r in entry["indices"]
        ]
        parts.append(
            f"<h2>{escape(LABELS[rate])}</h2><table><tr>{head}</tr>{''.join(rows)}</table>"
            + "".join(f"<p>{escape(line)}</p>" for line in notes(entry))
        )
    for title, caption, figure in figures:
        parts.append(
            f"<h2>{escape(title)}</h2><figure>{to_svg(figure)}"
            f"<figcaption>{escape(caption)}</figcaption></figure>"
        )
    body = "\n".join(parts)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Sensitivity: {escape(study['experiment'])}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "td,th{padding:.2em .8em;text-align:left}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )


READING = (
    "The first-order index S1 is the share of the metric's variance over the uncertain "
    "parameters that would go away if this parameter alone were known exactly; the total "
    "index ST is the share it takes part in, alone or through interactions (what would "
    "remain if every other parameter were known). ST near 0: the parameter does not matter "
    "here. Intervals are 95% bootstrap intervals of the indices."
)

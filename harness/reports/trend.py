"""The gate history of `harness check --history` in report.html: each gate's value and
95% interval over the latest runs, its bound, and the runs where it failed."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..metrics import INTERVAL_METRICS
from ..verdicts.trend import SHOWN
from . import charts

FAILED, PASSED = "#cf222e", "#0969da"


@charts.styled
def trend_chart(lines: Sequence[dict]) -> Figure:
    """One panel per gate of the latest run: value with interval per run, the bound dashed."""
    labels = [g["label"] for g in lines[-1]["gates"]]
    fig = Figure(figsize=(8, 2.2 * len(labels) + 0.4), layout="constrained")
    for row, label in enumerate(labels):
        ax = fig.add_subplot(len(labels), 1, row + 1)
        _panel(ax, label, lines)
    return fig


def _panel(ax, label: str, lines: Sequence[dict]) -> None:
    points = [
        (n, g)
        for n, line in enumerate(lines, start=1)
        for g in line["gates"]
        if g["label"] == label
    ]
    metric = points[-1][1]["metric"]
    for n, gate in points:
        color = FAILED if gate["passed"] is False else PASSED
        value = gate["value"] if gate["value"] is not None else gate["observed"]
        if value is None:
            continue
        if gate["ci95"]:
            low, high = gate["ci95"]
            ax.vlines(n, low, high, color=color, linewidth=1.5)
        ax.plot([n], [value], "o", color=color, markersize=4)
    bound = points[-1][1]["bound"]
    ax.axhline(bound, color="#57606a", linestyle="--", linewidth=1)
    ax.annotate(
        "bound",
        (1, bound),
        xycoords=("axes fraction", "data"),
        ha="right",
        va="bottom",
        fontsize=8,
        color="#57606a",
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(label, loc="left", fontsize=9)
    ax.set_xlim(0.5, len(lines) + 0.5)
    ax.set_xlabel("check run (oldest to latest)")
    if metric in INTERVAL_METRICS:
        ax.yaxis.set_major_formatter(charts.AXIS_PERCENT)
        ax.set_ylim(bottom=0)


def trend_section(lines: Sequence[dict]) -> str:
    """The report's section, or nothing when there is no history."""
    if not lines:
        return ""
    shown = list(lines[-SHOWN:])
    failed = sum(1 for line in shown if line.get("passed") is False)
    caption = (
        f"The latest {charts.plural(len(shown), 'check run')} of this history file (of "
        f"{len(lines):,}), this one last; {failed:,} failed. Dots are each gate's value, bars "
        "its 95% interval, the dashed line its bound; red where the check failed."
    )
    figure = charts.to_svg(trend_chart(shown))
    return (
        f'<h2>Gate history</h2>\n<figure id="trend">\n{figure}\n'
        f"<figcaption>{escape(caption)}</figcaption>\n</figure>"
    )

"""The sensitivity study's charts, in the report's style."""

from __future__ import annotations

from matplotlib.figure import Figure

from ..reports.charts import AXIS_PERCENT, BASELINE_COLOR, styled
from .report import LABELS

RATE = "protected_slip_through.rate"


@styled
def indices_chart(result: dict, rate: str = RATE) -> Figure:
    """Horizontal bars of each parameter's indices with their 95% intervals, ranked."""
    rows = result["metrics"][rate]["indices"][::-1]
    sobol = result["method"] != "morris"
    fig = Figure(figsize=(7, 0.8 + 0.5 * len(rows)), layout="constrained")
    ax = fig.add_subplot()
    positions = range(len(rows))
    bars = [("ST", "ST_conf", "total ST"), ("S1", "S1_conf", "first-order S1")]
    if not sobol:
        bars = [("mu_star", "mu_star_conf", "mu* (mean |effect|)")]
    height = 0.8 / len(bars)
    for j, (key, conf, label) in enumerate(bars):
        ax.barh(
            [p + j * height for p in positions],
            [r[key] or 0.0 for r in rows],
            height=height,
            xerr=[r[conf] or 0.0 for r in rows],
            color=BASELINE_COLOR if j == 0 else "#8c959f",
            label=label,
            capsize=3,
        )
    ax.set_yticks([p + height * (len(bars) - 1) / 2 for p in positions])
    ax.set_yticklabels([r["parameter"] for r in rows])
    ax.set_xlabel(f"index for {LABELS[rate]} (bars: 95% interval)")
    ax.legend(frameon=False, loc="lower right")
    return fig


@styled
def against_top_chart(result: dict, rate: str = RATE) -> Figure:
    """The rate in every parameter set against the most influential parameter."""
    top = result["metrics"][rate]["indices"][0]["parameter"]
    column = [p["key"] for p in result["parameters"]].index(top)
    options = result["parameters"][column].get("options")
    xs = [s["values"][column] for s in result["sets"]]
    ys = [s["rates"][rate] for s in result["sets"]]
    fig = Figure(figsize=(7, 3.5), layout="constrained")
    ax = fig.add_subplot()
    if options is None:
        ax.scatter(xs, ys, s=6, alpha=0.5, color=BASELINE_COLOR)
    else:  # a choice: its options in the file's order
        ax.scatter([options.index(x) for x in xs], ys, s=6, alpha=0.5, color=BASELINE_COLOR)
        ax.set_xticks(range(len(options)), [str(o) for o in options])
    ax.set_xlabel(top)
    ax.set_ylabel(LABELS[rate])
    ax.yaxis.set_major_formatter(AXIS_PERCENT)
    return fig


def figures(result: dict) -> list[tuple[str, str, Figure]]:
    """(title, caption, figure) for report.html."""
    if result["metrics"][RATE]["note"]:
        return []
    top = result["metrics"][RATE]["indices"][0]["parameter"]
    return [
        (
            "Which unknown matters",
            "Sensitivity indices of the protected slip-through rate, most influential "
            "parameter at the top, with 95% bootstrap intervals.",
            indices_chart(result),
        ),
        (
            f"Slip-through against {top}",
            "Each dot is one parameter set (its replications pooled).",
            against_top_chart(result),
        ),
    ]

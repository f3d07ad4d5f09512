"""The report's charts, drawn with matplotlib's object API (no pyplot, no GUI backend) and
written as SVG text to inline in the page, or as PNG for slides.

Every chart draws what the comparison table says: the same rates, intervals and verdicts,
read from `comparison.json`'s entries, and the same outages, read from the run folders.
"""

from __future__ import annotations

import functools
import io
import random
import textwrap
from collections.abc import Callable, Sequence

import matplotlib
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from ..comparison import verdict_key
from ..run_folder import RunData
from ..stats import format_rate, percent

BASELINE_COLOR = "#0969da"
VERDICT_COLORS = {
    "significantly lower": "#1a7f37",
    "significantly higher": "#cf222e",
    "no detectable difference": "#6e7781",
}
FAULT_COLORS = ("#d4a72c", "#a475f9", "#fa7a18", "#4ac26b")
LABEL_OFFSETS = (3, -11, 12, -20, 21, -29)  # points above the marker a label may sit at
POINTS_SHOWN = 300  # per configuration in the exposure strip; the box covers every outage
STYLE = {
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",  # text stays text: selectable, searchable, small
    "svg.hashsalt": "safeguard-harness",  # stable element ids: the same report, byte for byte
}


AXIS_PERCENT = FuncFormatter(lambda x, _: f"{100 * x:g}%")


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def styled(chart: Callable[..., Figure]) -> Callable[..., Figure]:
    """Build the chart under the report's style (fonts and spines are read at creation)."""

    @functools.wraps(chart)
    def build(*args, **kwargs) -> Figure:
        with matplotlib.rc_context(STYLE):
            return chart(*args, **kwargs)

    return build


def label(index: int, name: str, width: int = 44) -> str:
    """'#3 protected_list.mode=off,' over several lines: one matrix key per line."""
    parts = [p.strip() for p in name.split(", ")]
    lines = [line for part in parts for line in textwrap.wrap(part, width) or [""]]
    lines[0] = f"#{index + 1} {lines[0]}"
    return "\n".join(lines)


def verdict_color(entry: dict, test: str) -> str:
    key = verdict_key(entry, test)
    if key == "baseline":
        return BASELINE_COLOR
    return VERDICT_COLORS.get(key, VERDICT_COLORS["no detectable difference"])


def _rows(entries: Sequence[dict]) -> tuple[list[str], list[float], float]:
    """Tick labels, their y positions (first configuration on top) and the figure height."""
    labels = [label(i, e["name"]) for i, e in enumerate(entries)]
    heights = [0.22 * label.count("\n") + 0.42 for label in labels]
    ys, y = [], 0.0
    for h in reversed(heights):
        ys.append(y + h / 2)
        y += h
    return labels, list(reversed(ys)), y


def _slip_scale(entries: Sequence[dict]) -> str:
    """Log when the rates span more than a factor of 30, so small rates stay visible."""
    highs = [e["protected_slip_through"]["ci95"][1] for e in entries]
    lows = [
        e["protected_slip_through"]["ci95"][0] or e["protected_slip_through"]["ci95"][1]
        for e in entries
        if e["protected_slip_through"]["rate"] is not None
    ]
    lows = [x for x in lows if x > 0]
    return "log" if lows and max(highs) / min(lows) > 30 else "linear"


@styled
def slip_chart(entries: Sequence[dict]) -> Figure:
    """Slip-through per configuration: the rate and its 95% interval; with no slips, the
    interval's upper bound with an arrow toward zero (the rate is bounded, not zero)."""
    labels, ys, height = _rows(entries)
    fig = Figure(figsize=(9.5, height + 1.1), layout="constrained")
    ax = fig.add_subplot()
    scale = _slip_scale(entries)
    ax.set_xscale(scale)
    highs = [e["protected_slip_through"]["ci95"][1] for e in entries]
    positive = [
        x
        for e in entries
        for x in (e["protected_slip_through"]["ci95"][0], e["protected_slip_through"]["rate"])
        if x
    ] + highs
    left = min(positive) / 3 if scale == "log" and positive else 0.0
    right = max(highs) * (3 if scale == "log" else 1.35) if highs else 1.0
    ax.set_xlim(left, right)
    base = next((e for e in entries if e["baseline"]), None)
    if base is not None and base["protected_slip_through"]["rate"]:
        ax.axvline(base["protected_slip_through"]["rate"], color=BASELINE_COLOR, lw=0.8, ls=":")
    for entry, y in zip(entries, ys, strict=True):
        slip = entry["protected_slip_through"]
        color = verdict_color(entry, "protected_slip_through")
        low, high = slip["ci95"]
        if slip["rate"] is None:
            ax.text(left, y, "  no protected trials", va="center", color="#57606a")
        elif slip["zero_events"]:
            ax.annotate(
                "",
                xy=(left, y),
                xytext=(high, y),
                arrowprops={"arrowstyle": "->", "color": color, "lw": 1.4, "ls": "--"},
            )
            ax.plot([high], [y], marker="|", markersize=14, color=color, mew=2)
            text = f"  < {percent(high)} (0 of {slip['trials']:,}: upper bound)"
            ax.text(high, y, text, va="center", color=color)
        else:
            ax.plot([low, high], [y, y], color=color, lw=2.2, solid_capstyle="butt")
            ax.plot([slip["rate"]], [y], marker="o", color=color, markersize=6)
            ax.text(high, y, "  " + format_rate(slip, slip["trials"]), va="center", color=color)
    ax.set_yticks(ys, labels)
    ax.set_ylim(0, height)
    ax.xaxis.set_major_formatter(AXIS_PERCENT)
    ax.set_xlabel(
        "protected slip-through: share of protected trials that ended with the "
        "account down (95% interval)"
    )
    _verdict_legend(ax, entries, "protected_slip_through")
    return fig


def _verdict_legend(ax, entries: Sequence[dict], test: str) -> None:
    shown = {}
    for entry in entries:
        key = verdict_key(entry, test)
        shown[key] = verdict_color(entry, test)
    handles = [
        Line2D([], [], color=color, marker="o", lw=2, label=text) for text, color in shown.items()
    ]
    if handles:
        ax.legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncols=len(handles),
            frameon=False,
            title="against the baseline (Holm-adjusted, 5%)",
        )


@styled
def exposure_chart(entries: Sequence[dict], runs: Sequence[RunData]) -> Figure:
    """Minutes each outage of a protected account lasted, per configuration: a box over
    every outage and up to POINTS_SHOWN of them as points."""
    labels, ys, height = _rows(entries)
    fig = Figure(figsize=(9.5, height + 1.1), layout="constrained")
    ax = fig.add_subplot()
    longest = max((o.minutes for run in runs for o in run.outages), default=1.0) or 1.0
    for index, (entry, run, y) in enumerate(zip(entries, runs, ys, strict=True)):
        minutes = [o.minutes for o in run.outages]
        color = verdict_color(entry, "exposure_minutes_per_shift")
        shifts = entry["replications"]["completed"] or 1
        if not minutes:
            ax.text(0, y, "  no protected account went down", va="center", color=color)
            continue
        ax.boxplot(
            [minutes],
            positions=[y],
            orientation="horizontal",
            widths=0.28,
            showfliers=False,
            medianprops={"color": color, "lw": 2},
            boxprops={"color": color},
            whiskerprops={"color": color},
            capprops={"color": color},
        )
        rng = random.Random(index)
        shown = rng.sample(minutes, POINTS_SHOWN) if len(minutes) > POINTS_SHOWN else minutes
        ax.scatter(
            shown,
            [y + rng.uniform(-0.16, 0.16) for _ in shown],
            s=6,
            color=color,
            alpha=0.35,
            lw=0,
        )
        ax.text(
            longest * 1.04,
            y,
            f"{plural(len(minutes), 'outage')} ({len(minutes) / shifts:.2g} per shift)",
            va="center",
            color=color,
        )
    ax.set_xlim(0, longest * 1.6)
    ax.set_yticks(ys, labels)
    ax.set_ylim(0, height)
    ax.set_xlabel("minutes a protected account stayed down, per outage")
    _verdict_legend(ax, entries, "exposure_minutes_per_shift")
    return fig


@styled
def tradeoff_chart(entries: Sequence[dict], costs: Sequence[tuple[str, str]]) -> Figure:
    """Slip-through against each cost, one panel per cost; the Pareto front (no other
    configuration is both safer and cheaper) is filled and joined by a line."""
    fig = Figure(figsize=(9.5, 4.2), layout="constrained")
    axes = fig.subplots(1, len(costs), sharey=True, squeeze=False)[0]
    scale = _slip_scale(entries)
    for ax, (cost, title) in zip(axes, costs, strict=True):
        front, points, labels = [], [], []
        crowded = len({e[cost] for e in entries}) == 1  # label only the front
        for index, entry in enumerate(entries):
            slip = entry["protected_slip_through"]
            x = entry[cost]
            if slip["rate"] is None or x is None:
                continue
            on = entry["pareto"][cost]
            color = verdict_color(entry, "protected_slip_through")
            low, high = slip["ci95"]
            y = high if slip["zero_events"] else slip["rate"]
            layer = 3 if on else 2  # the front above the rest
            if slip["zero_events"]:  # a bar at the upper bound, an arrow toward zero
                ax.plot([x, x], [y, y / 6], color=color, ls="--", lw=1.4, zorder=layer)
                ax.plot([x], [y], marker="_", color=color, markersize=14, mew=2, zorder=layer)
                ax.plot(
                    [x],
                    [y / 6],
                    marker="v",
                    color=color,
                    markersize=8,
                    zorder=layer,
                    mfc=color if on else "white",
                )
            else:
                ax.errorbar(
                    [x],
                    [y],
                    yerr=[[y - low], [high - y]],
                    fmt="o",
                    color=color,
                    mfc=color if on else "white",
                    markersize=8,
                    capsize=3,
                    zorder=layer,
                )
            points.append((x, y))
            if on or not crowded:
                labels.append((x, y, f"#{index + 1}", color, on))
            if on:
                front.append((x, y))
        if front:
            front.sort()
            ax.step(
                [p[0] for p in front],
                [p[1] for p in front],
                where="post",
                color="#24292f",
                lw=1,
                ls="--",
                zorder=0,
                label="Pareto front",
            )
            ax.legend(loc="upper right", frameon=False)
        ax.set_yscale(scale)
        ax.set_xlabel(title)
        ax.margins(y=0.15)
        _honest_range(ax, [e[cost] for e in entries if e[cost] is not None])
        ax.yaxis.set_major_formatter(AXIS_PERCENT)
        _place_labels(fig, ax, points, labels)
    axes[0].set_ylabel(
        "protected slip-through (95% interval;\ndashed arrow: no slips, upper bound)"
    )
    return fig


Box = tuple[float, float, float, float]  # left, bottom, right, top, in points


def _place_labels(
    fig: Figure,
    ax,
    points: Sequence[tuple[float, float]],
    labels: Sequence[tuple[float, float, str, str, bool]],
) -> None:
    """Put each configuration's "#n" next to its marker where it covers no other marker or
    label (the first free spot of a few, right of the marker first), so that
    configurations with nearly the same protection and cost stay readable; a label set
    further off gets a thin leader line."""
    ax.get_ylim()  # settle autoscaling before reading positions
    scale = 72 / fig.dpi  # display pixels to points
    marker = 5.0  # half a marker's size, in points
    taken: list[Box] = []
    for point in points:
        cx, cy = ax.transData.transform(point) * scale
        taken.append((cx - marker, cy - marker, cx + marker, cy + marker))
    for x, y, text, color, on in labels:
        cx, cy = ax.transData.transform((x, y)) * scale
        width = 6.0 * len(text)
        boxes = {
            (dx, dy): (cx + dx, cy + dy - 2, cx + dx + width, cy + dy + 7)
            for dx in (7, -7 - width)
            for dy in LABEL_OFFSETS
        }
        spot = next((s for s, box in boxes.items() if not _covered(box, taken)), None)
        spot = spot or min(boxes, key=lambda s: _covered(boxes[s], taken))
        taken.append(boxes[spot])
        ax.annotate(
            text,
            (x, y),
            xytext=spot,
            textcoords="offset points",
            color=color,
            fontweight="bold" if on else "normal",
            arrowprops=dict(arrowstyle="-", color=color, lw=0.6) if abs(spot[1]) > 12 else None,
        )


def _covered(box: Box, taken: Sequence[Box]) -> float:
    """How much of `box` the boxes already taken cover (square points; 0 when free)."""
    return sum(
        max(0.0, min(box[2], t[2]) - max(box[0], t[0]))
        * max(0.0, min(box[3], t[3]) - max(box[1], t[1]))
        for t in taken
    )


def _honest_range(ax, values: Sequence[float]) -> None:
    """An x range at least a quarter of the largest value wide, so that a 2% difference
    in cost looks like 2%, not like the whole axis; and a note when nothing differs."""
    if not values:
        return
    low, high = min(values), max(values)
    span = max(high - low, 0.25 * abs(high)) or 1.0
    middle = (low + high) / 2
    ax.set_xlim(middle - 0.6 * span, middle + 0.6 * span)
    if low == high:
        ax.text(
            0.5,
            0.02,
            f"every configuration: {high:g}",
            transform=ax.transAxes,
            ha="center",
            color="#57606a",
        )


@styled
def timeline_chart(entries: Sequence[dict], runs: Sequence[RunData], shift: float) -> Figure:
    """Over the shift: when protected accounts went down (outage starts over all
    replications, in bins) and when each configuration's faults were active."""
    labels, ys, height = _rows(entries)
    fig = Figure(figsize=(9.5, height + 1.3), layout="constrained")
    ax = fig.add_subplot()
    hours = shift / 3600.0
    bins = 48
    width = hours / bins
    counts = []
    for run in runs:
        row = [0] * bins
        for o in run.outages:
            row[min(bins - 1, int(o.start / 3600.0 / width))] += 1
        counts.append(row)
    peak = max((max(row) for row in counts), default=0) or 1
    kinds: dict[str, str] = {}
    for entry, row, y, run in zip(entries, counts, ys, runs, strict=True):
        band = 0.36
        for fault in entry["faults"]:
            color = kinds.setdefault(fault["kind"], FAULT_COLORS[len(kinds) % len(FAULT_COLORS)])
            ax.fill_between(
                [fault["start"] / 3600.0, fault["end"] / 3600.0],
                y - band,
                y + band,
                color=color,
                alpha=0.35,
                lw=0,
            )
        ax.bar(
            [width * (i + 0.5) for i in range(bins)],
            [2 * band * c / peak for c in row],
            width=width * 0.9,
            bottom=y - band,
            color=verdict_color(entry, "exposure_minutes_per_shift"),
        )
        ax.text(hours * 1.01, y, plural(len(run.outages), "outage"), va="center", fontsize=8)
    handles = [
        Patch(color=color, alpha=0.35, label=f"fault: {kind}") for kind, color in kinds.items()
    ]
    ax.legend(
        handles=handles or [Patch(color="white", label="no faults injected")],
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=max(1, len(handles)),
        frameon=False,
    )
    ax.set_xlim(0, hours * 1.14)
    ax.set_xticks([h for h in range(int(hours) + 1)])
    ax.set_yticks(ys, labels)
    ax.set_ylim(0, height)
    ax.set_xlabel(
        f"hours into the shift (bars: outages that began in each {width * 60:.0f}-minute "
        f"bin, all replications; tallest = {peak:,})"
    )
    return fig


def to_svg(fig: Figure) -> str:
    """The figure as an inline <svg> element (no XML prolog, no creation date)."""
    buffer = io.StringIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def to_png(fig: Figure, path: str) -> None:
    with matplotlib.rc_context(STYLE):
        fig.savefig(path, format="png", dpi=110)

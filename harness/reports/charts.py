"""The report's charts, drawn with matplotlib's object API (no pyplot, no GUI backend) and
written as SVG text to inline in the page, or as PNG for slides.

Every chart draws what the comparison table says: the same rates, intervals and verdicts,
read from `comparison.json`'s entries, and the same outages, read from the run folders.
"""

from __future__ import annotations

import functools
import io
import random
import statistics
import textwrap
from collections.abc import Callable, Sequence
from typing import NamedTuple

import matplotlib
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from ..run_folder import RunData
from ..statistics.intervals import format_rate, percent
from ..verdicts.between_configurations import verdict_key

BASELINE_COLOR = "#0969da"
VERDICT_COLORS = {
    "significantly lower": "#1a7f37",
    "significantly higher": "#cf222e",
    "no detectable difference": "#6e7781",
}
FAULT_COLORS = ("#d4a72c", "#a475f9", "#fa7a18", "#4ac26b")
LABEL_OFFSETS = (3, -11, 12, -20, 21, -29)  # points above the marker a label may sit at
POINTS_SHOWN = 300  # restored outages drawn per configuration; the box and count cover all
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


def tag(index: int, what: str, *drawn) -> None:
    """Name what configuration `index` drew ('_#3 outages'), so that the figure says whose
    marks are where; labels that begin with '_' stay out of legends and of the SVG."""
    for item in drawn:
        if isinstance(item, list | tuple):  # containers (bars, error bars) are tuples
            tag(index, what, *(x for x in item if x is not None))
        elif item is not None:
            item.set_label(f"_#{index + 1} {what}")


def verdict_color(entry: dict, test: str) -> str:
    key = verdict_key(entry, test)
    if key == "baseline":
        return BASELINE_COLOR
    return VERDICT_COLORS.get(key, VERDICT_COLORS["no detectable difference"])


class Rows(NamedTuple):
    """One row per configuration, first on top, in inches (the figure's height is `total`
    plus its margins). A row's marks stay within `HALF_ROW` of its height from its centre,
    so neighbouring rows never touch."""

    labels: list[str]
    centres: list[float]
    heights: list[float]
    total: float


HALF_ROW = 0.4  # of a row's height: the most a mark may reach from the row's centre


def _rows(entries: Sequence[dict], minimum: float = 0.42) -> Rows:
    """Rows tall enough for each configuration's label, and at least `minimum` inches."""
    labels = [label(i, e["name"]) for i, e in enumerate(entries)]
    heights = [max(minimum, 0.22 * label.count("\n") + 0.42) for label in labels]
    centres, y = [], 0.0
    for h in reversed(heights):
        centres.append(y + h / 2)
        y += h
    return Rows(labels, list(reversed(centres)), heights, y)


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
    labels, ys, _, height = _rows(entries)
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
    for i, (entry, y) in enumerate(zip(entries, ys, strict=True)):
        slip = entry["protected_slip_through"]
        color = verdict_color(entry, "protected_slip_through")
        low, high = slip["ci95"]
        if slip["rate"] is None:
            tag(i, "note", ax.text(left, y, "  no protected trials", va="center", color="#57606a"))
        elif slip["zero_events"]:
            arrow = ax.annotate(
                "",
                xy=(left, y),
                xytext=(high, y),
                arrowprops={"arrowstyle": "->", "color": color, "lw": 1.4, "ls": "--"},
            )
            bar = ax.plot([high], [y], marker="|", markersize=14, color=color, mew=2)
            text = f"  < {percent(high)} (0 of {slip['trials']:,}: upper bound)"
            tag(i, "bound", arrow, bar, ax.text(high, y, text, va="center", color=color))
        else:
            line = ax.plot([low, high], [y, y], color=color, lw=2.2, solid_capstyle="butt")
            dot = ax.plot([slip["rate"]], [y], marker="o", color=color, markersize=6)
            text = ax.text(
                high, y, "  " + format_rate(slip, slip["trials"]), va="center", color=color
            )
            tag(i, "rate", line, dot, text)
    ax.set_yticks(ys, labels)
    ax.set_ylim(0, height)
    ax.xaxis.set_major_formatter(AXIS_PERCENT)
    ax.set_xlabel(
        "protected slip-through: share of protected trials that ended with the "
        "account down (95% interval)"
    )
    _verdict_legend(ax, entries, "protected_slip_through")
    return fig


def _verdict_legend(ax, entries: Sequence[dict], test: str, more: Sequence = ()) -> None:
    """The verdict colours (and `more` handles after them) above the chart, centred on the
    figure so that long configuration names on the left do not push it off the edge."""
    shown = {}
    for entry in entries:
        key = verdict_key(entry, test)
        shown[key] = verdict_color(entry, test)
    handles = [
        Line2D([], [], color=color, marker="o", lw=2, label=text) for text, color in shown.items()
    ] + list(more)
    if handles:
        ax.figure.legend(
            handles=handles,
            loc="outside upper center",
            ncols=min(len(handles), 3),
            frameon=False,
            title="against the baseline (Holm-adjusted, 5%)",
        )


def _restored(run: RunData) -> list[float]:
    return [o.minutes for o in run.outages if o.restored]


def has_box(run: RunData) -> bool:
    """Whether the restored outages have a middle half to draw: a fixed restore delay gives
    every restored outage the same length, and then there is no box, only its line."""
    restored = _restored(run)
    if len(restored) < 2:
        return False
    low, _, high = statistics.quantiles(restored, n=4, method="inclusive")  # as the box's
    return high > low


CUT_MARKER = {"marker": "<", "s": 22, "facecolors": "none", "lw": 0.9}
"""An outage still open when the shift ended: its minutes stop there, it did not end."""


@styled
def exposure_chart(entries: Sequence[dict], runs: Sequence[RunData]) -> Figure:
    """Minutes each outage of a protected account lasted, per configuration: the restored
    outages as points with their median (and a box over the middle half where their lengths
    differ), and the outages still open when the shift ended marked apart, since the
    shift's end, not a restore, stopped their clock."""
    rows = _rows(entries)
    fig = Figure(figsize=(9.5, rows.total + 1.1), layout="constrained")
    ax = fig.add_subplot()
    longest = max((o.minutes for run in runs for o in run.outages), default=1.0) or 1.0
    for index, (entry, run) in enumerate(zip(entries, runs, strict=True)):
        y, reach = rows.centres[index], HALF_ROW * rows.heights[index]
        color = verdict_color(entry, "exposure_minutes_per_shift")
        if not run.outages:
            text = ax.text(0, y, "  no protected account went down", va="center", color=color)
            tag(index, "note", text)
            continue
        _outages(ax, index, run, y, reach, color)
        shifts = entry["replications"]["completed"] or 1
        cut = sum(not o.restored for o in run.outages)
        count = f"{plural(len(run.outages), 'outage')} ({len(run.outages) / shifts:.2g} per shift)"
        count += f",\n{cut:,} still down at the end" if cut else ""
        text = ax.text(longest * 1.04, y, count, va="center", color=color, fontsize=8)
        tag(index, "count", text)
    ax.set_xlim(0, longest * 1.6)
    ax.set_yticks(rows.centres, rows.labels)
    ax.set_ylim(0, rows.total)
    ax.set_xlabel("minutes a protected account stayed down, per outage")
    _verdict_legend(ax, entries, "exposure_minutes_per_shift", _outage_handles(runs))
    return fig


def _outages(ax, index: int, run: RunData, y: float, reach: float, color: str) -> None:
    """One configuration's row: box or median line, restored outages as points (up to
    POINTS_SHOWN), and every outage the shift's end cut off."""
    restored = _restored(run)
    rng = random.Random(index)
    if has_box(run):
        box = ax.boxplot(
            [restored],
            positions=[y],
            orientation="horizontal",
            widths=reach,
            showfliers=False,
            medianprops={"color": color, "lw": 2},
            boxprops={"color": color},
            whiskerprops={"color": color},
            capprops={"color": color},
        )
        tag(index, "box", *box.values())
    elif restored:
        middle = statistics.median(restored)
        tag(index, "median", ax.plot([middle] * 2, [y - reach / 2, y + reach / 2], color=color))
    shown = rng.sample(restored, POINTS_SHOWN) if len(restored) > POINTS_SHOWN else restored
    jitter = [y + rng.uniform(-reach, reach) * 0.8 for _ in shown]
    dots = ax.scatter(shown, jitter, s=6, color=color, alpha=0.35, lw=0)
    tag(index, "restored", dots)
    cut = [o.minutes for o in run.outages if not o.restored]
    if cut:
        jitter = [y + rng.uniform(-reach, reach) * 0.6 for _ in cut]
        tag(index, "still down", ax.scatter(cut, jitter, edgecolors=color, **CUT_MARKER))


def _outage_handles(runs: Sequence[RunData]) -> list[Line2D]:
    """What the two kinds of point mean; a fixed restore delay is said once, here."""
    lengths = {m for run in runs for m in _restored(run)}
    restored = "restored"
    if len(lengths) == 1:
        restored += f" (every restore took {lengths.pop():g} min)"
    handles = [Line2D([], [], color="#57606a", marker="o", ls="", ms=4, label=restored)]
    if any(not o.restored for run in runs for o in run.outages):
        handles.append(
            Line2D(
                [],
                [],
                color="#57606a",
                marker="<",
                mfc="none",
                ls="",
                ms=5,
                label="still down when the shift ended (cut short)",
            )
        )
    return handles


@styled
def tradeoff_chart(entries: Sequence[dict], costs: Sequence[tuple[str, str]]) -> Figure:
    """Slip-through against each cost, one panel per cost; the Pareto front (no other
    configuration is both safer and cheaper) is filled and joined by a line. A cost that is
    the same in every configuration is said in a sentence instead of drawn on an axis
    with one value."""
    spread = [{e[cost] for e in entries if e[cost] is not None} for cost, _ in costs]
    ratios = [1.0 if len(values) > 1 else 0.5 for values in spread]
    fig = Figure(figsize=(9.5, 4.2 if max(ratios) == 1.0 else 1.0), layout="constrained")
    axes = fig.subplots(1, len(costs), sharey=True, squeeze=False, width_ratios=ratios)[0]
    scale = _slip_scale(entries)
    drawn = []
    for ax, (cost, title), values in zip(axes, costs, spread, strict=True):
        if len(values) > 1:
            _tradeoff_panel(fig, ax, entries, cost, title, scale)
            drawn.append(ax)
        else:
            _no_spread(ax, title, values)
    if drawn:
        drawn[0].yaxis.set_tick_params(labelleft=True)  # a panel to its left may be a sentence
        drawn[0].set_ylabel(
            "protected slip-through (95% interval;\ndashed arrow: no slips, upper bound)"
        )
    return fig


def _tradeoff_panel(
    fig: Figure, ax, entries: Sequence[dict], cost: str, title: str, scale: str
) -> None:
    """One cost's panel: each configuration's slip-through at its cost, the front, and a
    label per point naming every configuration drawn there."""
    front, at = [], {}
    for index, entry in enumerate(entries):
        if entry["protected_slip_through"]["rate"] is None or entry[cost] is None:
            continue
        on = entry["pareto"][cost]
        point = _tradeoff_point(ax, index, entry, entry[cost], on)
        at.setdefault(point, []).append((index, verdict_color(entry, "protected_slip_through"), on))
        if on:
            front.append(point)
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
    labels = [
        (x, y, ", ".join(f"#{i + 1}" for i, _, _ in group), group[0][1], any(o for *_, o in group))
        for (x, y), group in at.items()
    ]
    _place_labels(fig, ax, list(at), labels)


def _tradeoff_point(ax, index: int, entry: dict, x: float, on: bool) -> tuple[float, float]:
    """One configuration's mark: its rate with the interval, or with no slips a bar at the
    upper bound and an arrow toward zero. Returns where its label belongs."""
    slip = entry["protected_slip_through"]
    color = verdict_color(entry, "protected_slip_through")
    low, high = slip["ci95"]
    y = high if slip["zero_events"] else slip["rate"]
    layer = 3 if on else 2  # the front above the rest
    fill = color if on else "white"
    if slip["zero_events"]:
        drawn = [
            ax.plot([x, x], [y, y / 6], color=color, ls="--", lw=1.4, zorder=layer),
            ax.plot([x], [y], marker="_", color=color, markersize=14, mew=2, zorder=layer),
            ax.plot([x], [y / 6], marker="v", color=color, markersize=8, zorder=layer, mfc=fill),
        ]
        tag(index, "bound", *drawn)
    else:
        bars = ax.errorbar(
            [x],
            [y],
            yerr=[[y - low], [high - y]],
            fmt="o",
            color=color,
            mfc=fill,
            markersize=8,
            capsize=3,
            zorder=layer,
        )
        tag(index, "rate", bars)
    return x, y


def _no_spread(ax, title: str, values: set[float]) -> None:
    """A sentence in place of an axis along which every configuration sits at one value."""
    ax.set_axis_off()
    said = (
        f"{title}: {next(iter(values)):.3g} in every configuration, so this cost does not "
        "tell them apart; the slip-through chart shows their protection alone."
        if values
        else f"{title}: not measured in any configuration."
    )
    ax.text(
        0.5,
        0.5,
        textwrap.fill(said, 48),
        transform=ax.transAxes,
        ha="center",
        va="center",
        color="#57606a",
    )


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
    in cost looks like 2%, not like the whole axis; with room for a mark at zero but no
    negative tick for a cost that cannot be negative."""
    low, high = min(values), max(values)
    span = max(high - low, 0.25 * abs(high))
    middle = (low + high) / 2
    left = middle - 0.6 * span
    if low >= 0:
        left = max(left, -0.05 * span)
    ax.set_xlim(left, middle + 0.6 * span)


TIMELINE_BINS = 48
SMALLEST_BAR = 0.1  # of a row's bar height: a bin with one outage shows beside a tall one


def _binned(run: RunData, width: float) -> list[int]:
    """Outage starts per bin of `width` hours."""
    counts = [0] * TIMELINE_BINS
    for o in run.outages:
        counts[min(TIMELINE_BINS - 1, int(o.start / 3600.0 / width))] += 1
    return counts


@styled
def timeline_chart(entries: Sequence[dict], runs: Sequence[RunData], shift: float) -> Figure:
    """Over the shift: when protected accounts went down (outage starts over all
    replications, in bins, one scale for every row) and when each configuration's faults
    were active."""
    rows = _rows(entries, minimum=0.55)
    fig = Figure(figsize=(9.5, rows.total + 1.3), layout="constrained")
    ax = fig.add_subplot()
    hours = shift / 3600.0
    width = hours / TIMELINE_BINS
    counts = [_binned(run, width) for run in runs]
    peak = max((max(row) for row in counts), default=0) or 1
    kinds: dict[str, str] = {}
    for index, (entry, row, run) in enumerate(zip(entries, counts, runs, strict=True)):
        y, reach = rows.centres[index], HALF_ROW * rows.heights[index]
        for fault in entry["faults"]:
            color = kinds.setdefault(fault["kind"], FAULT_COLORS[len(kinds) % len(FAULT_COLORS)])
            span = [fault["start"] / 3600.0, fault["end"] / 3600.0]
            shade = ax.fill_between(span, y - reach, y + reach, color=color, alpha=0.35, lw=0)
            tag(index, "fault", shade)
        filled = [b for b, count in enumerate(row) if count]
        bars = ax.bar(
            [width * (b + 0.5) for b in filled],
            [2 * reach * max(row[b] / peak, SMALLEST_BAR) for b in filled],
            width=width * 0.9,
            bottom=y - reach,
            color=verdict_color(entry, "exposure_minutes_per_shift"),
        )
        tag(index, "outages", bars)
        count = plural(len(run.outages), "outage")
        tag(index, "count", ax.text(hours * 1.01, y, count, va="center", fontsize=8))
    _fault_legend(ax, kinds)
    ax.set_xlim(0, hours * 1.14)
    ax.set_xticks([h for h in range(int(hours) + 1)])
    ax.set_yticks(rows.centres, rows.labels)
    ax.set_ylim(0, rows.total)
    ax.set_xlabel(
        f"hours into the shift (bars: outages that began in each {width * 60:.0f}-minute "
        f"bin, all replications; tallest = {peak:,})"
    )
    return fig


def _fault_legend(ax, kinds: dict[str, str]) -> None:
    handles = [
        Patch(color=color, alpha=0.35, label=f"fault: {kind}") for kind, color in kinds.items()
    ]
    ax.figure.legend(
        handles=handles or [Patch(color="white", label="no faults injected")],
        loc="outside upper center",
        ncols=max(1, len(handles)),
        frameon=False,
    )


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

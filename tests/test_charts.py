"""The report's charts, measured on the drawn figure: every configuration's marks inside
the axes and in its own row, every outage visible, no two labels on top of each other, and
a sentence where an axis would have nothing to show; and comparison.csv's bounds."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

import pytest
from conftest import small
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from harness.pipeline.run import run_sim
from harness.reports import charts
from harness.reports.page import TRADEOFF_TITLES, figures, shift_of
from harness.run_folder import RunData, RunFolder, read_run
from harness.verdicts.between_configurations import CSV_COLUMNS, compare, csv_rows

TOLERANCE = 1.0  # pixels: antialiasing and rounding at the axes' edge


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, RunData]:
    """Random approvers on a queue heavy with protected reports (many outages, a fixed
    11-minute restore, some still open when the shift ends), with and without the two-person
    rule; the protected list is down for half an hour."""
    folder = tmp_path_factory.mktemp("charts")
    found = {}
    for name, two_person in (("none", False), ("two-person", True)):
        experiment = small(
            experiment__replications=30,
            population__protected_report_share=0.3,
            operators=[{"persona": "random_approver", "approve_probability": 0.3, "count": 6}],
            faults=[{"kind": "protected_list_outage", "at": "1h", "duration": "30m"}],
            safeguards__two_person_rule__enabled=two_person,
        )
        run_sim(experiment, RunFolder(folder / name), jobs=1, configuration=name)
        found[name] = read_run(folder / name)
    return found


def scenario(runs: dict[str, RunData], case: str) -> tuple[list[dict], list[RunData]]:
    """Configurations whose names fit on one line: two that differ; two identical; and
    nine, six of them with long names and the last with only a few outages."""
    none, guarded = runs["none"], runs["two-person"]
    if case == "two":
        chosen = [none, guarded]
    elif case == "identical":
        chosen = [none, replace(none, name="none again")]
    else:  # with names as long as a matrix gives, so rows differ in height
        few = replace(none, name="few", outages=none.outages[:: len(none.outages) // 9][:9])
        long = "protected_list.mode=off, two_person_rule.enabled=false, leaver_lockout.days={}"
        copies = [replace(none, name=long.format(i)) for i in range(6)]
        chosen = [none, guarded, *copies, few]
    return compare(chosen, 0)["configurations"], chosen


CASES = ("two", "identical", "nine")


def rendered(fig: Figure):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def marks(ax) -> dict[int, list[tuple[str, object]]]:
    """What each configuration drew, by its number: (what, artist), from the '_#n what'
    labels the charts give their artists."""
    found = defaultdict(list)
    for artist in ax.get_children():
        tag = re.fullmatch(r"_#(\d+) (.+)", str(artist.get_label()))
        if tag:
            found[int(tag[1])].append((tag[2], artist))
    return found


def extents(artists: list[tuple[str, object]], renderer) -> list[tuple[str, Bbox]]:
    """Where each drawn artist lands on the canvas (those with no extent of their own,
    such as an error bar's line collection, are covered by their caps)."""
    boxes = [(what, artist.get_window_extent(renderer)) for what, artist in artists]
    return [(what, box) for what, box in boxes if all(map(math.isfinite, box.bounds))]


def sentence(ax) -> str:
    return " ".join(" ".join(t.get_text() for t in ax.texts).split())


def within(box: Bbox, inside: Bbox) -> bool:
    return bool(inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1))


def assert_rows(fig: Figure, entries: list[dict]) -> None:
    """Each configuration's marks inside the axes, between the rows above and below it
    (#1 on top) and level with its own name only."""
    renderer = rendered(fig)
    ax = fig.axes[0]
    inside = ax.get_window_extent(renderer).padded(TOLERANCE)
    drawn = marks(ax)
    assert sorted(drawn) == list(range(1, len(entries) + 1))
    rows = {}
    for number, artists in drawn.items():
        boxes = extents(artists, renderer)
        for what, box in boxes:
            assert within(box, inside), f"#{number} {what} outside the axes"
        rows[number] = Bbox.union([b for _, b in boxes])
    names = {
        int(t.get_text().split()[0][1:]): t.get_window_extent(renderer)
        for t in ax.get_yticklabels()
    }
    for number, row in rows.items():
        below = rows.get(number + 1)
        if below is not None:
            assert row.y0 >= below.y1 - TOLERANCE, f"#{number} and #{number + 1} overlap"
        for other, name in names.items():
            level = min(row.y1, name.y1) - max(row.y0, name.y0) > TOLERANCE
            assert level == (other == number), f"#{number}'s marks level with #{other}'s name"


def assert_apart(texts: list[Text], renderer) -> None:
    boxes = [(t.get_text(), Text.get_window_extent(t, renderer)) for t in texts]
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1 :]:
            assert not box_a.overlaps(box_b), f"labels {a} and {b} overlap"


@pytest.mark.parametrize("case", CASES)
def test_everything_every_chart_draws_is_inside_its_figure(runs, case):
    """Axis labels, tick labels, legends and notes: nothing cut off at the figure's edge."""
    entries, chosen = scenario(runs, case)
    for anchor, _, fig, _ in figures(entries, chosen, shift_of(chosen[0])):
        renderer = rendered(fig)
        for ax in fig.axes:
            drawn = ax.get_tightbbox(renderer)
            assert within(drawn, fig.bbox.padded(TOLERANCE)), f"{anchor}: {ax.get_xlabel()!r}"
        for legend in fig.legends:
            drawn = legend.get_window_extent(renderer)
            assert within(drawn, fig.bbox.padded(TOLERANCE)), f"{anchor}'s legend"


# --- fault timeline -----------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_timeline_keeps_each_configuration_in_its_own_row_and_shows_every_outage(runs, case):
    entries, chosen = scenario(runs, case)
    shift = shift_of(chosen[0])
    fig = charts.timeline_chart(entries, chosen, shift)
    assert_rows(fig, entries)
    renderer = rendered(fig)
    drawn = marks(fig.axes[0])
    for number, run in enumerate(chosen, start=1):
        bars = [a for what, a in drawn[number] if what == "outages"]
        visible = [b for b in bars if b.get_window_extent(renderer).height >= 2]
        for outage in run.outages:
            hours = outage.start / 3600.0
            assert any(
                b.get_x() - b.get_width() * 0.1 <= hours <= b.get_x() + b.get_width() * 1.1
                for b in visible
            ), f"#{number}'s outage at {hours:.2f} h has no visible bar"


# --- exposure -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_exposure_keeps_each_configuration_in_its_own_row(runs, case):
    entries, chosen = scenario(runs, case)
    assert_rows(charts.exposure_chart(entries, chosen), entries)


def restores(run: RunData, minutes: Callable[[int], float]) -> RunData:
    """The run with its i-th restored outage lasting minutes(i)."""
    outages = tuple(
        o._replace(minutes=minutes(i)) if o.restored else o for i, o in enumerate(run.outages)
    )
    return replace(run, outages=outages)


def exposure_caption(entries: list[dict], chosen: list[RunData]) -> str:
    found = figures(entries, chosen, shift_of(chosen[0]))
    return next(caption for anchor, _, _, caption in found if anchor == "chart-exposure")


def test_exposure_draws_no_box_for_a_fixed_restore_and_marks_outages_cut_by_the_shift(runs):
    """A fixed 11-minute restore has no middle half to draw; outages still open when the
    shift ended are shorter because the shift ended, and the chart says so."""
    entries, chosen = scenario(runs, "two")
    chosen = [restores(run, lambda i: 11.0) for run in chosen]
    assert any(not o.restored for o in chosen[0].outages)
    fig = charts.exposure_chart(entries, chosen)
    rendered(fig)
    drawn = marks(fig.axes[0])
    for number, run in enumerate(chosen, start=1):
        assert "box" not in {what for what, _ in drawn[number]}
        cut = [a for what, a in drawn[number] if what == "still down"]
        assert sum(len(a.get_offsets()) for a in cut) == sum(not o.restored for o in run.outages)
        for what, artist in drawn[number]:
            if what == "restored":
                assert {float(x) for x, _ in artist.get_offsets()} == {11.0}
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "every restore took 11 min" in legend and "still down when the shift ended" in legend
    caption = exposure_caption(entries, chosen)
    assert "box" not in caption and "still down when the shift ended" in caption


def test_exposure_draws_a_box_where_restore_times_differ(runs):
    entries, chosen = scenario(runs, "two")
    chosen = [restores(run, lambda i: 4.0 + i % 9) for run in chosen]
    fig = charts.exposure_chart(entries, chosen)
    rendered(fig)
    assert all("box" in {what for what, _ in found} for found in marks(fig.axes[0]).values())
    assert "box" in exposure_caption(entries, chosen)


# --- protection against cost --------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_tradeoff_labels_every_configuration_apart_and_says_when_a_cost_does_not_vary(runs, case):
    entries, _ = scenario(runs, case)
    costs = list(TRADEOFF_TITLES.items())
    fig = charts.tradeoff_chart(entries, costs)
    renderer = rendered(fig)
    for ax, (cost, title) in zip(fig.axes, costs, strict=True):
        values = {e[cost] for e in entries}
        if len(values) == 1:  # nothing to plot along: a sentence, not a one-value axis
            assert not ax.axison and not marks(ax)
            assert title in sentence(ax) and "every configuration" in sentence(ax)
            continue
        labels = [t for t in ax.texts if t.get_text().startswith("#")]
        numbers = sorted(int(n) for t in labels for n in re.findall(r"#(\d+)", t.get_text()))
        assert numbers == list(range(1, len(entries) + 1)), ax.get_xlabel()
        assert_apart(labels, renderer)
        inside = ax.get_window_extent(renderer).padded(TOLERANCE)
        for number, artists in marks(ax).items():
            for what, box in extents(artists, renderer):
                assert within(box, inside), f"#{number} {what} outside the axes"
        left, _ = ax.get_xlim()
        shown = [x for x in ax.get_xticks() if x >= left]
        assert min(values) < 0 or min(shown) >= 0, "a negative tick on a cost that cannot be"


def test_queue_wait_that_never_varies_is_a_sentence_not_an_axis(runs):
    entries, _ = scenario(runs, "two")
    for entry in entries:
        entry["queue_wait_p95_minutes"] = 0.0
    costs = list(TRADEOFF_TITLES.items())
    fig = charts.tradeoff_chart(entries, costs)
    rendered(fig)
    wait = fig.axes[[key for key, _ in costs].index("queue_wait_p95_minutes")]
    assert not wait.axison
    assert "queue wait p95 (minutes): 0 in every configuration" in sentence(wait)


# --- slip-through -------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_slip_chart_keeps_each_configuration_in_its_own_row(runs, case):
    entries, _ = scenario(runs, case)
    assert_rows(charts.slip_chart(entries), entries)


# --- comparison.csv -----------------------------------------------------------------------


def test_comparison_csv_has_no_negative_lower_bound_on_minutes_or_counts(runs):
    """One outage in thirty shifts: a symmetric interval would reach below zero minutes."""
    none = runs["none"]
    rows = {i: dict(row) for i, row in none.replications.items()}
    for i, row in rows.items():
        row["exposure_minutes_total"] = 11.0 if i == 0 else 0.0
    rare = replace(none, name="rare", replications=rows)
    for row in csv_rows(compare([none, rare], 0)):
        for column, value in zip(CSV_COLUMNS, row, strict=True):
            if column.endswith("_ci_low") or column.endswith("_value"):
                assert value == "" or value >= 0, (column, value)

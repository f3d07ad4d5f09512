"""`harness compare` and `harness report`: common random numbers, tests that find a real
difference and not a null one, a report that renders every chart and is rebuilt byte for
byte from the folder, and one clear line for folders that do not compare."""

from __future__ import annotations

import csv
import json
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import interrupt_once_written, small, small_raw
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from harness.cli import main
from harness.drivers.sim import simulate
from harness.experiment.comparison_file import load_comparison
from harness.history import read_jsonl
from harness.pipeline.run import run_sim
from harness.reports import charts
from harness.run_folder import RunFolder, read_run
from harness.statistics.intervals import percent
from harness.verdicts.between_configurations import compare, pareto
from harness.world.environment import Environment

CHARTS = ("chart-slip-through", "chart-exposure", "chart-tradeoff", "chart-timeline")


def comparison_raw(replications: int = 30) -> dict:
    """Random approvers (p = 0.3) on a queue heavy with protected reports, so slips are
    common; the two-person rule squares the chance of a slip, a known difference. The
    third configuration changes a key of a disabled safeguard: identical to the baseline."""
    raw = small_raw(
        experiment__replications=replications,
        population__protected_report_share=0.3,
        operators=[{"persona": "random_approver", "approve_probability": 0.3, "count": 6}],
        faults=[{"kind": "approval_service_outage", "at": "1h", "duration": "30m"}],
    )
    raw["matrix"] = {"safeguards.two_person_rule.enabled": [False, True]}
    raw["configurations"] = [
        {"name": "same as baseline", "set": {"safeguards.rate_limit.max_actions": 50}}
    ]
    return raw


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> Path:
    """One small comparison, run through the command line on two processes."""
    import tomli_w

    base = tmp_path_factory.mktemp("compare")
    path = base / "matrix.toml"
    path.write_text(tomli_w.dumps(comparison_raw()))
    out = base / "out"
    assert main(["compare", str(path), "--out", str(out), "--jobs", "2"]) == 0
    return out


def configurations(out: Path) -> list[dict]:
    return json.loads((out / "comparison.json").read_text())["configurations"]


def test_comparison_folder_holds_a_run_folder_per_configuration(compared):
    about = json.loads((compared / "manifest.json").read_text())
    assert about["status"] == "completed" and about["kind"] == "comparison"
    assert [c["name"] for c in about["configurations"]] == [
        "two_person_rule.enabled=false",
        "two_person_rule.enabled=true",
        "same as baseline",
    ]
    for item in about["configurations"]:
        folder = compared / item["folder"]
        for name in ("summary.json", "replications.csv", "outages.csv", "experiment.toml"):
            assert (folder / name).is_file(), folder / name
        assert json.loads((folder / "manifest.json").read_text())["configuration"] == item["name"]
    assert (compared / "matrix.toml").is_file()


def test_same_report_stream_under_each_configuration(compared, write_experiment):
    """Common random numbers: replication i files the same reports at the same times under
    every configuration, in the run folders' histories and in fresh simulations."""

    def reports(ops) -> list:
        return [(t, v["account"], v["violating"]) for t, p, _, f, v in ops if f == "file_report"]

    folders = sorted((compared / "configurations").iterdir())
    streams = [reports(read_jsonl(f / "histories" / "replication-0000.jsonl")) for f in folders]
    assert len(streams[0]) > 100 and streams[0] == streams[1] == streams[2]

    plan = load_comparison(write_experiment(comparison_raw()))
    envs = [Environment.build(c.experiment) for c in plan.configurations]
    for index in range(3):
        first, *others = [reports(simulate(env, index)) for env in envs]
        assert all(other == first for other in others)
    other_seed = load_comparison(
        write_experiment(comparison_raw(), "other.toml"), ["experiment.seed=8"]
    )
    assert reports(simulate(Environment.build(other_seed.configurations[0].experiment), 0)) != (
        reports(simulate(envs[0], 0))
    )


def test_known_difference_is_significant_and_identical_configuration_is_not(compared):
    baseline, two_person, same = configurations(compared)
    assert baseline["vs_baseline"] is None
    for test in ("protected_slip_through", "exposure_minutes_per_shift"):
        assert two_person["vs_baseline"][test]["verdict"] == "significantly lower"
        assert two_person["vs_baseline"][test]["p_adjusted"] < 0.001
        assert same["vs_baseline"][test]["verdict"] == "no detectable difference"
        assert same["vs_baseline"][test]["p_adjusted"] == 1.0
    assert same["protected_slip_through"] == baseline["protected_slip_through"]
    # a second, independent approver squares the chance an approval goes through, except
    # while the approval service is down (1 of 4 hours, failing open)
    assert (
        two_person["protected_slip_through"]["rate"]
        < 0.6 * baseline["protected_slip_through"]["rate"]
    )
    assert two_person["vs_baseline"]["cost_ratio"]["decisions_per_operator_hour"] > 1.0
    assert set(two_person["differs_from_baseline"]) == {"safeguards.two_person_rule.enabled"}


def test_null_difference_is_found_at_about_the_nominal_rate():
    """Two identical configurations with independent streams (different seeds) differ only
    by chance. Over 100 pairs, each test's raw p-value falls under 0.05 about 5% of the time
    (10 of 200 expected; 2 or fewer, or 21 or more, would each happen by chance less than
    0.3% of the time), and the Holm-adjusted table, which controls the error over both tests,
    flags a pair at most that often; pairs with a real difference are flagged nearly always."""

    def run(seed: int, folder: Path, **extra):
        experiment = small(
            experiment__seed=seed,
            experiment__replications=12,
            experiment__shift="1h",
            population__protected_report_share=0.3,
            operators=[{"persona": "random_approver", "approve_probability": 0.3, "count": 4}],
            **extra,
        )
        run_sim(experiment, RunFolder(folder), jobs=1, keep_histories=0)
        return read_run(folder)

    def tests(comparison: dict) -> list[dict]:
        vs = comparison["configurations"][1]["vs_baseline"]
        return [vs["protected_slip_through"], vs["exposure_minutes_per_shift"]]

    import tempfile

    raw_alarms = table_alarms = found = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for seed in range(100):
            a = run(seed, root / f"a{seed}")
            null = tests(compare([a, run(seed + 1000, root / f"b{seed}")], 0))
            raw_alarms += sum(t["p"] < 0.05 for t in null)
            table_alarms += any(t["p_adjusted"] < 0.05 for t in null)
            if seed < 20:
                guarded = run(
                    seed + 1000, root / f"c{seed}", safeguards__two_person_rule__enabled=True
                )
                found += any(t["p_adjusted"] < 0.05 for t in tests(compare([a, guarded], 0)))
    assert 3 <= raw_alarms <= 20, raw_alarms
    assert table_alarms <= raw_alarms, table_alarms
    assert found >= 18, found


def test_pareto_front_keeps_what_nothing_beats():
    points = [(0.02, 10.0), (0.01, 12.0), (0.03, 9.0), (0.02, 11.0), (0.0, 30.0), (None, 1.0)]
    assert pareto(points) == [True, True, True, False, True, False]


def test_tradeoff_labels_of_configurations_that_nearly_coincide_do_not_overlap():
    """Five configurations within a hair of each other in protection and cost: each keeps
    its "#n", and no two labels share a pixel."""

    def entry(rate: float, workload: float, baseline: bool = False) -> dict:
        slip = {"rate": rate, "ci95": [rate / 2, rate * 2], "zero_events": False}
        verdict = {"protected_slip_through": {"verdict": "significantly lower"}}
        return {
            "protected_slip_through": slip,
            "decisions_per_operator_hour": workload,
            "pareto": {"decisions_per_operator_hour": True},
            "baseline": baseline,
            "vs_baseline": None if baseline else verdict,
        }

    entries = [entry(0.018, 9.2, baseline=True)] + [
        entry(0.00085 - 0.00005 * i, 9.2 + 0.01 * i) for i in range(5)
    ]
    fig = charts.tradeoff_chart(entries, [("decisions_per_operator_hour", "workload")])
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    texts = [t for t in fig.axes[0].texts if t.get_text().startswith("#")]
    assert sorted(t.get_text() for t in texts) == [f"#{i}" for i in range(1, 7)]
    boxes = [Text.get_window_extent(t, renderer) for t in texts]  # the text, not its leader
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (a, b)


class Page(HTMLParser):
    """Figures with their SVG, tables with their rows, and anything that would load."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.tables: dict[str, int] = {}
        self.loads: list[str] = []
        self._figure: str | None = None
        self._table: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure":
            self._figure = attrs.get("id")
            self.figures[self._figure] = ""
        if tag == "table":
            self._table = attrs.get("id")
            self.tables[self._table] = 0
        if tag == "tr" and self._table:
            self.tables[self._table] += 1
        if tag in ("script", "link", "img", "iframe") or attrs.get("src"):
            self.loads.append(tag)
        if tag == "svg" and self._figure:
            self.figures[self._figure] = "svg"

    def handle_endtag(self, tag):
        if tag == "figure":
            self._figure = None
        if tag == "table":
            self._table = None


def svg_texts(html: str, anchor: str) -> str:
    start = html.index(f'<figure id="{anchor}">')
    svg = html[html.index("<svg", start) : html.index("</svg>", start) + len("</svg>")]
    root = ET.fromstring(svg)  # well-formed XML
    return " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))


def test_report_renders_every_chart_and_the_table(compared):
    html = (compared / "report.html").read_text()
    page = Page()
    page.feed(html)
    assert all(page.figures.get(anchor) == "svg" for anchor in CHARTS), page.figures
    assert page.tables["protection"] == 4 and page.tables["cost"] == 4  # header + 3
    assert page.loads == [] and not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html)
    slip = svg_texts(html, "chart-slip-through")
    entries = configurations(compared)
    for i, entry in enumerate(entries):  # the chart draws the table's rates and intervals
        rate = entry["protected_slip_through"]
        assert f"#{i + 1}" in slip
        assert (
            f"{percent(rate['rate'])} [{percent(rate['ci95'][0])}, {percent(rate['ci95'][1])}]"
            in slip
        )
    assert "significantly lower" in slip  # the legend says what the table says
    assert "approval_service_outage" in svg_texts(html, "chart-timeline")
    assert "Pareto front" in svg_texts(html, "chart-tradeoff")
    assert "significantly lower" in html and "no detectable difference" in html
    assert "safeguards.two_person_rule.enabled" in html  # the resolved experiment's difference


def test_harness_report_rebuilds_the_same_files(compared, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(compared, copy)
    for name in ("report.html", "comparison.json", "comparison.csv"):
        (copy / name).unlink()
    assert main(["report", str(copy)]) == 0
    for name in ("report.html", "comparison.json", "comparison.csv"):
        assert (copy / name).read_bytes() == (compared / name).read_bytes(), name


def test_comparison_csv_matches_the_json(compared):
    rows = list(csv.DictReader((compared / "comparison.csv").open()))
    entries = configurations(compared)
    assert [r["configuration"] for r in rows] == [e["name"] for e in entries]
    for row, entry in zip(rows, entries, strict=True):
        assert float(row["slip_rate"]) == entry["protected_slip_through"]["rate"]
    assert rows[0]["baseline"] == "1" and rows[1]["slip_verdict"] == "significantly lower"


def test_compare_finished_run_folders(compared, tmp_path, capsys):
    first, second, _ = sorted((compared / "configurations").iterdir())
    out = tmp_path / "cmp"
    assert main(["compare", str(first), str(second), "--out", str(out)]) == 0
    assert "▼ lower" in capsys.readouterr().out
    comparison = json.loads((out / "comparison.json").read_text())
    assert comparison["baseline"] == "two_person_rule.enabled=false"
    assert comparison["configurations"][1]["folder"] == str(second.resolve())
    assert (out / "report.html").is_file()


def _run(tmp_path: Path, name: str, *args: str) -> Path:
    import tomli_w

    path = tmp_path / f"{name}.toml"
    path.write_text(tomli_w.dumps(small_raw(experiment__replications=3)))
    out = tmp_path / name
    assert main(["run", str(path), "--out", str(out), *args]) == 0
    return out


@pytest.mark.parametrize(
    "change,expected",
    [
        (("--seed", "8"), "experiment.seed differs (8 here, 7 in"),
        (("--set", "population.accounts=400"), "population.accounts differs (400 here, 300 in"),
        (("--set", "experiment.shift='2h'"), "experiment.shift differs"),
    ],
)
def test_run_folders_from_different_experiments_are_refused(tmp_path, capsys, change, expected):
    a, b = _run(tmp_path, "a"), _run(tmp_path, "b", *change)
    capsys.readouterr()
    assert main(["compare", str(a), str(b), "--out", str(tmp_path / "cmp")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"harness: {b}: not comparable"), err
    assert expected in err, err


def test_other_unusable_folders_are_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a comparison folder would go by default
    a = _run(tmp_path, "a")
    older = tmp_path / "older"
    shutil.copytree(a, older)
    about = json.loads((older / "manifest.json").read_text())
    (older / "manifest.json").write_text(json.dumps({**about, "version": "0.0.1"}))
    (tmp_path / "empty").mkdir()
    capsys.readouterr()
    cases = [
        ([a, older], "harness version differs ('0.0.1' here, '0.1.0' in"),
        ([a, a], "given twice"),
        ([a, tmp_path / "empty"], "not a finished run folder (no summary.json)"),
        ([a, tmp_path / "nowhere"], "no such run folder"),
        ([a], "give two or more run folders"),
    ]
    for folders, expected in cases:
        assert main(["compare", *map(str, folders)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and expected in err, err
    assert not (tmp_path / "results").exists()  # refused: nothing written
    assert main(["compare", str(a), str(older), "--replications", "4"]) == 2
    assert "apply to a comparison file" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "not a run folder or a comparison folder" in capsys.readouterr().err


def test_report_of_a_single_run_shows_zero_slips_as_a_bound(tmp_path):
    """A `harness run` folder gets a report of its one configuration; with no slips the
    rate is an upper bound, never 0%."""
    out = _run(
        tmp_path,
        "guarded",
        "--set",
        "safeguards.protected_list.mode='block'",
        "--set",
        "faults=[{kind='hr_feed_stale', at='1h', duration='1h'}]",
    )
    assert main(["report", str(out), "--png"]) == 0
    html = (out / "report.html").read_text()
    page = Page()
    page.feed(html)
    assert all(page.figures.get(anchor) == "svg" for anchor in CHARTS)
    assert page.tables["protection"] == 2
    assert "97.5% upper bound, 0 of" in html and "0.00%" not in html
    assert "upper bound" in svg_texts(html, "chart-slip-through")
    assert "hr_feed_stale" in svg_texts(html, "chart-timeline")
    assert not (out / "comparison.json").exists()
    assert sorted(p.name for p in (out / "charts").iterdir()) == [
        "exposure.png",
        "slip-through.png",
        "timeline.png",
        "tradeoff.png",
    ]


def test_interrupted_comparison_leaves_a_readable_partial_result(tmp_path, write_experiment):
    path = write_experiment(comparison_raw(replications=100000))
    out = tmp_path / "cmp"
    table = out / "configurations" / "01-two_person_rule.enabled-false" / "replications.csv"
    code, _, err = interrupt_once_written(
        ["compare", str(path), "--out", str(out), "--jobs", "2"], table
    )
    assert code == 130, err
    assert "partial comparison" in err
    comparison = json.loads((out / "comparison.json").read_text())
    assert comparison["status"] == "partial"
    assert comparison["not_run"] == ["two_person_rule.enabled=true", "same as baseline"]
    assert comparison["configurations"][0]["status"] == "interrupted"
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    html = (out / "report.html").read_text()
    assert "Partial result" in html

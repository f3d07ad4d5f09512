"""Locust's request statistics over every shift of a run, as CSV and Locust's own HTML
report in the run folder.

Locust clears its statistics whenever users start again, so each shift's are added to a
running total when the shift ends and the files are rewritten: per endpoint counts,
failures, response-time percentiles (`locust_requests.csv`), failures by error
(`locust_failures.csv`), in Locust's own format, and Locust's HTML report of the totals
(`locust_report.html`: the same page `locust --html` writes, its charts over every shift).
"""

from __future__ import annotations

import csv
from types import SimpleNamespace

from locust.env import Environment
from locust.html import get_html_report
from locust.stats import PERCENTILES_TO_REPORT, RequestStats, StatsCSV, StatsError

from ...run_folder import RunFolder

FILES = {
    "requests": "locust_requests.csv",
    "failures": "locust_failures.csv",
    "report": "locust_report.html",
}


class RequestTotals:
    def __init__(self) -> None:
        self.stats = RequestStats()

    def add(self, shift: RequestStats) -> None:
        for (name, method), entry in shift.entries.items():
            self.stats.get(name, method).extend(entry)
        self.stats.total.extend(shift.total)
        self.stats.history.extend(shift.history)
        for key, error in shift.errors.items():
            mine = self.stats.errors.get(key)
            if mine is None:
                mine = self.stats.errors[key] = StatsError(error.method, error.name, error.error)
            mine.occurrences += error.occurrences

    def write(self, folder: RunFolder, env: Environment) -> None:
        """The CSV files, and the HTML report of `env`'s run with these totals."""
        writer = StatsCSV(SimpleNamespace(stats=self.stats, runner=None), PERCENTILES_TO_REPORT)
        for kind, write_rows in (
            ("requests", writer.requests_csv),
            ("failures", writer.failures_csv),
        ):
            with (folder.path / FILES[kind]).open("w", newline="", encoding="utf-8") as out:
                write_rows(csv.writer(out))
        report = get_html_report(_Totals(env, self.stats), show_download_link=False)
        (folder.path / FILES["report"]).write_text(report, encoding="utf-8")


class _Totals:
    """`env` as Locust's report reads it, with the run's totals in place of the runner's
    statistics of the last shift."""

    def __init__(self, env: Environment, stats: RequestStats) -> None:
        self._env = env
        self.runner = _TotalsRunner(env.runner, stats)
        self.locustfile = "harness live mode"

    def __getattr__(self, name: str) -> object:
        return getattr(self._env, name)


class _TotalsRunner:
    def __init__(self, runner: object, stats: RequestStats) -> None:
        self._runner = runner
        self.stats = stats

    def __getattr__(self, name: str) -> object:
        return getattr(self._runner, name)

"""Locust's request statistics over every shift of a run, as CSV in the run folder.

Locust clears its statistics whenever users start again, so each shift's are added to a
running total when the shift ends and the files are rewritten: per endpoint counts,
failures, response-time percentiles (`locust_requests.csv`) and failures by error
(`locust_failures.csv`), in Locust's own format.
"""

from __future__ import annotations

import csv
from types import SimpleNamespace

from locust.stats import PERCENTILES_TO_REPORT, RequestStats, StatsCSV, StatsError

from ...run_folder import RunFolder

FILES = {"requests": "locust_requests.csv", "failures": "locust_failures.csv"}


class RequestTotals:
    def __init__(self) -> None:
        self.stats = RequestStats()

    def add(self, shift: RequestStats) -> None:
        for (name, method), entry in shift.entries.items():
            self.stats.get(name, method).extend(entry)
        self.stats.total.extend(shift.total)
        for key, error in shift.errors.items():
            mine = self.stats.errors.get(key)
            if mine is None:
                mine = self.stats.errors[key] = StatsError(error.method, error.name, error.error)
            mine.occurrences += error.occurrences

    def write(self, folder: RunFolder) -> None:
        writer = StatsCSV(SimpleNamespace(stats=self.stats, runner=None), PERCENTILES_TO_REPORT)
        for kind, write_rows in (
            ("requests", writer.requests_csv),
            ("failures", writer.failures_csv),
        ):
            with (folder.path / FILES[kind]).open("w", newline="", encoding="utf-8") as out:
                write_rows(csv.writer(out))

"""Writing a run folder as replications arrive: the resolved experiment and manifest first,
then rows, outages and histories appended chunk by chunk, then the summary."""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..checker import ReplicationMetrics
from ..errors import BadInput
from ..experiment.model import Experiment
from ..metrics import REPLICATION_COLUMNS, replication_row
from ..statistics.summary import build_summary
from .folder import RunFolder, manifest
from .layout import EXPERIMENT, FINISHED, MANIFEST, OUTAGES, REPLICATIONS, SUMMARY

if TYPE_CHECKING:
    from ..backends.replications import Completed, RunResult

OUTAGE_COLUMNS = ("replication", "account", "start_minutes", "minutes", "restored")


def outage_rows(index: int, r: ReplicationMetrics) -> list[list]:
    """One row per outage of a protected account: when it went down and for how long."""
    return [
        [index, o.account, round(o.start / 60.0, 6), round(o.minutes, 6), int(o.restored)]
        for o in sorted(r.outages, key=lambda o: (o.start, o.account))
    ]


class RunRecorder:
    """A run folder written as replications arrive: rows, outages and histories are appended
    as chunks finish, so even a killed run leaves them. `harness run` records one batch of
    replications; `harness check` records several into the same folder; live mode records
    one shift at a time. `configuration` names the run in its manifest when it is one of a
    comparison's; `about` adds facts to the manifest. With `resume` the folder's finished
    replications are kept (`finished`) and the run goes on where it stopped."""

    def __init__(
        self,
        experiment: Experiment,
        folder: RunFolder,
        *,
        jobs: int | None = None,
        on_progress: Callable[[int], None] = lambda n: None,
        configuration: str | None = None,
        mode: str = "sim",
        replications: int | None = None,
        resume: bool = False,
        **about: object,
    ) -> None:
        self.experiment = experiment
        self.folder = folder
        self.on_progress = on_progress
        self.mode = mode
        info = experiment.experiment
        resume = resume and (folder.path / REPLICATIONS).is_file()
        if resume:
            _check_same_experiment(folder, experiment)
        folder.write_text(EXPERIMENT, experiment.to_toml())
        self.about = manifest(
            mode=mode,
            seed=info.seed,
            replications=replications or info.replications,
            jobs=jobs,
            status="running",
            **about,
        )
        if configuration is not None:
            self.about["configuration"] = configuration
        folder.write_json(MANIFEST, self.about)
        self.finished = read_finished(folder) if resume else {}
        if not resume:
            folder.start_table(REPLICATIONS, REPLICATION_COLUMNS)
            folder.start_table(OUTAGES, OUTAGE_COLUMNS)
            (folder.path / FINISHED).unlink(missing_ok=True)

    def record(self, done: Completed) -> None:
        """`run_replications`' `on_chunk`: append a finished chunk to the folder."""
        self.folder.append_rows(REPLICATIONS, [replication_row(i, m) for i, m, _ in done])
        self.folder.append_rows(OUTAGES, [row for i, m, _ in done for row in outage_rows(i, m)])
        for index, _, ops in done:
            if ops is not None:
                self.folder.write_history(index, ops)
        with (self.folder.path / FINISHED).open("ab") as out:
            pickle.dump([(i, m) for i, m, _ in done], out)
        self.on_progress(len(done))

    def finish(self, result: RunResult, status: str | None = None, **extra: object) -> dict:
        """Rewrite the rows in replication order, write summary.json (with `extra` keys
        replacing or adding to the summary's) and mark the manifest finished with `status`
        (by default completed, failed after a harness error, or interrupted)."""
        status = status or _status(result)
        done = sorted(result.metrics)
        self.folder.write_table(
            REPLICATIONS,
            REPLICATION_COLUMNS,
            [replication_row(i, result.metrics[i]) for i in done],
        )
        self.folder.write_table(
            OUTAGES,
            OUTAGE_COLUMNS,
            [row for i in done for row in outage_rows(i, result.metrics[i])],
        )
        summary = build_summary(
            self.experiment,
            result.ordered(),
            mode=self.mode,
            status=status,
            requested=result.requested,
        )
        if result.error is not None:
            summary["error"] = result.error
        summary.update(extra)
        self.folder.write_json(SUMMARY, summary)
        self.about.update(status=status, finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        self.folder.write_json(MANIFEST, self.about)
        return summary


def _status(result: RunResult) -> str:
    if result.error is not None:
        return "failed"
    return "interrupted" if result.interrupted else "completed"


def _check_same_experiment(folder: RunFolder, experiment: Experiment) -> None:
    """A resumed folder must hold the same resolved experiment, or its finished
    replications would be mixed with another experiment's."""
    recorded = folder.path / EXPERIMENT
    if not recorded.is_file() or recorded.read_text(encoding="utf-8") != experiment.to_toml():
        raise BadInput(
            f"--resume {folder.path}: its {EXPERIMENT} differs from the file and --set given; "
            "resume with the same ones"
        )


def read_finished(folder: RunFolder) -> dict[int, ReplicationMetrics]:
    """The metrics of the replications a run folder recorded as finished, exactly as they
    were computed (floats and all), so a resumed run sums to the uninterrupted one. A chunk
    cut off by a kill mid-write is left out: it runs again. The file is a pickle: resume
    only run folders you made."""
    finished: dict[int, ReplicationMetrics] = {}
    path = folder.path / FINISHED
    if not path.is_file():
        return finished
    with path.open("rb") as source:
        while True:
            try:
                finished.update(pickle.load(source))
            except (EOFError, pickle.UnpicklingError):
                return finished

"""A simulated run from experiment to run folder: the composition `harness run` performs."""

from __future__ import annotations

import time
from collections.abc import Callable

from .environment import Environment
from .experiment import Experiment
from .results import RunFolder, manifest
from .runner import Completed, RunResult, run_replications
from .summary import (
    OUTAGE_COLUMNS,
    REPLICATION_COLUMNS,
    build_summary,
    outage_rows,
    replication_row,
)


def run_sim(
    experiment: Experiment,
    folder: RunFolder,
    *,
    jobs: int | None = None,
    keep_histories: int = 1,
    on_progress: Callable[[int], None] = lambda n: None,
    configuration: str | None = None,
) -> dict:
    """Run every replication, writing the folder as results arrive; returns the summary.

    Rows and histories are written as chunks finish, so even a killed run leaves them.
    `configuration` names the run in its manifest when it is one of a comparison's.
    """
    env = Environment.build(experiment)
    info = experiment.experiment
    folder.write_text("experiment.toml", experiment.to_toml())
    about = manifest(
        mode="sim", seed=info.seed, replications=info.replications, jobs=jobs, status="running"
    )
    if configuration is not None:
        about["configuration"] = configuration
    folder.write_json("manifest.json", about)
    folder.start_table("replications.csv", REPLICATION_COLUMNS)
    folder.start_table("outages.csv", OUTAGE_COLUMNS)

    def on_chunk(done: Completed) -> None:
        folder.append_rows("replications.csv", [replication_row(i, m) for i, m, _ in done])
        folder.append_rows("outages.csv", [row for i, m, _ in done for row in outage_rows(i, m)])
        for index, _, ops in done:
            if ops is not None:
                folder.write_history(index, ops)
        on_progress(len(done))

    result = run_replications(
        env, info.replications, jobs=jobs, keep_histories=keep_histories, on_chunk=on_chunk
    )
    return finish(experiment, folder, result, about)


def finish(experiment: Experiment, folder: RunFolder, result: RunResult, about: dict) -> dict:
    status = "interrupted" if result.interrupted else "completed"
    folder.write_table(
        "replications.csv",
        REPLICATION_COLUMNS,
        [replication_row(i, result.metrics[i]) for i in sorted(result.metrics)],
    )
    folder.write_table(
        "outages.csv",
        OUTAGE_COLUMNS,
        [row for i in sorted(result.metrics) for row in outage_rows(i, result.metrics[i])],
    )
    summary = build_summary(
        experiment, result.ordered(), mode="sim", status=status, requested=result.requested
    )
    folder.write_json("summary.json", summary)
    about.update(status=status, finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    folder.write_json("manifest.json", about)
    return summary

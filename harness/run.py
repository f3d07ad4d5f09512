"""A simulated run from experiment to run folder: the composition `harness run` performs."""

from __future__ import annotations

from collections.abc import Callable

from .environment import Environment
from .experiment import Experiment
from .run_folder import RunFolder, RunRecorder
from .runner import run_replications


def run_sim(
    experiment: Experiment,
    folder: RunFolder,
    *,
    jobs: int | None = None,
    keep_histories: int = 1,
    on_progress: Callable[[int], None] = lambda n: None,
    configuration: str | None = None,
) -> dict:
    """Run every replication, writing the folder as results arrive; returns the summary."""
    env = Environment.build(experiment)
    recorder = RunRecorder(
        experiment, folder, jobs=jobs, on_progress=on_progress, configuration=configuration
    )
    result = run_replications(
        env,
        experiment.experiment.replications,
        jobs=jobs,
        keep_histories=keep_histories,
        on_chunk=recorder.record,
    )
    return recorder.finish(result)

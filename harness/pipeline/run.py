"""A simulated run from experiment to run folder: the composition `harness run` performs."""

from __future__ import annotations

from collections.abc import Callable

from ..backends.replications import run_replications
from ..experiment.model import Experiment
from ..run_folder import RunFolder, RunRecorder
from ..world.environment import Environment


def run_sim(
    experiment: Experiment,
    folder: RunFolder,
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    keep_histories: int = 1,
    on_progress: Callable[[int], None] = lambda n: None,
    configuration: str | None = None,
) -> dict:
    """Run every replication (those a resumed folder has not finished), writing the folder
    as results arrive; returns the summary."""
    env = Environment.build(experiment)
    recorder = RunRecorder(
        experiment,
        folder,
        jobs=jobs,
        on_progress=on_progress,
        configuration=configuration,
        resume=resume,
    )
    result = run_replications(
        env,
        experiment.experiment.replications,
        jobs=jobs,
        scheduler=scheduler,
        keep_histories=keep_histories,
        finished=recorder.finished,
        on_chunk=recorder.record,
    )
    return recorder.finish(result)

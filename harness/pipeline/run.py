"""Simulated runs from experiment to run folder: the composition `harness run` performs for
one run and `harness compare` for all its configurations at once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..backends.replications import Replications, run_together
from ..experiment.model import Experiment
from ..run_folder import RunFolder, RunRecorder
from ..world.environment import Environment


@dataclass(frozen=True)
class SimRun:
    """One run to do: its experiment, its folder, its name in a comparison and whom to tell
    of finished replications."""

    experiment: Experiment
    folder: RunFolder
    configuration: str | None = None
    on_progress: Callable[[int], None] = lambda n: None


def run_sims(
    runs: Sequence[SimRun],
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    keep_histories: int = 1,
) -> list[dict]:
    """Run every replication of every run (those a resumed folder has not finished), all
    runs' replications handed to the backend at once, writing each folder as its results
    arrive; returns the summaries, each the same as the run alone would write."""
    recorders = [
        RunRecorder(
            run.experiment,
            run.folder,
            jobs=jobs,
            on_progress=run.on_progress,
            configuration=run.configuration,
            resume=resume,
        )
        for run in runs
    ]
    work = [
        Replications(
            Environment.build(run.experiment),
            run.experiment.experiment.replications,
            finished=recorder.finished,
            on_chunk=recorder.record,
        )
        for run, recorder in zip(runs, recorders, strict=True)
    ]
    results = run_together(work, jobs=jobs, scheduler=scheduler, keep_histories=keep_histories)
    return [recorder.finish(result) for recorder, result in zip(recorders, results, strict=True)]


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
    run = SimRun(experiment, folder, configuration, on_progress)
    return run_sims(
        [run], jobs=jobs, scheduler=scheduler, resume=resume, keep_histories=keep_histories
    )[0]

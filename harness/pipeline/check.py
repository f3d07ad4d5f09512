"""A check: run an experiment in batches until every gate is settled, compare it with a
baseline run, and say pass or fail. `harness check` and the pytest plugin both use it.

The replications run are a prefix 0 .. n-1 of the experiment's seed sequence, so the run
folder a check leaves is the same as `harness run` would write for n replications, and an
early-stopped check is a normal run folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..backends.replications import RunResult, run_replications
from ..checker import ReplicationMetrics
from ..errors import BadInput
from ..experiment.model import Experiment
from ..metrics import REPLICATION_COLUMNS, replication_row
from ..run_folder import RunFolder, RunRecorder
from ..run_folder.layout import MANIFEST, TREND
from ..statistics.intervals import CONFIDENCE
from ..statistics.summary import summarize
from ..verdicts.against_baseline import Baseline, Comparison, compare
from ..verdicts.sequential import GateVerdict, Plan, decide_at_end, settle
from ..world.environment import Environment


@dataclass
class CheckResult:
    experiment: Experiment
    folder: RunFolder
    plan: Plan
    summary: dict = field(default_factory=dict)
    verdicts: dict[int, GateVerdict] = field(default_factory=dict)  # by gate index
    comparisons: list[Comparison] = field(default_factory=list)
    baseline: Baseline | None = None
    replications: int = 0
    interrupted: bool = False
    error: str | None = None  # a harness error stopped the check: no verdict on the rest
    seconds: float = 0.0
    settled_seconds: dict[int, float] = field(default_factory=dict)  # by gate index
    estimator: str = "crude"

    def gate_seconds(self, index: int) -> float:
        """How long the check ran until gate `index` was settled (all of it if never)."""
        return self.settled_seconds.get(index, self.seconds)

    @property
    def regression(self) -> bool:
        return any(c.worse for c in self.comparisons)

    @property
    def passed(self) -> bool:
        return (
            not self.interrupted
            and self.error is None
            and all(v.passed for v in self.verdicts.values())
            and not self.regression
        )

    @property
    def stopped_early(self) -> bool:
        return (
            not self.interrupted
            and self.error is None
            and self.replications < self.plan.replications
        )

    def as_dict(self) -> dict:
        """The `check` section of summary.json."""
        return {
            "estimator": self.estimator,
            **self.plan.as_dict(),
            "replications_run": self.replications,
            "stopped_early": self.stopped_early,
            "passed": self.passed,
            "gates": [self.verdicts[i].as_dict() for i in sorted(self.verdicts)],
            "baseline": None
            if self.baseline is None
            else {
                "path": str(self.baseline.path),
                "comparisons": [c.as_dict() for c in self.comparisons],
            },
        }


def run_check(
    experiment: Experiment,
    folder: RunFolder,
    *,
    baseline: Baseline | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    keep_histories: int = 1,
    on_progress: Callable[[int], None] = lambda n: None,
) -> CheckResult:
    """Run batch after batch until every gate is settled (and, with a baseline, a
    regression is found or no further replication can pair with it), then write the
    run folder. Each look's comparisons are tested at the look's share of the error.
    An experiment estimated by importance sampling is checked on its weighted estimates."""
    if experiment.estimate.method == "importance":
        return _weighted_check(experiment, folder, baseline, jobs, on_progress)
    started = time.monotonic()
    env = Environment.build(experiment)
    plan = Plan.of(experiment.experiment.replications, experiment.check)
    check = CheckResult(experiment, folder, plan, baseline=baseline)
    recorder = RunRecorder(experiment, folder, jobs=jobs, on_progress=on_progress, resume=resume)
    result = RunResult(plan.replications)
    batches = plan.batches()
    for look, batch in enumerate(batches, start=1):
        part = run_replications(
            env,
            len(batch),
            first=batch.start,
            jobs=jobs,
            scheduler=scheduler,
            keep_histories=keep_histories,
            finished=recorder.finished,
            on_chunk=recorder.record,
        )
        result.metrics.update(part.metrics)
        if part.error is not None:
            result.error = check.error = part.error
            break
        if part.interrupted:
            result.interrupted = check.interrupted = True
            break
        _look(check, summarize(result.ordered()), len(result.metrics), look == len(batches))
        at = time.monotonic() - started  # one instant for every gate this look settled
        for index in check.verdicts.keys() - check.settled_seconds.keys():
            check.settled_seconds[index] = at
        comparing = baseline is not None and not check.regression
        if comparing:
            check.comparisons = compare(_rows(result), baseline.rows, 1.0 - plan.look_confidence)
            comparing = not check.regression and max(baseline.rows, default=-1) >= batch.stop
        if len(check.verdicts) == len(experiment.gates) and not comparing:
            break
    check.replications = len(result.metrics)
    check.summary = recorder.finish(result, **_gates_and_check(check))
    check.seconds = time.monotonic() - started
    return check


def _look(check: CheckResult, metrics: dict, ran: int, last: bool) -> None:
    """Settle each gate not yet settled that this look can settle; at the last look, all."""
    for index, gate in enumerate(check.experiment.gates):
        if index in check.verdicts:
            continue
        if last:
            check.verdicts[index] = decide_at_end(gate, metrics, ran)
        elif (verdict := settle(gate, metrics, check.plan, ran)) is not None:
            check.verdicts[index] = verdict


def _weighted_check(
    experiment: Experiment,
    folder: RunFolder,
    baseline: Baseline | None,
    jobs: int | None,
    on_progress: Callable[[int], None],
) -> CheckResult:
    """The check of an importance-sampling run: it runs to its target relative error (or
    budget), then each gate is decided on the weighted estimate (`estimate.gates`)."""
    if baseline is not None:
        raise BadInput(
            "--baseline: a baseline pairs crude runs replication by replication; an "
            "importance-sampling check has none (compare configurations with harness compare)"
        )
    from ..estimate.gates import refuse_unweighted, weighted_verdicts
    from ..estimate.report import run_importance

    refuse_unweighted(experiment)
    started = time.monotonic()
    spec = experiment.estimate
    plan = Plan(spec.max_replications, spec.max_replications, CONFIDENCE)
    check = CheckResult(experiment, folder, plan, estimator="importance")
    summary = run_importance(
        experiment, folder, jobs=jobs, on_progress=lambda stage, n: on_progress(n)
    )
    check.replications = summary["replications"]["completed"]
    check.interrupted = summary["status"] != "completed"
    if not check.interrupted:
        check.verdicts = weighted_verdicts(experiment.gates, summary)
    summary["check"] = check.as_dict()
    folder.write_json("summary.json", summary)
    check.summary = summary
    check.seconds = time.monotonic() - started
    return check


def _gates_and_check(check: CheckResult) -> dict:
    """summary.json's gates (the check's verdicts, each as decided) and check section."""
    extra: dict = {"check": check.as_dict()}
    if not check.interrupted and check.error is None:
        extra["gates"] = [check.verdicts[i].result.as_dict() for i in sorted(check.verdicts)]
    return extra


def _rows(result: RunResult) -> dict[int, dict]:
    """The run's replications as replications.csv rows, by index (as a baseline has them)."""
    return {i: _row(i, m) for i, m in result.metrics.items()}


def _row(index: int, metrics: ReplicationMetrics) -> dict:
    return dict(zip(REPLICATION_COLUMNS, replication_row(index, metrics), strict=True))


def publish(check: CheckResult, history: Path | None, earlier: list[dict]) -> None:
    """What a finished check leaves for CI besides its run folder's files: report.html,
    with `history` the new line of the gate history (after the `earlier` lines, which
    the run folder keeps for its chart), and the job summary when the CI asks for one."""
    from ..verdicts import step_summary, trend
    from .compare import report_run

    if history is not None:
        line = trend.entry(check, check.folder.read_json(MANIFEST).get("git_revision"))
        trend.append(history, line)
        shown = [*earlier, line][-trend.SHOWN :]
        check.folder.write_text(TREND, "".join(json.dumps(x, sort_keys=True) + "\n" for x in shown))
    if check.summary:
        report_run(check.folder)
    step_summary.write(check)

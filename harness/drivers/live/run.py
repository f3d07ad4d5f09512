"""A live run from experiment to run folder: the composition `harness run --mode live`
performs.

Start (or reach) the served target, check its steady state, build the users (here or on
workers), run `live.replications` shifts back to back, each reset with its replication's
seed, check each shift's history as the simulator's are checked, and write the same run
folder a simulated run writes, plus Locust's request statistics. Whatever happens, the
faults are switched off, the users and workers stopped, the target the harness started
stopped, and the run's status recorded: completed, interrupted (Ctrl-C or SIGTERM, see
`stopping`), failed (something broke during the run) or aborted (the steady state did not
hold before load).
"""

from __future__ import annotations

import secrets
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any

import gevent
from locust.env import Environment as LocustEnvironment

from ...backends.replications import RunResult
from ...checker import check
from ...errors import BadInput
from ...experiment.model import Experiment, LatencyFault
from ...history import History
from ...run_folder import RunFolder, RunRecorder
from ...world.environment import Environment
from ..client import ADMIN_TOKEN_VARIABLE, HttpTarget, admin_token
from .board import Board
from .cluster import LocalCrew, MasterCrew, PinnedDispatcher, WorkersChanged
from .headless import watch
from .locust_stats import FILES, RequestTotals
from .server import ServerProcess
from .shift import KILL_SECONDS, Crew, Stage, SteadyStateLost, run_shift
from .steady import TargetFacts, check_target, roll_back
from .stopping import Stopping
from .transport import REQUEST_TIMEOUT, harness_target
from .users import World, user_classes

MAX_LATENCY = 10.0  # wall seconds the served target adds at most
EXPOSURE_NOTE = (
    "exposure comes from the harness's status probes: every protected account each "
    "probe interval, and at once after an answer or a timer the harness saw take one down "
    "or bring one back; a change nobody saw is timed to within one probe interval"
)


@dataclass
class LiveOptions:
    """The command line's live-mode options."""

    target: str | None = None
    admin_token: str | None = None
    time_scale: float | None = None  # given on the command line (the file's otherwise)
    workers: int = 0
    expect_workers: int = 0
    master_bind: str = "127.0.0.1"
    master_port: int = 5557
    web: bool = False
    web_port: int = 8089
    histories: int = 1
    command: tuple[str, ...] = ()
    stats_seconds: float = 10.0  # a stats line this often when there is no web UI


def run_live(
    experiment: Experiment, folder: RunFolder, options: LiveOptions, stopping: Stopping
) -> dict:
    """Run every shift into `folder`; returns the summary. Raises `BadInput` (after
    recording the run as aborted) when the steady state does not hold before load."""
    run = _Run(
        experiment,
        Environment.build(experiment),
        folder,
        options,
        stopping,
        RunRecorder(
            experiment,
            folder,
            mode="live",
            replications=experiment.live.replications,
            command=list(options.command),
            target=options.target or "started by the harness",
            workers=options.workers + options.expect_workers,
        ),
        RunResult(experiment.live.replications),
    )
    status, reason = "completed", None
    try:
        if not stopping.is_set():  # a stop asked before anything started: nothing to do
            run.shifts(run.stage())
        if stopping.is_set():
            status = "interrupted"
    except Exception as exc:
        status, reason = _broken(exc, run)
    finally:
        problems = run.roll_back()
    run.result.interrupted = status == "interrupted"
    summary = run.recorder.finish(
        run.result,
        status=status,
        live=_live_section(experiment, options, run.about, reason, problems),
    )
    if status == "aborted":
        raise BadInput(str(reason))
    return summary


def _broken(exc: Exception, run: _Run) -> tuple[str, str]:
    """The status and reason of a run that raised `exc`: interrupted when a stop was asked
    (the target may have stopped answering first), aborted when the steady state did not
    hold before any shift was measured, failed otherwise (the traceback of an unexpected
    error in live-error.txt)."""
    expected = isinstance(exc, SteadyStateLost | BadInput | WorkersChanged)
    reason = str(exc) if expected else f"{exc.__class__.__name__}: {exc}"
    if not expected:
        (run.folder.path / "live-error.txt").write_text(traceback.format_exc(), encoding="utf-8")
    if isinstance(exc, WorkersChanged):  # it ended the shift itself by asking a stop
        return "failed", reason
    if run.stopping.is_set():
        return "interrupted", reason
    return ("aborted" if expected and not run.result.metrics else "failed"), reason


@dataclass
class _Run:
    """One live run: what it has measured so far, and what its rollback must undo."""

    experiment: Experiment
    env: Environment
    folder: RunFolder
    options: LiveOptions
    stopping: Stopping
    recorder: RunRecorder
    result: RunResult
    totals: RequestTotals = field(default_factory=RequestTotals)
    about: dict[str, Any] = field(
        default_factory=lambda: {"interrupted_shift": None, "load_wall_seconds": 0.0}
    )
    locust_env: LocustEnvironment = field(
        default_factory=lambda: LocustEnvironment(
            user_classes=[], dispatcher_class=PinnedDispatcher
        )
    )
    server: ServerProcess | None = None
    crew: Crew | None = None
    target: HttpTarget | None = None  # once its steady state held: faults to switch off
    watchers: list[gevent.Greenlet] = field(default_factory=list)  # see `headless`
    shift: int = 0  # the shift under way

    def stage(self) -> Stage:
        """Start (or reach) the target, check its steady state, build the users."""
        experiment, options, locust_env = self.experiment, self.options, self.locust_env
        url, token, self.server = _open_target(experiment, self.folder, options)
        self.recorder.about["target_pid"] = self.server.pid if self.server else None
        where = f"--target {url}" if options.target else f"the served target at {url}"
        facts = check_target(
            HttpTarget(url, token, timeout=REQUEST_TIMEOUT),
            where,
            experiment,
            self.env.roster,
            restartable=bool(self.server),
        )
        self.about["time_scale"] = _time_scale(experiment, facts, options)
        world = World(self.env, url, facts.tokens, Board())
        locust_env.user_classes[:] = user_classes(world)
        locust_env.host = url
        self.target = harness_target(url, token, locust_env.events.request)
        self.crew = _crew(locust_env, world, self.folder, options, experiment, self.stopping)
        every = None if options.web else options.stats_seconds
        self.watchers = watch(locust_env, self.where, every)
        if options.web:
            sys.argv[1:] = []  # the web UI parses the command line as Locust's own
            locust_env.create_web_ui("127.0.0.1", options.web_port)
            print(f"Locust's web UI: http://127.0.0.1:{options.web_port}", flush=True)
        return Stage(self.env, self.target, self.crew, self.server, self.stopping)

    def where(self) -> str:
        return f"shift {self.shift + 1} of {self.experiment.live.replications}"

    def shifts(self, stage: Stage) -> None:
        """The replications' shifts back to back, each checked and recorded as it ends,
        until they are done or a stop is asked."""
        for index in range(self.experiment.live.replications):
            if self.stopping.is_set():
                return
            self.shift = index
            shift = run_shift(stage, index)
            self.about["load_wall_seconds"] += shift.wall_seconds
            metrics = check(History(shift.ops), self.env.operator_hours)
            if shift.finished:
                keep = shift.ops if index < self.options.histories else None
                self.result.metrics[index] = metrics
                self.recorder.record([(index, metrics, keep)])
            else:
                self.folder.write_history(index, shift.ops)
                self.about["interrupted_shift"] = {
                    "replication": index,
                    "reached_seconds": shift.reached,
                    "slips": metrics.slips,
                    "trials": metrics.trials,
                }
            self.totals.add(self.locust_env.stats)
            self.totals.write(self.folder, self.locust_env)

    def roll_back(self) -> list[str]:
        """Switch faults off, stop users and workers, stop the target the harness started;
        returns what could not be done. In a hurry the target the harness started is
        killed (its store survives that) without switching its faults off first."""
        hurry = self.stopping.hurry and self.server is not None
        gevent.killall(self.watchers, timeout=KILL_SECONDS)
        problems = roll_back(self.target) if self.target is not None and not hurry else []
        if self.crew is not None:
            try:
                self.crew.close()
            except Exception as exc:
                problems.append(f"stopping the users: {exc}")
        if self.server is not None:
            self.server.stop(at_once=hurry)
        return problems


def _open_target(
    experiment: Experiment, folder: RunFolder, options: LiveOptions
) -> tuple[str, str, ServerProcess | None]:
    """The target's URL and admin token, and the server process if the harness starts it."""
    if options.target:
        token = admin_token(options.admin_token)
        if not token:
            raise BadInput(
                f"--target {options.target}: needs the target's admin token (--admin-token "
                f"or the {ADMIN_TOKEN_VARIABLE} environment variable)"
            )
        return options.target.rstrip("/"), token, None
    for stale in folder.path.glob("target.sqlite*"):
        stale.unlink()
    token = secrets.token_urlsafe(24)
    server = ServerProcess(
        folder.path / "experiment.toml",
        folder.path / "target.sqlite",
        folder.path / "target.log",
        options.time_scale or experiment.live.time_scale,
        token,
        restarts=any(fault.kind == "restart" for fault in experiment.faults),
    )
    return server.start(), token, server


def _time_scale(experiment: Experiment, facts: TargetFacts, options: LiveOptions) -> float:
    """The target's time scale, which the run follows; refuse one that contradicts the
    command line or makes an injected latency longer than the target allows."""
    scale = facts.scale
    if options.time_scale is not None and abs(options.time_scale - scale) > 1e-9 * scale:
        raise BadInput(
            f"--time-scale {options.time_scale:g}: the target runs at {scale:g} simulated "
            "seconds per wall second; give that, or leave --time-scale out"
        )
    for index, fault in enumerate(experiment.faults):
        if isinstance(fault, LatencyFault) and fault.delay / scale > MAX_LATENCY:
            raise BadInput(
                f"faults.{index}.delay = {fault.delay:g}s is {fault.delay / scale:g} wall "
                f"seconds at time scale {scale:g}; the served target adds at most "
                f"{MAX_LATENCY:g}"
            )
    return scale


def _crew(
    locust_env: LocustEnvironment,
    world: World,
    folder: RunFolder,
    options: LiveOptions,
    experiment: Experiment,
    stopping: Stopping,
) -> Crew:
    if not options.workers and not options.expect_workers:
        return LocalCrew(locust_env, world)
    setup = {
        "experiment": experiment.model_dump(mode="json", exclude_none=True),
        "url": world.url,
        "tokens": world.tokens,
    }
    return MasterCrew(
        locust_env,
        world,
        setup,
        workers=options.workers,
        expect=options.expect_workers,
        bind=options.master_bind,
        port=options.master_port,
        log=folder.path / "workers.log",
        stopping=stopping.asked,
    )


def _live_section(
    experiment: Experiment,
    options: LiveOptions,
    about: dict[str, Any],
    reason: str | None,
    problems: list[str],
) -> dict[str, Any]:
    live = experiment.live
    return {
        "target": options.target or "started by the harness (store: target.sqlite)",
        "time_scale": about.get("time_scale", options.time_scale or live.time_scale),
        "users_per_operator": live.users_per_operator,
        "workers": options.workers + options.expect_workers,
        "probe_interval_seconds": live.probe_interval,
        "audit_interval_seconds": live.audit_interval,
        "exposure_resolution_seconds": live.probe_interval,
        "exposure_note": EXPOSURE_NOTE,
        "load_wall_seconds": round(about["load_wall_seconds"], 3),
        "interrupted_shift": about["interrupted_shift"],
        "request_statistics": list(FILES.values()),
        "reason": reason,
        "rollback_problems": problems,
    }

"""pytest plugin: safeguard experiments inside a project's own test suite.

Installing the harness registers it (the `pytest11` entry point):

- `pytest --safeguard-experiment experiments/x.toml` adds one test item per gate of the
  file (marked `safeguard_gate`, so `-m safeguard_gate` runs only those). The experiment
  runs once, as `harness check` runs it (batches until every gate is settled), when the
  first of its gates runs; each item passes or fails with its gate.
- the `safeguard_run` fixture runs an experiment from a test, with overrides, and returns
  its summary for the test to assert on.

Without the option nothing is collected, and nothing of the harness is imported until a
gate or the fixture runs, so the plugin costs other test runs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .experiment.model import Experiment
    from .pipeline.check import CheckResult


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("safeguard", "safeguard harness experiments")
    group.addoption(
        "--safeguard-experiment",
        action="append",
        default=[],
        dest="safeguard_experiments",
        metavar="EXPERIMENT.toml",
        help="add one test per gate of this experiment file (repeatable)",
    )
    group.addoption(
        "--safeguard-set",
        action="append",
        default=[],
        dest="safeguard_overrides",
        metavar="dotted.key=value",
        help="override a key of every --safeguard-experiment file (repeatable)",
    )
    group.addoption(
        "--safeguard-out",
        dest="safeguard_out",
        metavar="DIR",
        help="folder for the experiments' run folders (default: results/ in the rootdir)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "safeguard_gate: a gate of an experiment given with --safeguard-experiment"
    )


@pytest.hookimpl(tryfirst=True)  # before -k and -m deselect, so they apply to gates too
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    for name in config.getoption("safeguard_experiments"):
        path = config.invocation_params.dir / name
        items.extend(ExperimentFile.from_parent(session, path=path).collect())


class GateFailed(Exception):
    """A gate that did not hold: reported as its one-line verdict, without a traceback."""


class ExperimentFile(pytest.File):
    """An experiment file given with --safeguard-experiment: one item per gate."""

    experiment: Experiment
    _check: CheckResult | None = None

    def collect(self) -> Iterator[GateItem]:
        from .errors import BadInput
        from .experiment.model import load

        try:
            self.experiment = load(self.path, self.config.getoption("safeguard_overrides"))
            if self.experiment.estimate.method == "importance":
                from .estimate.gates import refuse_unweighted

                refuse_unweighted(self.experiment)
        except BadInput as exc:
            raise pytest.UsageError(f"--safeguard-experiment: {exc}") from None
        for index, gate in enumerate(self.experiment.gates):
            yield GateItem.from_parent(self, name=gate.label, index=index)

    def check(self) -> CheckResult:
        """The experiment's check, run once for all of its gates."""
        if self._check is None:
            from .pipeline.check import run_check
            from .run_folder import RunFolder

            out = self.config.getoption("safeguard_out")
            base = Path(out) if out else self.config.rootpath / "results"
            folder = RunFolder.create(self.experiment.experiment.name, None, base=str(base))
            self._check = run_check(self.experiment, folder)
        return self._check


class GateItem(pytest.Item):
    def __init__(self, *, index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index = index
        self.add_marker("safeguard_gate")

    def runtest(self) -> None:
        check = self.parent.check()
        verdict = check.verdicts.get(self.index)
        where = f"run folder: {check.folder.path}"
        if verdict is None:
            raise GateFailed(f"interrupted before the gate was settled; {where}")
        self.user_properties.append(("verdict", verdict.describe()))
        if not verdict.passed:
            raise GateFailed(f"{verdict.describe()}; {where}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:
        if isinstance(excinfo.value, GateFailed):
            return f"gate failed: {excinfo.value}"
        return super().repr_failure(excinfo, style)


@dataclass(frozen=True)
class ExperimentRun:
    """What `safeguard_run` returns: the run's summary.json and its folder."""

    summary: dict
    folder: Path

    @property
    def metrics(self) -> dict:
        """The metrics gates read: an importance run's are its weighted rates."""
        from .metrics import rate_metrics

        return rate_metrics(self.summary)

    def metric(self, path: str) -> Any:
        """A metric by its gate path, e.g. 'protected_slip_through.rate'."""
        from .metrics import lookup

        return lookup(self.metrics, path)

    def interval(self, path: str) -> tuple[float, float] | None:
        """The 95% interval of a rate path, e.g. 'protected_slip_through.rate'."""
        from .metrics import interval

        return interval(self.metrics, path)


@pytest.fixture
def safeguard_run(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., ExperimentRun]:
    """Run an experiment file (relative paths from the rootdir) with `--set`-style
    overrides in the simulator; the run folder goes under the test's tmp_path.

        def test_escalation_holds(safeguard_run):
            run = safeguard_run("experiments/x.toml", "safeguards.rate_limit.enabled=false",
                                replications=200)
            assert run.interval("protected_slip_through.rate")[1] < 0.01
    """

    def run(
        experiment: str | Path,
        *overrides: str,
        replications: int | None = None,
        seed: int | None = None,
        jobs: int | None = None,
    ) -> ExperimentRun:
        from .errors import BadInput
        from .experiment.model import load
        from .pipeline.run import run_sim
        from .run_folder import RunFolder

        extra = [*overrides]
        if replications is not None:
            extra.append(f"experiment.replications={replications}")
        if seed is not None:
            extra.append(f"experiment.seed={seed}")
        try:
            loaded = load(request.config.rootpath / experiment, extra)
        except BadInput as exc:
            pytest.fail(str(exc), pytrace=False)
        folder = RunFolder.create(loaded.experiment.name, None, base=str(tmp_path))
        if loaded.estimate.method == "importance":
            from .estimate.report import run_importance

            try:
                return ExperimentRun(run_importance(loaded, folder, jobs=jobs), folder.path)
            except BadInput as exc:
                pytest.fail(str(exc), pytrace=False)
        return ExperimentRun(run_sim(loaded, folder, jobs=jobs), folder.path)

    return run

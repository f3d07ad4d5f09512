"""Where the commands write for people: a terminal, or a CI log.

In a terminal, progress is a live bar and long lines wrap to the window. In a log (stdout
or stderr not a terminal) there is no window: a bar would print nothing until the end, and
lines wrapped at rich's default 80 columns split gate values in two. So in a log, lines are
never wrapped, and progress is a plain line when a task starts, every `PROGRESS_SECONDS`
(environment variable `HARNESS_PROGRESS_SECONDS`, default 10) and when it ends.
"""

from __future__ import annotations

import os
import threading
import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

PROGRESS_VARIABLE = "HARNESS_PROGRESS_SECONDS"
PROGRESS_SECONDS = 10.0
LOG_WIDTH = 200  # columns of a table in a log: wide enough that no value wraps


def terminal(stderr: bool = False) -> Console:
    """A console on stdout (or stderr) that never hard-wraps when it is not a terminal."""
    console = Console(stderr=stderr)
    if console.is_terminal:
        return console
    width = None if "COLUMNS" in os.environ else LOG_WIDTH
    return Console(stderr=stderr, soft_wrap=True, width=width)


def progress_bar(console: Console) -> Progress:
    """A live bar in a terminal; plain progress lines in a log."""
    if not console.is_terminal:
        return ProgressLines(console, progress_interval())
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def progress_interval() -> float:
    """Seconds between progress lines in a log."""
    try:
        return max(0.1, float(os.environ.get(PROGRESS_VARIABLE, PROGRESS_SECONDS)))
    except ValueError:
        return PROGRESS_SECONDS


class ProgressLines(Progress):
    """rich's task bookkeeping without its live display: one plain line per running task
    when it starts, every `interval` seconds, and when it finishes."""

    def __init__(self, console: Console, interval: float) -> None:
        super().__init__(console=console, disable=True)
        self._out = console
        self._interval = interval
        self._stopped = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="progress-lines", daemon=True)
        self._said: set[TaskID] = set()  # tasks whose start was said
        self._last = time.monotonic()  # when running tasks were last said
        self._ended: set[TaskID] = set()  # tasks whose end was said

    def start(self) -> None:
        super().start()
        self._ticker.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._ticker.is_alive():
            self._ticker.join(timeout=2 * self._interval)
        self._say(every=True)
        super().stop()

    def _tick(self) -> None:
        while not self._stopped.wait(min(1.0, self._interval)):
            self._say(every=self._due())

    def _due(self) -> bool:
        now = time.monotonic()
        due = now - self._last >= self._interval
        if due:
            self._last = now
        return due

    def _say(self, every: bool) -> None:
        """A line for each task that started or ended since the last call, and, when
        `every`, one for each task still running."""
        with self._lock:
            tasks = list(self._tasks.values())
        for task in tasks:
            if task.start_time is None or task.id in self._ended:
                continue
            if task.finished:
                self._ended.add(task.id)
            elif task.id in self._said and not every:
                continue
            self._said.add(task.id)
            self._out.print(_line(task), highlight=False, markup=False)


def _line(task: Task) -> str:
    """`name: 120/1,000 (12%), 0:00:14` (no total when a task has none)."""
    done = int(task.completed)
    elapsed = time.strftime("%H:%M:%S", time.gmtime(task.elapsed or 0.0))
    if task.total is None:
        return f"{task.description}: {done:,} done, {elapsed}"
    share = f" ({task.percentage:.0f}%)" if task.total else ""
    state = " done" if task.finished else ""
    return f"{task.description}: {done:,}/{int(task.total):,}{share}{state}, {elapsed}"

"""The served target the harness starts itself: `harness serve` on a free loopback port with
its SQLite store in the run folder, so a restart fault resumes the same state on the same
port. Its processes never outlive the run: each is stopped at the end, and on Linux it is
also told to stop if the harness process dies without stopping it.

A restart fault's downtime is the fault's duration, not the time a new process takes to
start (seconds of imports on a busy machine, which at time scale 600 are hours of shift):
with restarts to come, a standby process waits with its imports done, and serves the store
as soon as it is told to, after the process before it was killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ...errors import BadInput
from ..client import ADMIN_TOKEN_VARIABLE

STARTUP_SECONDS = 120.0  # serving imports 0.7 s of CPU, over 10 s of wall time at load 13
STOP_SECONDS = 10.0
SERVE_WHEN_TOLD = (
    "import sys\n"
    "from harness.cli import main\n"
    "import harness.world.environment, targets.moderation.api, uvicorn\n"  # what serving imports
    "if sys.stdin.readline() != 'serve\\n':\n"  # not told, but the harness is gone
    "    sys.exit(0)\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def die_with_parent() -> None:
    """In a child process (before exec): get SIGTERM when the parent dies (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def child(
    command: list[str],
    log: Path,
    stdin: int = subprocess.DEVNULL,
    env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """A process of the run: in its own session (a Ctrl-C at the terminal reaches only the
    harness, which stops its children in order), output appended to `log`; `env` is added
    to the harness's environment."""
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            env=None if env is None else {**os.environ, **env},
            stdin=stdin,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )


def stop(process: subprocess.Popen) -> None:
    """Ask a child to stop (SIGINT), then kill it if it does not."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_SECONDS)


class ServerProcess:
    def __init__(
        self,
        experiment_file: Path,
        store: Path,
        log: Path,
        time_scale: float,
        admin_token: str,
        *,
        restarts: bool = False,  # restart faults to come: keep a standby process
    ) -> None:
        self.experiment_file = experiment_file
        self.store = store
        self.log = log
        self.time_scale = time_scale
        self.admin_token = admin_token
        self.restarts = restarts
        self.port = 0
        self.url = ""
        self.process: subprocess.Popen | None = None
        self.standby: subprocess.Popen | None = None

    def start(self) -> str:
        """Serve the experiment (the first time) or resume the store (after a kill) and
        wait until it listens; returns its base URL."""
        process, self.standby = self.standby or self._spawn(), None
        offset = self.log.stat().st_size if self.log.exists() else 0
        with contextlib.suppress(OSError):  # it died waiting: the banner check says why
            assert process.stdin is not None
            process.stdin.write(b"serve\n")
            process.stdin.close()
        self.process = process
        self.url = self._wait_for_banner(offset)
        self.port = int(self.url.rsplit(":", 1)[1])
        if self.restarts:
            self.standby = self._spawn()
        return self.url

    def kill(self) -> None:
        """The restart fault's first half: the process dies (SIGKILL, like a crash)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(STOP_SECONDS)

    def stop(self, at_once: bool = False) -> None:
        """Ask the target to stop (SIGINT), or kill it `at_once` (its store survives)."""
        if self.standby is not None:
            self.standby.kill()  # it has nothing to finish: it never served
            self.standby.wait(STOP_SECONDS)
        if at_once:
            self.kill()
        elif self.process is not None:
            stop(self.process)

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def _spawn(self) -> subprocess.Popen:
        """A `harness serve` process that imports what it needs, then waits to be told to
        serve: the experiment the first time, the store on the same port after that."""
        command = [sys.executable, "-c", SERVE_WHEN_TOLD, "serve"]
        if not self.port:
            command.append(str(self.experiment_file))
        command += [
            "--store",
            f"sqlite:{self.store}",
            "--port",
            str(self.port),
            "--time-scale",
            repr(self.time_scale),
        ]
        # by environment, not on the command line, which every user of the machine can read
        token = {ADMIN_TOKEN_VARIABLE: self.admin_token}
        return child(command, self.log, stdin=subprocess.PIPE, env=token)

    def _wait_for_banner(self, offset: int) -> str:
        deadline = time.monotonic() + STARTUP_SECONDS
        assert self.process is not None
        while time.monotonic() < deadline:
            text = self.log.read_bytes()[offset:].decode("utf-8", "replace")
            for line in text.splitlines():
                if line.startswith("serving "):
                    return line.split(" at ", 1)[1].split()[0]
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        last = text.strip().splitlines()[-1:] or ["no output"]
        raise BadInput(f"harness serve did not start: {last[0]} (see {self.log})")

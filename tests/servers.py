"""Serving the moderation target in tests: a tiny service, an in-thread server on a free
loopback port, and a real `harness serve` process. Everything started here is stopped on
the way out."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from conftest import ROOT
from test_core import ACCOUNTS, OPERATORS

from harness.cli.serve import http_server, listen
from targets.moderation import RestoreConfig, SafeguardsConfig, ServiceSpec
from targets.moderation.api import ServedTarget
from targets.moderation.store import MemoryStore, Store

ADMIN = "test-admin-token"
STARTUP_SECONDS = 120  # a real `harness serve` imports for over 10 s of wall time at load 13


def tiny_spec(**safeguards) -> ServiceSpec:
    """Three accounts (1 protected, 2 high-reach) and operators r1, r2, r3 (leaves at
    3600 s) and s1 (senior), with the given safeguard settings."""
    return ServiceSpec(
        {a.id: a for a in ACCOUNTS},
        tuple(OPERATORS),
        SafeguardsConfig.model_validate(safeguards),
        RestoreConfig(),
        seed=1,
    )


def served(
    spec: ServiceSpec | None = None, *, time_scale: float = 0.0, store: Store | None = None
) -> ServedTarget:
    """A served target (manual clock by default) with the test admin token."""
    return ServedTarget.open(
        store or MemoryStore(),
        lambda: spec or tiny_spec(),
        time_scale=time_scale,
        admin_token=ADMIN,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def running(target: ServedTarget, openapi: Callable[[dict], None] | None = None) -> Iterator[str]:
    """Serve `target` from a thread on a free 127.0.0.1 port; yields the base URL.
    `openapi` may edit the OpenAPI document the service publishes."""
    sock = listen("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = http_server(target)
    if openapi is not None:
        openapi(server.config.app.openapi())
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the in-thread server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def harness_serve(*args: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """Run `harness serve ARGS --port 0` as a process; yields it and its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "serve", *args, "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(process, lines), daemon=True).start()
    try:
        yield process, _wait_for_url(process, lines)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _pump(process: subprocess.Popen, lines: queue.Queue[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line)


def _wait_for_url(process: subprocess.Popen, lines: queue.Queue[str]) -> str:
    seen = []
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        if line.startswith("serving "):
            return line.split(" at ", 1)[1].split()[0]
    raise RuntimeError("harness serve did not start:\n" + "".join(seen))

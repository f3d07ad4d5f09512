"""`harness serve [EXPERIMENT.toml]`: the moderation target as an HTTP service.

The experiment seeds the population, the operators (with unguessable tokens) and the
safeguards; the service then runs until stopped, in memory or durably in SQLite.
"""

from __future__ import annotations

import argparse
import secrets
import socket
from typing import TYPE_CHECKING, Any

from targets.moderation import ServiceSpec
from targets.moderation.store import MemoryStore, SqliteStore, Store, StoreError

from ..drivers.client import ADMIN_TOKEN_VARIABLE, admin_token
from ..errors import BadInput
from ..experiment.model import Experiment, from_raw, load
from .common import add_override_arguments, port, scale

if TYPE_CHECKING:
    import uvicorn

    from targets.moderation.api import ServedTarget

DEFAULT: dict[str, Any] = {
    "experiment": {
        "name": "serve-default",
        "description": "a small service to try the API on",
        "seed": 1,
    },
    "population": {"accounts": 200, "protected": 5},
    "operators": [
        {"persona": "diligent", "count": 4},
        {"persona": "diligent", "role": "senior", "count": 1},
    ],
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the moderation target over HTTP",
        description="Serve the moderation target over HTTP, seeded from the experiment's "
        "population, operators and safeguards (or a small built-in experiment). The API "
        "is described at /openapi.json; operators' credentials are at /admin/operators "
        "behind the admin token. Runs until stopped (Ctrl-C).",
    )
    p.add_argument(
        "experiment",
        nargs="?",
        metavar="EXPERIMENT.toml",
        help="the experiment file (default: a small built-in one; with a store that "
        "already holds a service: resume it)",
    )
    add_override_arguments(p, out=False)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    p.add_argument(
        "--port", type=port, default=8000, help="port (default 8000; 0 picks a free one)"
    )
    p.add_argument(
        "--store",
        default="memory",
        metavar="memory|sqlite:PATH",
        help="memory (default) or sqlite:PATH: every answered write survives a kill and a "
        "restart on the same file resumes the service",
    )
    p.add_argument(
        "--time-scale",
        type=scale,
        default=1.0,
        metavar="X",
        help="simulated seconds per wall second (default 1; 600: a wall second is ten "
        "minutes); 0: a manual clock that moves only through POST /admin/clock",
    )
    p.add_argument(
        "--admin-token",
        metavar="TOKEN",
        help=f"the admin token (default: the {ADMIN_TOKEN_VARIABLE} environment variable, "
        "else generated and printed); a SQLite store keeps only a digest of it, so resuming "
        "one needs the token it was started with",
    )
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    if args.experiment is None:
        experiment = from_raw(DEFAULT, "the built-in experiment", args.overrides)
        label = None
    else:
        experiment = load(args.experiment, args.overrides)
        label = experiment.to_toml()
    store = open_store(args.store)
    from targets.moderation.api import ServedTarget

    try:
        served = ServedTarget.open(
            store,
            lambda: served_spec(experiment),
            time_scale=args.time_scale,
            admin_token=admin_token(args.admin_token),
            name=experiment.experiment.name,
            label=label,
        )
    except StoreError as exc:
        store.close()
        raise BadInput(str(exc)) from None
    sock = listen(args.host, args.port)
    url = _url(sock)
    print(_banner(served, url, given=admin_token(args.admin_token) is not None), flush=True)
    try:
        http_server(served).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
    print("stopped", flush=True)
    return 0


def http_server(served: ServedTarget) -> uvicorn.Server:
    """The HTTP server every served target runs in: one process, one event loop (the core
    is a single writer), no access log, bounded requests and connections."""
    import uvicorn

    from targets.moderation.api import create_app
    from targets.moderation.api.connections import IDLE_SECONDS, BoundedHttp

    config = uvicorn.Config(
        create_app(served),
        http=BoundedHttp,
        timeout_keep_alive=IDLE_SECONDS,
        log_level="warning",
        access_log=False,
    )
    return uvicorn.Server(config)


def served_spec(experiment: Experiment) -> ServiceSpec:
    """The experiment's service, with operator tokens no one can derive from the file."""
    from ..world.environment import Environment

    env = Environment.build(experiment, secret=secrets.token_hex(16))
    return env.target_spec(env.target_seed(0))


def open_store(text: str) -> Store:
    if text == "memory":
        return MemoryStore()
    kind, _, path = text.partition(":")
    if kind != "sqlite" or not path:
        raise BadInput(f"--store {text!r}: expected memory or sqlite:PATH")
    try:
        return SqliteStore(path)
    except StoreError as exc:
        raise BadInput(f"--store: {exc}") from None


def listen(host: str, port: int) -> socket.socket:
    """A listening socket (so that --port 0 can report the port it got, and clients that
    connect before the server runs wait in the backlog)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        raise BadInput(f"--host {host} --port {port}: cannot listen there ({exc})") from None
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _banner(served: ServedTarget, url: str, given: bool) -> str:
    scale = served.scale
    clock = (
        "manual (moves only through POST /admin/clock)"
        if served.manual
        else f"{scale:g} simulated second(s) per wall second"
    )
    resumed = (
        f", resumed: {served.covered:,} commands from a snapshot, {served.replayed:,} "
        "journaled commands replayed"
        if served.replayed or served.covered
        else ""
    )
    token = "as given" if given else served.admin_token
    show = "$ADMIN" if given else served.admin_token
    return "\n".join(
        [
            f"serving {served.name} at {url} (store: {served.store.describe()}{resumed})",
            f"clock: {clock}; now at {served.clock.now():,.0f}s of the shift",
            f"API: {url}/docs (OpenAPI document: {url}/openapi.json)",
            f"admin token: {token}",
            f"operators' credentials: curl -s -H 'Authorization: Bearer {show}' "
            f"{url}/admin/operators",
            "Ctrl-C stops the service.",
        ]
    )

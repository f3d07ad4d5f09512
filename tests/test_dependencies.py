"""Dependencies that could break the harness without a change to its code: the private
Locust code live mode relies on, the constraints CI installs with, the one version."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import tomllib

import pytest
from conftest import ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import harness

# sha256 of the source of the private Locust code live mode relies on, as in Locust 2.47.0
GUARDED = {
    # copied into PinnedDispatcher._add_users_on_workers, with the worker chosen per class
    "locust.dispatch.UsersDispatcher._add_users_on_workers": (
        "84eafeeec8a68ea49326878103f7191a20f410b90e75adf4b5f204edc43adae1"
    ),
    # sets up the nine private attributes that copy reads and writes
    "locust.dispatch.UsersDispatcher.__init__": (
        "42f485d826493bf46d7926acc12e76d73c939c110c6d105051e064dd8b18ce43"
    ),
    # called by run_worker to send a worker's last statistics before harness:done
    "locust.runners.WorkerRunner._send_stats": (
        "edb2bc9d1bd5847f4440c0f39cfef6f4196c8955742659b3931770c111441952"
    ),
}

# Locust patches the standard library with gevent when imported, so it is looked at in a
# process of its own: the digests of the guarded code, and where PinnedDispatcher puts
# two sessions each of five operators on three workers.
PROBE = """
import locust
import hashlib, importlib, inspect, json, sys
from locust import User, constant, task
from locust.runners import WorkerNode
from harness.drivers.live.cluster import PinnedDispatcher

def digest(name):
    module, cls, method = name.rsplit(".", 2)
    code = getattr(getattr(importlib.import_module(module), cls), method)
    return hashlib.sha256(inspect.getsource(code).encode()).hexdigest()

classes = [
    type(f"op{i}", (User,), {"wait_time": constant(1), "work": task(lambda self: None)})
    for i in range(5)
]
dispatcher = PinnedDispatcher([WorkerNode(f"w{i}") for i in range(3)], classes)
dispatcher.new_dispatch(target_user_count=10, spawn_rate=10)
for placed in dispatcher:
    pass
print(json.dumps({
    "version": locust.__version__,
    "digests": {name: digest(name) for name in sys.argv[1:]},
    "placed": placed,
}))
"""


@pytest.fixture(scope="module")
def locust_probe() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *GUARDED],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_private_locust_code_live_mode_relies_on_is_unchanged(locust_probe):
    changed = [name for name, digest in GUARDED.items() if locust_probe["digests"][name] != digest]
    assert not changed, (
        f"Locust {locust_probe['version']}: {', '.join(changed)} differs from Locust 2.47.0's: "
        "compare it with PinnedDispatcher and run_worker in harness/drivers/live/cluster.py, "
        "adapt them, then record the new digests in GUARDED"
    )


def test_the_pinned_dispatcher_keeps_each_operators_sessions_on_one_worker(locust_probe):
    placed = locust_probe["placed"]
    for name in ("op0", "op1", "op2", "op3", "op4"):
        assert sorted(users[name] for users in placed.values()) == [0, 0, 2], placed
    assert sorted(sum(users.values()) for users in placed.values()) == [2, 4, 4]


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def constraints() -> dict[str, str]:
    """The constraints file: name -> pinned version."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not name==version"
            pins[canonicalize_name(name)] = version
    return pins


def test_the_version_is_written_once():
    assert "version" in project()["dynamic"] and "version" not in project()
    assert importlib.metadata.version("safeguard-harness") == harness.__version__


def test_the_constraints_pin_every_dependency_within_its_range_and_not_the_project():
    pins = constraints()
    assert canonicalize_name("safeguard-harness") not in pins
    requirements = [Requirement(r) for r in project()["dependencies"]]
    for extra in ("test", "dask"):
        requirements += [Requirement(r) for r in project()["optional-dependencies"][extra]]
    for requirement in requirements:
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"constraints.txt lacks {requirement.name}: refresh it"
        assert requirement.specifier.contains(pins[name]), (requirement, pins[name])

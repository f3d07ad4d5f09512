"""The served target's bounds: one server per store, journals that cannot be replayed, the
HTTP layer's limits, credentials kept out of the store and off the command line, reserved
audit names, strict path ids, a bounded clock and an OpenAPI document that says what each
operation answers. The HTTP checks run against a real `harness serve` on 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import sqlite3
import stat
import subprocess
import sys
import threading

import pytest
import requests
from conftest import ROOT, small_raw
from servers import ADMIN, bearer, harness_serve, served, tiny_spec

from harness.cli import main
from harness.drivers.live.server import ServerProcess
from targets.moderation import Conflict
from targets.moderation import ModerationService as Core
from targets.moderation import service as core_module
from targets.moderation.api import served as served_module
from targets.moderation.api.connections import MAX_HEAD, REQUEST_SECONDS
from targets.moderation.store import MemoryStore, SqliteStore

# --- one server per store; journals that cannot be replayed -------------------------------


def test_a_second_server_on_a_store_in_use_refuses_to_start(tmp_path):
    store = f"sqlite:{tmp_path / 'state.db'}"
    with harness_serve("--store", store, "--admin-token", ADMIN, "--time-scale", "0"):
        second = subprocess.run(
            [sys.executable, "-m", "harness", "serve", "--store", store, "--port", "0"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert second.returncode == 2
    assert second.stderr.count("\n") == 1 and "in use by another running server" in second.stderr
    assert "Serving" not in second.stdout and "serving" not in second.stdout


def stored_service(path):
    """A SQLite store holding a service with three journaled commands; returns the tokens."""
    store = SqliteStore(path)
    target = served(tiny_spec(), store=store)
    tokens = {op.id: op.token for op in target.spec.operators}
    report = target.call(Core.file_report, "user", 3)
    target.call(Core.claim, tokens["r1"])
    target.call(Core.decide, tokens["r1"], report, "approve", "suspend")
    store.close()
    return tokens


@pytest.mark.parametrize(
    "edit, says",
    [
        ("UPDATE journal SET arguments = '[[\"x\"],{}]' WHERE seq = 2", "journal entry 2 (claim"),
        ("UPDATE journal SET arguments = 'not json' WHERE seq = 3", "journal entry 3 cannot be"),
        ("UPDATE journal SET command = 'format_disk' WHERE seq = 1", "journal entry 1 (format"),
    ],
)
def test_a_journal_that_cannot_be_replayed_is_one_line_naming_the_store_and_entry(
    edit, says, tmp_path, capsys
):
    path = tmp_path / "state.db"
    stored_service(path)
    with sqlite3.connect(path) as db:
        db.execute(edit)
    assert main(["serve", "--store", f"sqlite:{path}", "--admin-token", ADMIN]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and says in err


def test_two_servers_writing_one_journal_is_refused_on_restart_in_one_line(tmp_path, capsys):
    """What a shared store used to come to: another service's commands in the journal."""
    path = tmp_path / "state.db"
    tokens = stored_service(path)
    with sqlite3.connect(path) as db:  # r2 decides r1's claim: refused on replay
        args = json.dumps([[tokens["r2"], 1, "approve", "suspend", None], {}])
        db.execute("INSERT INTO journal (at, command, arguments) VALUES (0, 'decide', ?)", (args,))
    assert main(["serve", "--store", f"sqlite:{path}", "--admin-token", ADMIN]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "journal entry 4 (decide at 0s) cannot be replayed" in err


# --- the HTTP layer's bounds --------------------------------------------------------------


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """True if the server closes `sock` within `seconds` (it reads nothing from it)."""
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True


def test_http_bounds_on_a_real_server(tmp_path):
    store = tmp_path / "state.db"
    args = ("--store", f"sqlite:{store}", "--admin-token", ADMIN, "--time-scale", "0")
    with harness_serve(*args) as (_, url):
        host, port = url.removeprefix("http://").split(":")
        port = int(port)

        # heads over the limit are refused, not buffered
        big = requests.get(f"{url}/health", headers={"X-Big": "a" * (MAX_HEAD + 1)}, timeout=10)
        assert big.status_code == 431 and big.json()["error"] == "too_large"

        # a chunked body over 64 KiB is a 413 like a declared one
        def chunks():
            for _ in range(80):
                yield b" " * 1024

        chunked = requests.post(f"{url}/reports", data=chunks(), timeout=10)
        assert chunked.status_code == 413 and chunked.json()["error"] == "too_large"
        small = requests.post(
            f"{url}/reports",
            data=iter([b'{"account_id":', b" 1}"]),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert small.status_code == 201

        # an idle connection and one that trickles its request are closed
        idle = socket.create_connection((host, port))
        slow = socket.create_connection((host, port))
        stop = threading.Event()

        def trickle():
            for byte in b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
                if stop.wait(1.0):
                    return
                try:
                    slow.send(bytes([byte]))
                except OSError:
                    return

        threading.Thread(target=trickle, daemon=True).start()
        try:
            assert closed_within(idle, REQUEST_SECONDS + 5)
            assert closed_within(slow, 5)
        finally:
            stop.set()
            idle.close()
            slow.close()

        # claims on an empty queue change nothing and write nothing
        credentials = requests.get(f"{url}/admin/operators", headers=bearer(ADMIN)).json()
        me = bearer(credentials[0]["token"])
        requests.post(f"{url}/queue/claim", headers=me, timeout=10)  # takes the one report
        before = journal_rows(store)
        for n in range(30):
            keyed = {**me, "Idempotency-Key": f"k{n}"} if n % 2 else me
            answer = requests.post(f"{url}/queue/claim", headers=keyed, timeout=10)
            assert answer.json() == {"report": None}
        assert journal_rows(store) == before


def journal_rows(path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute("SELECT count(*) FROM journal").fetchone()[0]


def test_the_idempotency_cache_forgets_its_oldest_keys(monkeypatch):
    monkeypatch.setattr(core_module, "IDEMPOTENCY_KEYS", 10)
    target = served()
    first = target.call(Core.file_report, "user", 1, idempotency_key="k0")
    for n in range(1, 20):
        target.call(Core.file_report, "user", 1, idempotency_key=f"k{n}")
    assert len(target.service._idempotent) == 10
    assert target.call(Core.file_report, "user", 1, idempotency_key="k19") == 20
    assert target.call(Core.file_report, "user", 1, idempotency_key="k0") != first


def play(target, rounds: int) -> None:
    """Reports, claims, approvals needing a second approver, restores: a varied journal."""
    tokens = {op.id: op.token for op in target.spec.operators}
    for n in range(rounds):
        target.call(Core.file_report, "user", 1 + n % 3, n % 2 == 0)
        who = ("r1", "r2", "s1")[n % 3]
        view = target.call(Core.claim, tokens[who])
        if view is not None:
            with contextlib.suppress(Conflict):  # the account's earlier action still pends
                target.call(Core.decide, tokens[who], view.id, "approve", "suspend")
        target.call(Core.claim, tokens["r3"], idempotency_key=f"empty-{n}")
        target.call(Core.restore, tokens["s1"], 1 + n % 3, idempotency_key=f"r{n}")
        target.advance(target.clock.now() + 7)


def test_a_restart_replays_at_most_one_snapshot_interval(monkeypatch, tmp_path):
    """The journal is replaced by a snapshot every SNAPSHOT_EVERY commands; what a restart
    rebuilds is the same service as one that never stopped."""
    monkeypatch.setattr(served_module, "SNAPSHOT_EVERY", 25)
    spec = tiny_spec(two_person_rule={"enabled": True}, delayed_action={"enabled": True})
    path = tmp_path / "state.db"
    durable = served(spec, store=SqliteStore(path))
    play(durable, 40)
    durable.store.close()
    resumed = served(spec, store=SqliteStore(path))
    assert resumed.replayed < 25 and resumed.covered > 0
    twin = served(durable.spec, store=MemoryStore())
    play(twin, 40)
    assert resumed.service.audit() == twin.service.audit()
    play(resumed, 10)
    play(twin, 10)
    assert resumed.service.audit() == twin.service.audit()
    resumed.store.close()


# --- credentials and audit names ----------------------------------------------------------


def test_the_store_holds_no_credential_and_only_its_owner_reads_it(monkeypatch, tmp_path):
    monkeypatch.setattr(served_module, "SNAPSHOT_EVERY", 5)
    path = tmp_path / "state.db"
    store = SqliteStore(path)
    target = served(tiny_spec(), store=store)
    play(target, 4)  # past a snapshot, and a journal after it
    secrets = [ADMIN] + [op.token for op in target.spec.operators]
    files = [f for f in tmp_path.iterdir() if f.name.startswith("state.db")]
    assert len(files) >= 2  # the database and its write-ahead log
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
        data = file.read_bytes()
        assert not [s for s in secrets if s.encode() in data], file
    store.close()


def test_resuming_a_store_needs_its_admin_token(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("HARNESS_ADMIN_TOKEN", raising=False)
    path = tmp_path / "state.db"
    tokens = stored_service(path)
    assert main(["serve", "--store", f"sqlite:{path}"]) == 2
    assert "give the admin token" in capsys.readouterr().err
    assert main(["serve", "--store", f"sqlite:{path}", "--admin-token", "guess"]) == 2
    assert "not the one it was started with" in capsys.readouterr().err
    again = served(store=SqliteStore(path))
    assert {op.id: op.token for op in again.spec.operators} == tokens
    again.store.close()


def test_live_mode_hands_the_admin_token_to_its_server_off_the_command_line(
    write_experiment, tmp_path
):
    token = "a-token-nobody-else-may-read"
    server = ServerProcess(
        write_experiment(small_raw()), tmp_path / "t.sqlite", tmp_path / "t.log", 0.0, token
    )
    url = server.start()
    try:
        with open(f"/proc/{server.pid}/cmdline", "rb") as cmdline:
            assert token.encode() not in cmdline.read()
        assert requests.get(f"{url}/admin/operators", headers=bearer(token)).status_code == 200
        assert token not in (tmp_path / "t.log").read_text()
    finally:
        server.stop()


def post_from(source: str, port: int, path: str, body: dict, headers: dict) -> dict:
    """POST from the given loopback source address (another client on the machine)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request(
            "POST", path, json.dumps(body), {"Content-Type": "application/json", **headers}
        )
        answer = conn.getresponse()
        return {"status": answer.status, **json.loads(answer.read())}
    finally:
        conn.close()


def test_reporters_cannot_take_system_names_and_anonymous_keys_are_per_client():
    with harness_serve("--admin-token", ADMIN, "--time-scale", "0") as (_, url):
        port = int(url.rsplit(":", 1)[1])
        for name in ("restore_monitor", "delay_monitor", "admin", "r1"):
            answer = requests.post(f"{url}/reports", json={"account_id": 1, "reporter": name})
            assert 400 <= answer.status_code < 500 and "reporter" in answer.json()["message"]
        body, key = {"account_id": 1}, {"Idempotency-Key": "same-key"}
        mine = post_from("127.0.0.1", port, "/reports", body, key)
        again = post_from("127.0.0.1", port, "/reports", body, key)
        theirs = post_from("127.0.0.2", port, "/reports", body, key)
        assert mine["status"] == theirs["status"] == 201
        assert again["report_id"] == mine["report_id"] != theirs["report_id"]


# --- smaller things -------------------------------------------------------------------------


def test_path_ids_are_plain_digits():
    with harness_serve("--admin-token", ADMIN, "--time-scale", "0") as (_, url):
        assert requests.get(f"{url}/accounts/1").status_code == 200
        for bad in ("1.0", "+1", "1_000", "%201", "-1", "0x1", "1" * 30):
            answer = requests.get(f"{url}/accounts/{bad}")
            assert 400 <= answer.status_code < 500, bad
            assert answer.json()["error"] in ("invalid_request", "not_found"), bad
        token = requests.get(f"{url}/admin/operators", headers=bearer(ADMIN)).json()[0]["token"]
        answer = requests.post(f"{url}/accounts/+1/restore", headers=bearer(token))
        assert answer.status_code == 422


def test_a_time_scale_beyond_the_bound_is_refused_in_one_line(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--time-scale", "1e307"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--time-scale" in err and "10,000,000" in err
    with pytest.raises(ValueError, match="time scale"):
        served(time_scale=1e307)


def test_the_clock_never_answers_null_at_the_largest_time_scale():
    target = served(time_scale=served_module.MAX_TIME_SCALE)
    target.clock.origin -= 10 * 365 * 86400  # ten years on
    from fastapi.testclient import TestClient

    from targets.moderation.api import create_app

    now = TestClient(create_app(target)).get("/clock").json()["now"]
    assert isinstance(now, float) and now > 0


def test_the_openapi_document_says_what_each_operation_answers():
    from targets.moderation.api import create_app

    document = create_app(served()).openapi()
    operations = [
        (path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
    ]
    ids = [op["operationId"] for _, _, op in operations]
    assert len(set(ids)) == len(ids) and "decide" in ids and "file_report" in ids
    assert all(i.isidentifier() and not i.endswith(("_get", "_post")) for i in ids)
    for path, method, op in operations:
        if "requestBody" in op:
            assert "400" in op["responses"], (method, path)
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            name = schema.get("$ref", "").rsplit("/", 1)[-1]
            if name:
                assert document["components"]["schemas"][name].get("examples"), name
    health = document["paths"]["/health"]["get"]["responses"]
    assert not [code for code in health if code.startswith("4")]


def test_the_documentation_states_the_bounds():
    page = (ROOT / "docs" / "served-target.md").read_text()
    assert f"{MAX_HEAD // 1024} KiB get 431" in page and f"within {REQUEST_SECONDS:g} s" in page
    assert f"{core_module.IDEMPOTENCY_KEYS:,}" in page
    assert f"{served_module.SNAPSHOT_EVERY:,}" in page

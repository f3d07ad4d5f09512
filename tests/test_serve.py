"""`harness serve` as a real process: the incident experiment over HTTP, durability of the
SQLite store across kill -9, and bad input."""

from __future__ import annotations

import threading

import pytest
import requests
from conftest import EXPERIMENTS, small_raw
from servers import ADMIN, harness_serve, served, tiny_spec

from harness.cli import main
from harness.drivers.client import HttpTarget, Indeterminate
from targets.moderation import AuditEntry
from targets.moderation.store import SqliteStore


def test_serve_the_incident_experiment_and_watch_a_protected_account_go_down_and_come_back():
    incident = str(EXPERIMENTS / "incident-2017.toml")
    with harness_serve(incident, "--time-scale", "0", "--admin-token", ADMIN) as (_, url):
        admin = {"Authorization": f"Bearer {ADMIN}"}
        tokens = {
            o["id"]: o["token"]
            for o in requests.get(f"{url}/admin/operators", headers=admin).json()
        }
        assert len(tokens) == 13 and all(len(t) == 32 for t in tokens.values())
        me = {"Authorization": f"Bearer {tokens['r12']}"}  # the departing contractor
        filed = requests.post(f"{url}/reports", json={"account_id": 1})
        assert filed.status_code == 201
        claimed = requests.post(f"{url}/queue/claim", headers=me).json()["report"]
        assert claimed["account_id"] == 1 and claimed["followers"] > 1_000_000
        decided = requests.post(
            f"{url}/reports/{claimed['id']}/decision",
            json={"decision": "approve", "action": "deactivate"},
            headers=me,
        ).json()
        assert decided["status"] == "applied"
        account = requests.get(f"{url}/accounts/1").json()
        assert account["protected"] and account["status"] == "deactivated"
        assert requests.get(f"{url}/clock").json()["next_due"] == 660.0
        requests.post(f"{url}/admin/clock", json={"by": 660}, headers=admin)
        assert requests.get(f"{url}/accounts/1").json()["status"] == "active"


def read_audit(client: HttpTarget) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    while page := client.audit(entries[-1].seq if entries else 0):
        entries += page
    return entries


def test_every_acknowledged_write_survives_kill_9_and_pending_approvals_stay_pending(
    write_experiment, tmp_path
):
    experiment = write_experiment(small_raw(safeguards__two_person_rule__enabled=True))
    args = (str(experiment), "--store", f"sqlite:{tmp_path / 'state.db'}", "--time-scale", "0")
    with harness_serve(*args, "--admin-token", ADMIN) as (process, url):
        client = HttpTarget(url, ADMIN)
        tokens = client.credentials()
        for account in (10, 11, 12):
            client.file_report("user", account)
        for decision in ("approve", "approve", "dismiss"):
            view = client.claim(tokens["r1"])
            action = "suspend" if decision == "approve" else None
            client.decide(tokens["r1"], view.id, decision, action)
        protected = client.file_report("user", 1)
        client.claim(tokens["r2"])
        pending = client.decide(tokens["r2"], protected, "approve", "deactivate")
        assert pending.status == "pending_approval"
        assert client.direct_action(tokens["r3"], 20, "suspend").status == "applied"
        client.set_fault("hr_feed_stale", True)
        client.advance(600.0)
        before = read_audit(client)

        acknowledged: list[int] = []
        enough = threading.Event()

        def write_until_killed() -> None:
            writer = HttpTarget(url, timeout=5)
            for _ in range(2000):
                try:
                    acknowledged.append(writer.file_report("user", 30))
                except Indeterminate:
                    return
                if len(acknowledged) >= 50:
                    enough.set()

        writer = threading.Thread(target=write_until_killed)
        writer.start()
        assert enough.wait(timeout=60)
        process.kill()  # SIGKILL: no chance to flush or close anything
        process.wait(timeout=10)
        writer.join(timeout=30)

    with harness_serve(*args, "--admin-token", ADMIN) as (_, url):
        client = HttpTarget(url, ADMIN)
        after = read_audit(client)
        assert after[: len(before)] == before
        filed = {e.report_id for e in after if e.event == "report_filed"}
        assert set(acknowledged) <= filed and len(acknowledged) >= 50
        assert client.credentials() == tokens
        assert client.clock()["now"] == 600.0
        assert client.faults()["core"] == ["hr_feed_stale"]
        assert [client.account_status(a) for a in (10, 11, 12, 20, 1)] == [
            "suspended",
            "suspended",
            "active",
            "suspended",
            "active",
        ]
        [waiting] = client.pending_approvals(tokens[pending.approver])
        assert (waiting.id, waiting.state) == (pending.pending_id, "awaiting_approval")
        approved = client.second_approve(tokens[pending.approver], pending.pending_id, True)
        assert approved.status == "applied" and client.account_status(1) == "deactivated"


# --- bad input: one line, exit 2, nothing served -----------------------------------------


def test_bad_store_and_missing_file_are_one_line_errors(capsys, tmp_path):
    assert main(["serve", "--store", "redis:x"]) == 2
    assert "--store 'redis:x': expected memory or sqlite:PATH" in capsys.readouterr().err
    assert main(["serve", str(tmp_path / "none.toml")]) == 2
    assert "none.toml: no such file" in capsys.readouterr().err
    assert main(["serve", "--store", f"sqlite:{tmp_path}"]) == 2
    assert "cannot open as a SQLite store" in capsys.readouterr().err


def test_a_busy_port_is_a_one_line_error(capsys):
    from harness.cli.serve import listen

    busy = listen("127.0.0.1", 0)
    try:
        assert main(["serve", "--port", str(busy.getsockname()[1])]) == 2
    finally:
        busy.close()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot listen there" in err


def test_a_store_built_from_other_settings_is_not_resumed_silently(capsys, tmp_path):
    path = tmp_path / "state.db"
    store = SqliteStore(path)
    served(tiny_spec(), store=store)
    store.close()
    incident = str(EXPERIMENTS / "incident-2017.toml")
    assert main(["serve", incident, "--store", f"sqlite:{path}"]) == 2
    assert "holds a service built from other settings" in capsys.readouterr().err


@pytest.mark.parametrize("scale", ["-1", "fast", "inf"])
def test_time_scale_must_be_a_non_negative_number(scale, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--time-scale", scale])
    assert stopped.value.code == 2
    assert "--time-scale" in capsys.readouterr().err

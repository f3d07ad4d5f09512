"""Prometheus metrics of the served target, scraped from a real `harness serve` on
127.0.0.1 and read with prometheus-client's own parser: after known calls, and while a
short live run drives the target."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import requests
from conftest import ROOT
from prometheus_client.parser import text_string_to_metric_families
from servers import ADMIN, harness_serve
from test_live import SMALL_LIVE, requests_by_name

from harness.drivers.client import HttpTarget

DECISION = "/reports/{report_id}/decision"
LIVE_SECONDS = 240  # far above a short live run on a busy machine: a hang fails, not hangs


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of `GET /metrics`, by name and labels (creation times left out)."""
    answer = requests.get(f"{url}/metrics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: dict, name: str, **labels: str) -> float:
    """The sum over every series of `name` that has `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= have)


def test_metrics_count_the_answers_and_read_the_state_of_the_service():
    """A reviewer's approval on a protected account is escalated, the senior's waits for a
    second approver, whose approval takes the account down; a direct action goes through."""
    safeguards = ("protected_list.mode=escalate", "two_person_rule.enabled=true")
    settings = [arg for key in safeguards for arg in ("--set", f"safeguards.{key}")]
    with harness_serve("--time-scale", "0", "--admin-token", ADMIN, *settings) as (_, url):
        client = HttpTarget(url, ADMIN)
        tokens = client.credentials()
        assert client.claim(tokens["r1"]) is None
        report = client.file_report("user", 1)  # account 1 is protected
        assert client.claim(tokens["r1"]).id == report
        escalated = client.decide(tokens["r1"], report, "approve", "deactivate")
        assert escalated.status == "escalated"
        assert client.claim(tokens["s1"]).id == report
        pending = client.decide(tokens["s1"], report, "approve", "deactivate")
        assert pending.status == "pending_approval"
        waiting = scrape(url)
        approved = client.second_approve(tokens[pending.approver], pending.pending_id, True)
        assert approved.status == "applied"
        assert client.direct_action(tokens["s1"], 150, "suspend").status == "applied"
        assert requests.post(f"{url}/reports", json={"account_id": "one"}).status_code == 422
        done = scrape(url)

    assert value(waiting, "moderation_pending_actions", state="awaiting_approval") == 1
    assert value(waiting, "moderation_protected_accounts_down") == 0
    assert value(done, "moderation_pending_actions", state="awaiting_approval") == 0
    assert value(done, "moderation_protected_accounts_down") == 1
    assert value(done, "moderation_protected_accounts") == 5
    assert value(done, "moderation_queue_length", queue="ordinary") == 0
    assert value(done, "moderation_queue_length", queue="senior") == 0

    requests_total = "moderation_requests_total"
    assert value(done, requests_total, method="POST", route=DECISION, status="200") == 2
    assert value(done, requests_total, method="POST", route="/queue/claim", status="200") == 3
    assert value(done, requests_total, method="POST", route="/reports", status="201") == 1
    assert value(done, requests_total, method="POST", route="/reports", status="422") == 1
    assert value(done, requests_total, method="GET", route="/metrics", status="200") == 1
    decisions = "moderation_decisions_total"
    assert value(done, decisions, decision="approve", outcome="escalated") == 1
    assert value(done, decisions, decision="approve", outcome="pending_approval") == 1
    assert total(done, decisions) == 2
    actions = "moderation_actions_total"
    deactivate = {"action": "deactivate"}
    assert value(done, actions, **deactivate, verdict="escalated", safeguard="protected_list") == 1
    assert (
        value(done, actions, **deactivate, verdict="pending_approval", safeguard="two_person_rule")
        == 1
    )
    assert value(done, actions, **deactivate, verdict="applied", safeguard="none") == 1
    assert value(done, actions, action="suspend", verdict="applied", safeguard="none") == 1
    assert total(done, actions) == 4


def test_metrics_can_be_scraped_while_a_live_run_drives_the_target(tmp_path, write_experiment):
    path = write_experiment(SMALL_LIVE)
    out = tmp_path / "live"
    with harness_serve(str(path), "--time-scale", "1800", "--admin-token", ADMIN) as (_, url):
        live = ("--mode", "live", "--target", url, "--replications", "3", "--out", str(out))
        run = subprocess.Popen(
            [sys.executable, "-m", "harness", "run", str(path), *live],
            cwd=ROOT,
            env={**os.environ, "HARNESS_ADMIN_TOKEN": ADMIN},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        during = []
        try:
            deadline = time.monotonic() + LIVE_SECONDS
            while run.poll() is None and time.monotonic() < deadline:
                during.append(total(scrape(url), "moderation_decisions_total"))
                time.sleep(0.1)
        finally:
            if run.poll() is None:
                run.kill()
            _, err = run.communicate(timeout=30)
        after = scrape(url)
    assert run.returncode == 0, err
    summary = json.loads((out / "summary.json").read_text())
    decided = total(after, "moderation_decisions_total")
    assert decided > 0 and any(0 < seen < decided for seen in during)  # watched it grow
    # every decision request Locust sent was answered and counted by the target
    sent = requests_by_name(out)["/reports/{id}/decision"]
    assert total(after, "moderation_requests_total", route=DECISION) == sent
    assert sent == summary["metrics"]["decisions"]

"""The simulator and checker against known answers, determinism, and faults."""

from __future__ import annotations

import pytest
from conftest import small

from harness.backends.replications import run_replications
from harness.checker import check
from harness.drivers.sim import simulate
from harness.history import History
from harness.personas import THERP_DEPENDENCE
from harness.statistics.summary import summarize
from harness.world.environment import Environment


def metrics_of(experiment, jobs: int = 1) -> dict:
    env = Environment.build(experiment)
    result = run_replications(env, experiment.experiment.replications, jobs=jobs)
    return summarize(result.ordered())


def random_approvers(p: float, **overrides):
    """Only random approvers and only protected-account reports: each decision is a
    Bernoulli(p) trial, so the slip rate has a known answer."""
    settings = {"experiment__replications": 30, "experiment__seed": 2017, **overrides}
    return small(
        operators=[{"persona": "random_approver", "approve_probability": p, "count": 6}],
        population__protected_report_share=1.0,
        **settings,
    )


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_slip_rate_of_random_approvers_covers_p(p):
    slip = metrics_of(random_approvers(p))["protected_slip_through"]
    assert slip["trials"] > 5000
    low, high = slip["ci95"]
    assert low <= p <= high


def test_slip_interval_covers_the_true_rate_about_95_percent_of_the_time():
    """Over 40 independent seeds the 95% interval misses p = 0.5 about twice; more than six
    misses would happen by chance less than 0.3% of the time."""
    misses = 0
    for seed in range(40):
        slip = metrics_of(random_approvers(0.5, experiment__replications=4, experiment__seed=seed))[
            "protected_slip_through"
        ]
        low, high = slip["ci95"]
        misses += not low <= 0.5 <= high
    assert misses <= 6


@pytest.mark.parametrize("p", [0.3, 0.6])
def test_two_person_rule_with_zero_dependence_covers_p_squared(p):
    experiment = random_approvers(p, safeguards__two_person_rule__enabled=True)
    slip = metrics_of(experiment)["protected_slip_through"]
    low, high = slip["ci95"]
    assert low <= p * p <= high
    assert not low <= p <= high  # and it is really the product, not p


def test_therp_dependence_levels_match_nureg_formulas():
    n = 0.01
    assert THERP_DEPENDENCE["zero"](n) == n
    assert THERP_DEPENDENCE["low"](n) == pytest.approx(0.0595)
    assert THERP_DEPENDENCE["moderate"](n) == pytest.approx(0.1514, abs=1e-4)
    assert THERP_DEPENDENCE["high"](n) == pytest.approx(0.505)
    assert THERP_DEPENDENCE["complete"](n) == 1.0


def test_complete_dependence_makes_the_second_approver_worthless():
    p = 0.3
    experiment = random_approvers(
        p,
        safeguards__two_person_rule__enabled=True,
        safeguards__two_person_rule__dependence="complete",
    )
    low, high = metrics_of(experiment)["protected_slip_through"]["ci95"]
    assert low <= p <= high


def test_same_seed_gives_identical_metrics_however_the_work_is_spread():
    experiment = small(experiment__replications=24)
    one = metrics_of(experiment, jobs=1)
    assert metrics_of(experiment, jobs=1) == one
    assert metrics_of(experiment, jobs=2) == one
    other_seed = metrics_of(small(experiment__replications=24, experiment__seed=8))
    assert other_seed != one


def test_report_stream_is_common_across_safeguard_configurations():
    """Common random numbers: the same replication files the same reports whatever the
    safeguards do."""

    def filed(experiment):
        ops = simulate(Environment.build(experiment), 3)
        return [
            (t, v["account"], v["violating"])
            for t, process, _, f, v in ops
            if f == "file_report" and process == "reporter"
        ]

    base = filed(small())
    guarded = filed(
        small(
            safeguards__protected_list__mode="escalate",
            safeguards__two_person_rule__enabled=True,
            safeguards__leaver_lockout__enabled=True,
        )
    )
    assert base == guarded and len(base) > 100


def test_checker_counts_a_slip_and_its_exposure_from_the_history_alone():
    history = History(
        [
            (0.0, "probe", "ok", "status", {"account": 1, "status": "active"}),
            (
                10.0,
                "reporter",
                "ok",
                "file_report",
                {
                    "report": 1,
                    "account": 1,
                    "protected": True,
                    "violating": False,
                    "ambiguous": False,
                },
            ),
            (40.0, "r1", "ok", "claim", {"report": 1}),
            (
                100.0,
                "r1",
                "ok",
                "decide",
                {
                    "report": 1,
                    "account": 1,
                    "decision": "approve",
                    "action": "deactivate",
                    "outcome": "applied",
                    "safeguard": None,
                    "pending": 1,
                    "approver": None,
                    "escalated_report": None,
                },
            ),
            (100.0, "probe", "ok", "status", {"account": 1, "status": "deactivated"}),
            (
                760.0,
                "target",
                "ok",
                "timer",
                {"pending": None, "account": 1, "outcome": "restored", "safeguard": None},
            ),
            (760.0, "probe", "ok", "status", {"account": 1, "status": "active"}),
            (
                20.0,
                "reporter",
                "ok",
                "file_report",
                {
                    "report": 2,
                    "account": 7,
                    "protected": False,
                    "violating": True,
                    "ambiguous": False,
                },
            ),
            (900.0, "r2", "fail", "decide", {"report": 2, "error": "forbidden"}),
            (3600.0, "harness", "ok", "shift_end", {}),
        ]
    )
    m = check(history, operator_hours=2.0)
    assert (m.trials, m.slips, m.decisions) == (1, 1, 1)
    assert m.exposures == [11.0]
    assert m.queue_waits == [0.5]
    assert m.backlog == 1 and m.unrestored == 0


def test_incident_shift_slips_and_recommended_safeguards_catch_it():
    incident = metrics_of(
        small(
            operators=[
                {"persona": "diligent", "count": 5},
                {"persona": "departing_insider", "malicious": True, "hazard_window": "4h"},
            ],
        )
    )
    assert incident["protected_slip_through"]["slips"] > 10
    assert incident["exposure_minutes"]["p50"] == pytest.approx(11.0)
    guarded = metrics_of(
        small(
            operators=[
                {"persona": "diligent", "count": 5},
                {"persona": "departing_insider", "malicious": True, "hazard_window": "4h"},
                {"persona": "diligent", "role": "senior", "count": 2},
            ],
            safeguards__protected_list__mode="escalate",
            safeguards__two_person_rule__enabled=True,
            safeguards__leaver_lockout__enabled=True,
        )
    )
    assert guarded["protected_slip_through"]["slips"] == 0
    assert guarded["caught_by"]["leaver_lockout"] > 0


def _outage(kind: str, fail: str, **safeguards):
    return small(
        operators=[
            {"persona": "random_approver", "approve_probability": 0.5, "count": 4},
            {"persona": "diligent", "role": "senior", "count": 2},
        ],
        faults=[{"kind": kind, "at": "0s", "duration": "4h"}],
        **{f"safeguards__{k}": v for k, v in safeguards.items()},
        **{f"safeguards__{kind_key(kind)}__fail": fail},
    )


def kind_key(kind: str) -> str:
    return {
        "protected_list_outage": "protected_list",
        "approval_service_outage": "two_person_rule",
    }[kind]


@pytest.mark.parametrize(
    "kind,settings",
    [
        ("protected_list_outage", {"protected_list__mode": "block"}),
        ("approval_service_outage", {"two_person_rule__enabled": True}),
    ],
)
def test_outage_lets_actions_through_only_when_failing_open(kind, settings):
    failing_open = metrics_of(_outage(kind, "open", **settings))["protected_slip_through"]
    failing_closed = metrics_of(_outage(kind, "closed", **settings))["protected_slip_through"]
    assert failing_open["rate"] > 0.1
    assert failing_closed["slips"] == 0


def test_stale_hr_feed_blinds_the_leaver_lockout():
    def run(faults):
        return metrics_of(
            small(
                operators=[
                    {"persona": "diligent", "count": 3, "error": 0, "ambiguous_error": 0},
                    {"persona": "departing_insider", "malicious": True, "hazard_window": "4h"},
                ],
                safeguards__leaver_lockout__enabled=True,
                faults=faults,
            )
        )

    fresh = run([])
    stale = run([{"kind": "hr_feed_stale", "at": "0s", "duration": "4h"}])
    assert fresh["protected_slip_through"]["slips"] == 0
    assert stale["protected_slip_through"]["slips"] > 0


def test_report_flood_brigades_one_protected_account():
    quiet = metrics_of(small())
    flood = metrics_of(
        small(faults=[{"kind": "report_flood", "at": "1h", "duration": "1h", "rate": 600}])
    )
    extra = flood["protected_slip_through"]["trials"] - quiet["protected_slip_through"]["trials"]
    assert extra == pytest.approx(600 * 20, rel=0.15)  # 600 an hour for an hour, 20 shifts


def test_a_scripted_attacker_bursts_at_its_attack_interval_and_the_rate_limit_caps_it():
    attacker = {
        "persona": "compromised",
        "role": "senior",  # persona keys hold whatever the role
        "phish_probability": 1.0,
        "attack_at": "0s",
        "attempts": 5,
        "attack_interval": "10s",
    }
    experiment = small(
        operators=[{"persona": "diligent", "count": 2}, attacker],
        safeguards__rate_limit__enabled=True,
        safeguards__rate_limit__max_actions=3,
    )
    env = Environment.build(experiment)
    attempts = [op for op in simulate(env, 0) if op[3] == "direct_action"]
    assert [op[0] for op in attempts] == [0.0, 10.0, 20.0, 30.0, 40.0]
    assert [op[4]["outcome"] for op in attempts] == ["applied"] * 3 + ["blocked"] * 2
    assert {op[4]["safeguard"] for op in attempts[3:]} == {"rate_limit"}

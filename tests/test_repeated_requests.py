"""An attacker who sends a direct action again while it waits for its second approval, in
the simulator (the same persona plays in live mode): the target refuses each repeat, and
a target that drew a new approver for each repeat lets many more slips through."""

from __future__ import annotations

import pytest

from harness.backends.replications import run_replications
from harness.drivers.sim import simulate
from harness.experiment.model import validate
from harness.personas import operator_persona
from harness.statistics.summary import summarize
from harness.world.environment import Environment
from targets.moderation import ModerationService

SHOPPING = {
    "experiment": {"name": "repeats", "seed": 7, "replications": 40, "shift": "2h"},
    "population": {"accounts": 300, "protected": 20, "reports_per_hour": 30},
    "operators": [
        {
            "persona": "compromised",
            "count": 1,
            "phish_probability": 1.0,
            "attempts": 5,
            "attack_interval": "5m",
            "repeats": 20,
            "repeat_every": "5s",
        },
        {"persona": "diligent", "count": 2},
        {"persona": "random_approver", "role": "senior", "approve_probability": 0.2},
        {"persona": "diligent", "role": "senior", "count": 3},
    ],
    "safeguards": {
        "two_person_rule": {
            "enabled": True,
            "scope": "protected",
            "chooser": "system",
            "dependence": "zero",
        }
    },
}


def shopping(**attacker: object) -> Environment:
    raw = {
        **SHOPPING,
        "operators": [{**SHOPPING["operators"][0], **attacker}, *SHOPPING["operators"][1:]],
    }
    return Environment.build(validate(raw, "repeats.toml"))


def test_each_attempt_is_sent_again_after_it_at_the_repeat_interval():
    env = shopping(repeats=2, attack_at="10m")
    persona = operator_persona(env.roster[0], 1)
    plan = persona.attack_plan(7200.0, tuple(range(1, 21)))
    accounts = [account for _, account in plan]
    assert len(plan) == 15 and len(set(accounts)) == 5
    for first in range(0, 15, 3):  # an attempt, then its two repeats on the same account
        (t0, a0), (t1, a1), (t2, a2) = plan[first : first + 3]
        assert a0 == a1 == a2 and (t1 - t0, t2 - t1) == (5.0, 5.0)


def test_the_target_refuses_every_repeat_while_the_first_waits():
    env = shopping()
    history = simulate(env, 0)
    sent = [op for op in history if op[3] == "direct_action" and op[1].startswith("attacker:")]
    refused = [op for op in sent if op[2] == "fail"]
    pending = [op for op in sent if op[2] == "ok" and op[4]["outcome"] == "pending_approval"]
    assert len(sent) > len(pending) >= 1
    assert refused and {op[4]["error"] for op in refused} == {"conflict"}
    # asking again after a refusal never draws another second approver for the account
    approvers: dict[int, set[str]] = {}
    for op in pending:
        approvers.setdefault(op[4]["account"], set()).add(op[4]["approver"])
    assert all(len(drawn) == 1 for drawn in approvers.values()), approvers


def slips(env: Environment) -> int:
    return summarize(run_replications(env, 40, jobs=1).ordered())["protected_slip_through"]["slips"]


def test_a_target_that_draws_again_for_each_repeat_lets_many_more_slip(monkeypatch):
    guarded = slips(shopping())
    once = slips(shopping(repeats=0))
    assert guarded <= 2 * once + 5  # repeats refused: about what a single attempt gets
    monkeypatch.setattr(ModerationService, "guard_repeats", False)
    assert slips(shopping()) > 4 * max(guarded, 1)


@pytest.mark.parametrize("repeats", [-1, 101])
def test_repeats_out_of_range_are_refused(repeats):
    from harness.errors import BadInput

    with pytest.raises(BadInput, match="repeats"):
        shopping(repeats=repeats)

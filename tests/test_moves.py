"""The move layer shared by the simulator and live mode: what it asks the persona, what it
sends, what it records and whom it tells."""

from __future__ import annotations

import gc
import weakref
from types import SimpleNamespace

from conftest import small

from harness.drivers.moves import Acts
from harness.drivers.sim import Simulation
from harness.experiment.model import TwoPersonRuleSection
from harness.personas import Item
from harness.world.environment import Environment
from targets.moderation import APPLIED, Outcome


class Persona:
    """Approves everything, names the first colluder offered, gives every second approval
    to a colluder; as a second approver it approves with probability `lenience`."""

    entry = SimpleNamespace(attack_action="deactivate")

    def __init__(self, lenience: float = 0.0) -> None:
        self.offered: list[list[str]] = []
        self.colleagues: list[list[str]] = []
        self.lenience = lenience
        self.dependences: list[str] = []

    def decide(self, item: Item, now: float) -> tuple[str, str | None]:
        return "approve", "suspend"

    def choose_second_approver(self, colluders, colleagues, item, now, dependence):
        self.offered.append(colluders)
        self.colleagues.append([op for op, _ in colleagues])
        return colluders[0] if colluders else None

    def second_approve(self, item: Item, now: float, dependence: str, colludes: bool) -> bool:
        self.dependences.append(dependence)
        return colludes

    def second_approve_probability(self, item, now, dependence, colludes) -> float:
        return self.lenience


def outcome(account: int) -> Outcome:
    return Outcome(status=APPLIED, account_id=account, action="suspend")


def moves(refuse: bool = False, **rule: object) -> tuple[Acts, list, list]:
    """A move layer whose `send` refuses every call or answers `applied`, and the records
    and follow-ups it produced."""
    sent: list = []
    followed: list = []

    def send(now, process, f, value, method, *args):
        sent.append((process, f, value, method.__name__, args))
        return None if refuse else outcome(value["account"])

    def follow(now, out, item, requester, process, queue):
        followed.append((out.status, item, requester, process, queue))

    calls = ("decide", "second_approve", "direct_action", "cancel", "restore")
    target = SimpleNamespace(**{name: lambda *a: None for name in calls})
    for name in calls:
        getattr(target, name).__name__ = name
    section = TwoPersonRuleSection(**{"enabled": True, "chooser": "requester", **rule})
    operators = [
        ("r1", True, 0.0, "reviewer", Persona(0.1)),
        ("r2", True, 100.0, "senior", Persona(0.9)),
        ("r3", False, 0.0, "senior", Persona(0.2)),
        ("r4", True, 0.0, "reviewer", Persona(0.4)),
    ]
    # an operator's handle here is when it leaves; it is at work before that
    acts = Acts(target, send, follow, section, operators, lambda left, now: not left or now < left)
    return acts, sent, followed


def operator(op_id: str) -> SimpleNamespace:
    return SimpleNamespace(id=op_id, process=f"{op_id}#2", token=f"t-{op_id}", persona=Persona())


def test_a_requester_may_name_only_colluders_still_at_work_and_never_itself():
    acts, sent, followed = moves()
    r1 = operator("r1")
    assert acts.decide(r1, 7, Item(3, True, False), 200.0, "ordinary")
    assert r1.persona.offered == [["r4"]]  # r2 has left, r3 does not collude
    assert r1.persona.colleagues == [["r3", "r4"]]  # the nearest desk first; r2 has left
    process, f, value, method, args = sent[0]
    assert (process, f, method) == ("r1#2", "decide", "decide")
    assert value == {"report": 7, "account": 3, "decision": "approve", "action": "suspend"}
    assert args == ("t-r1", 7, "approve", "suspend", "r4")
    assert followed == [(APPLIED, Item(3, True, False), "r1", "r1#2", "ordinary")]


def test_a_refused_move_is_not_followed():
    acts, sent, followed = moves(refuse=True)
    assert not acts.decide(operator("r3"), 7, Item(3, True, False), 0.0, "ordinary")
    acts.attack(operator("r3"), 5, True, 0.0)
    assert [f for _, f, *_ in sent] == ["decide", "direct_action"]
    assert followed == []


def test_a_second_approval_depends_on_whether_the_requester_colludes():
    acts, sent, followed = moves()
    item = Item(3, True, False)
    acts.second_approve(operator("r4"), 11, 7, item, "r1", 0.0)
    acts.second_approve(operator("r4"), 12, None, item, "r3", 0.0)
    assert [value["approve"] for _, _, value, _, _ in sent] == [True, False]
    assert sent[0][2] == {
        "pending": 11,
        "report": 7,
        "account": 3,
        "protected": True,
        "approve": True,
    }
    assert [requester for _, _, requester, _, _ in followed] == ["r1", "r3"]


def test_an_attack_is_recorded_under_the_attacker_and_follows_for_the_operator():
    acts, sent, followed = moves()
    acts.attack(operator("r1"), 5, True, 30.0)
    assert sent[0][:3] == (
        "attacker:r1",
        "direct_action",
        {"account": 5, "protected": True, "action": "deactivate"},
    )
    # where the requester names the second approver, the attacker names the most lenient
    # colleague at work: r2 (0.9) is at work at 30 s
    assert sent[0][4] == ("t-r1", 5, "deactivate", "r2")
    assert followed == [(APPLIED, Item(5, True, False), "r1", "attacker:r1", "ordinary")]


def test_a_search_dictates_the_choices_the_persona_would_make():
    """The entry points a search uses: its own verdict, second approver, answer and the
    calls no persona's work asks for, recorded and followed like the persona's moves."""
    acts, sent, followed = moves()
    r3, item = operator("r3"), Item(3, True, False)
    assert acts.verdict(r3, 7, item, ("approve", "deactivate", "r1"), 0.0, "senior")
    acts.answer(r3, (11, None, "r1"), item, True, 0.0)  # r3 does not collude, yet approves
    acts.attack(r3, 5, True, 0.0, second="r3")
    acts.cancel(r3, 11, item, "r1", 0.0)
    acts.restore(r3, item, 0.0)
    assert r3.persona.offered == []  # nothing was asked of the persona
    assert [(f, args) for _, f, _, _, args in sent] == [
        ("decide", ("t-r3", 7, "approve", "deactivate", "r1")),
        ("second_approve", ("t-r3", 11, True)),
        ("direct_action", ("t-r3", 5, "deactivate", "r3")),
        ("cancel", ("t-r3", 11)),
        ("restore", ("t-r3", 3)),
    ]
    assert sent[2][2]["second"] == "r3"
    assert [(requester, queue) for _, _, requester, _, queue in followed] == [
        ("r3", "senior"),
        ("r1", "senior"),
        ("r3", "ordinary"),
        ("r1", "senior"),
        ("r3", "ordinary"),
    ]


def test_a_finished_replication_is_freed_at_once():
    """Nothing of a replication may wait for the cyclic garbage collector: a simulator
    kept alive until then makes every replication after it slower."""
    env = Environment.build(small(experiment__replications=1))
    gc.disable()
    try:
        sim = Simulation(env, 0)
        alive = weakref.ref(sim)
        sim.run()
        del sim
        assert alive() is None
    finally:
        gc.enable()


def test_colleagues_come_from_the_approver_pool_nearest_desk_first():
    acts, _, _ = moves(pool="senior")
    assert [op for op, _ in acts.colleagues("r4", 0.0)] == ["r2", "r3"]
    assert [op for op, _ in acts.colleagues("r4", 150.0)] == ["r3"]  # r2 has left
    acts, _, _ = moves()
    assert [op for op, _ in acts.colleagues("r3", 0.0)] == ["r4", "r1", "r2"]


def test_a_requester_named_approver_answers_at_the_raised_dependence():
    acts, _, _ = moves()
    approver = operator("r3")
    acts.second_approve(approver, 11, 7, Item(3, True, False), "r1", 0.0)
    assert approver.persona.dependences == ["low"]  # zero, one level up
    assert moves(dependence="high", chosen_dependence_step=3)[0].dependence == "complete"
    assert moves(chooser="system", dependence="low")[0].dependence == "low"
    acts, sent, _ = moves(chooser="system")
    acts.attack(operator("r1"), 5, True, 30.0)
    assert sent[0][4] == ("t-r1", 5, "deactivate", None)  # the system draws the approver

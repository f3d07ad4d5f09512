"""The calls no persona's work asks for, in both search modes: cancelling a pending action,
restoring an account and approving out of turn are made only by those who would, play,
narrate and replay, and the searches find the hole an approval out of turn opens in a
target that does not check who was asked."""

from __future__ import annotations

import json

import pytest
from test_explore import COLLUDERS, COMPROMISED_SENIOR, LEAVER, TEAM, experiment

from harness.cli import main
from harness.explore.behaviour import Conduct
from harness.explore.exhaustive import enumerate_moves
from harness.explore.likelihood import most_likely
from harness.explore.runs import Setup
from harness.explore.state import State, Symmetry, successors
from harness.explore.steps import Approve, Cancel, Restore, SecondApprove
from harness.explore.trace import dump
from harness.world.environment import Environment
from targets.moderation import ModerationService

TWO_ATTACKERS = experiment(  # s1, s2 compromised; s3, s4 diligent; seniors approve
    [TEAM["reviewers"], {**COMPROMISED_SENIOR, "count": 2}, {**TEAM["senior"], "count": 2}],
    {"two_person_rule": {"enabled": True, "pool": "senior", "fail": "closed"}},
)
REQUEST = Approve(actor="s1", account=1, attacker=True)
OUT_OF_TURN = SecondApprove(actor="s2", unasked=True, attacker=True)
TOUR = [
    REQUEST,
    Cancel(actor="s1", attacker=True),
    Restore(actor="s2", account=2, attacker=True),
    REQUEST,
    OUT_OF_TURN,
]


def setup_with(seed: int = 0) -> Setup:
    return Setup.build(TWO_ATTACKERS, seed, (), 0, 6, None)


def asked(seed: int) -> str:
    """Whom the target asks to approve s1's request under `seed`."""
    return setup_with(seed).player.play([REQUEST]).steps[0].calls[-1].answer.approver


SEED = next(seed for seed in range(50) if asked(seed) != "s2")  # s2 is not the one asked


def lax(monkeypatch) -> None:
    """A target that forgets to check who was asked for a second approval."""
    checked = ModerationService.second_approve

    def second_approve(self, token, pending_id, approve, **kw):
        self._pending[pending_id].approver = self._by_token[token].id
        return checked(self, token, pending_id, approve, **kw)

    monkeypatch.setattr(ModerationService, "second_approve", second_approve)


def test_each_new_move_plays_and_narrates():
    setup = setup_with(SEED)
    attempt = setup.player.play(TOUR)
    assert attempt.finding is None and all(step.taken for step in attempt.steps)
    assert [[c.method for c in s.calls] for s in attempt.steps[1:]] == [
        ["cancel"],
        ["restore"],
        ["file_report", "claim", "decide"],
        ["second_approve"],
    ]
    cancelled, restored, _, refused = attempt.steps[1:]
    assert cancelled.calls[0].answer.status == "cancelled"
    assert restored.calls[0].answer.status == "restored"
    assert refused.calls[0].error.code == "forbidden"
    lines = setup.narrator.lines(attempt)
    assert "s1's credentials cancels pending action 1, the deactivation of @" in lines[1]
    assert lines[1].endswith("it will not take effect")
    assert "s2's credentials restores @" in lines[2] and "was not down: nothing changes" in lines[2]
    assert "gives the second approval to pending action 2 out of turn" in lines[4]
    assert f"the target refuses: pending action 2 is assigned to {asked(SEED)}" in lines[4]


def test_a_trace_through_the_new_moves_replays(monkeypatch, tmp_path, capsys):
    lax(monkeypatch)
    setup = setup_with(SEED)
    attempt = setup.player.play(TOUR)
    assert attempt.finding.kind == "protected_down" and attempt.finding.step == 5
    path = tmp_path / "trace.json"
    path.write_text(dump(setup.trace(attempt)), encoding="utf-8")
    steps = json.loads(path.read_text())["steps"]
    assert [s["step"] for s in steps] == [
        "approve",
        "cancel",
        "restore",
        "approve",
        "second_approve",
    ]
    assert main(["replay", str(path)]) == 1
    printed = capsys.readouterr().out
    assert "reproduces:" in printed and "out of turn" in printed


def test_the_moves_only_those_who_would_make_them_make():
    exp = experiment(
        [TEAM["reviewers"], COLLUDERS, LEAVER, COMPROMISED_SENIOR],  # r1-r2, r3-r4, r5, s1
        {"two_person_rule": {"enabled": True}},
    )
    conduct = Conduct(Environment.build(exp))
    assert conduct.overriding("r1", False, 0.0) is None  # diligent: never
    assert conduct.overriding("r3", False, 0.0) is None  # a colluder cancels nothing
    assert conduct.overriding("r5", False, 0.0).why == "malicious in the last 1h before leaving"
    assert conduct.overriding("s1", True, 0.0).kind == "attack"
    assert conduct.out_of_turn("r3", False, "r4", 0.0).why == "colluding with r4"
    assert conduct.out_of_turn("r3", False, "r1", 0.0) is None
    assert conduct.out_of_turn("r1", False, "r4", 0.0) is None
    space = Setup.build(exp, 7, (), 0, 6, None).space
    kinds = space.concrete(("r1", "r3", "r5", "s1"), ())
    assert {m.actor for m in kinds["cancel"]} == {"r5"}
    assert {m.actor for m in kinds["out_of_turn"]} == {"r3", "r5"}
    assert {m.actor for m in kinds["attacker_restore"]} == {"s1"}
    assert "cancel" not in space.concrete(("r1", "r3"), ())


def test_the_exhaustive_search_tries_a_cancel_only_with_something_pending_and_no_restore():
    setup = setup_with(SEED)
    space, symmetry = setup.space, Symmetry.of(setup.space)
    root = State.root(setup.player)
    first = successors(space, symmetry, root, {})
    assert not any(isinstance(m, Restore) for m in first)  # every account is active
    cancel = Cancel(actor="s1", attacker=True)
    assert cancel in first
    taken = [child.move for child, _ in root.continuations(first)]
    assert REQUEST in taken and cancel not in taken  # nothing pending: not taken
    waiting = next(child for child, _ in root.continuations([REQUEST]))
    after = {child.move: step for child, step in waiting.continuations([cancel, OUT_OF_TURN])}
    assert after[cancel].calls[0].answer.status == "cancelled"
    assert after[OUT_OF_TURN].calls[0].error.code == "forbidden"


def test_both_search_modes_find_the_approval_out_of_turn_only_where_it_is_let(monkeypatch):
    guarded = Setup.build(TWO_ATTACKERS, SEED, (), 0, 2, None)
    assert enumerate_moves(guarded.player).attempt is None
    lax(monkeypatch)
    found = enumerate_moves(Setup.build(TWO_ATTACKERS, SEED, (), 0, 2, None).player)
    assert found.attempt.finding.kind == "protected_down"
    assert len(found.attempt.moves) == 2 and found.attempt.moves[1] == OUT_OF_TURN
    setup = Setup.build(TWO_ATTACKERS, SEED, (), 0, 2, None)
    ranked = most_likely(setup.player, top=1)
    phished = [spec.entry.phish_probability for spec in setup.space.env.roster[2:4]]
    assert ranked.ways[0].probability == pytest.approx(phished[0] * phished[1])
    assert any(getattr(m, "unasked", False) for m in ranked.ways[0].attempt.moves)


@pytest.mark.parametrize(
    "edit, says",
    [
        ({4: {"own": True}}, "steps.4.second_approve: Value error, own and unasked exclude"),
        ({1: {"actor": "s3"}}, "steps.1: an attacker move needs a compromised operator's"),
        ({2: {"account": 99999}}, "steps.2.account = 99999: no such account"),
    ],
)
def test_a_bad_new_move_in_a_trace_is_one_line_and_exit_2(
    monkeypatch, tmp_path, capsys, edit, says
):
    lax(monkeypatch)
    setup = setup_with(SEED)
    trace = json.loads(dump(setup.trace(setup.player.play(TOUR))))
    for index, changes in edit.items():
        trace["steps"][index].update(changes)
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(trace), encoding="utf-8")
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1

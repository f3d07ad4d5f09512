"""`harness explore --exhaustive` and `--most-likely`: shortest ways past that agree with
the sampling search, bounded proofs that hold with and without symmetry reduction, ways
past ranked by probability, traces that replay, copied target states, bad input."""

from __future__ import annotations

import dataclasses
import json

import pytest
from test_explore import (
    COMPROMISED_SENIOR,
    HOLES,
    LEAVER,
    TEAM,
    experiment,
    explore,
    seed_for,
    write,
)

from harness.cli import main
from harness.explore.exhaustive import enumerate_moves
from harness.explore.likelihood import most_likely
from harness.explore.runs import Setup
from targets.moderation import TARGET_FAULTS, ManualClock, ModerationService

LATE_LEAVER = {**LEAVER, "exit_after": "2h"}  # malicious from 1h, locked out throughout
STALE_FEED_LATE = (
    [TEAM["reviewers"], LATE_LEAVER, TEAM["senior"]],
    {"leaver_lockout": {"enabled": True}},
)
"""A hole three moves deep: the HR feed goes stale (the lockout fails open), the hour until
the leaver's hazard window passes, the leaver approves. With no mistake allowed, nothing
shorter gets past."""

TWO_HOLES = (
    [
        {"persona": "random_approver", "count": 1},  # r1: approves half the time
        {"persona": "diligent", "count": 1, "error_factor": 1},  # r2: errs 0.003, exactly
        # s1, the only second approver: never errs alone, but half the time waves through
        # a request (THERP high dependence: (1 + 0) / 2)
        {"persona": "diligent", "role": "senior", "count": 1, "error": 0, "error_factor": 1},
    ],
    {
        "protected_list": {"mode": "off"},
        "two_person_rule": {"enabled": True, "pool": "senior", "dependence": "high"},
    },
)
"""Every request needs s1's second approval (p 0.5): r1's request gets past with
0.5 x 0.5 = 0.25, r2's mistaken one with 0.003 x 0.5 = 0.0015."""


def bounded(exp, *, mistakes=1, depth=6, seed=7, faults=TARGET_FAULTS, reduce=True):
    setup = Setup.build(exp, seed, faults, mistakes, depth, None)
    return setup, enumerate_moves(setup.player, reduce=reduce)


@pytest.mark.parametrize("name", list(HOLES))
def test_exhaustive_finds_a_way_past_no_longer_than_the_sampling_search(name):
    operators, safeguards, mistakes, *_ = HOLES[name]
    exp = experiment(operators, safeguards)
    seed = seed_for(name, exp)
    _, sampled = explore(exp, mistakes=mistakes, seed=seed)
    _, searched = bounded(exp, mistakes=mistakes, depth=len(sampled.attempt.taken), seed=seed)
    assert searched.attempt is not None
    assert searched.attempt.finding.kind == sampled.attempt.finding.kind
    assert len(searched.attempt.taken) <= len(sampled.attempt.taken)
    assert searched.covered == len(searched.attempt.taken) - 1


def test_a_hole_three_moves_deep_is_proven_absent_at_two_and_found_at_three():
    exp = experiment(*STALE_FEED_LATE)
    _, two = bounded(exp, mistakes=0, depth=2)
    assert two.attempt is None and two.stopped_by is None and two.covered == 2
    setup, three = bounded(exp, mistakes=0, depth=3)
    assert len(three.attempt.taken) == 3
    story = "\n".join(setup.narrator.lines(three.attempt))
    assert "the HR feed goes stale" in story and "1h pass" in story and "r3" in story


@pytest.mark.parametrize("depth", [2, 3])
def test_symmetry_reduction_keeps_the_verdict_and_explores_fewer_states(depth):
    exp = experiment(*STALE_FEED_LATE)
    kwargs = {"mistakes": 0, "depth": depth, "faults": ("hr_feed_stale",)}
    _, reduced = bounded(exp, **kwargs)
    _, full = bounded(exp, reduce=False, **kwargs)
    assert (reduced.attempt is None) == (full.attempt is None) == (depth == 2)
    if depth == 3:
        assert len(reduced.attempt.taken) == len(full.attempt.taken)
    else:
        assert reduced.states < full.states


@pytest.mark.parametrize(
    "case, mistakes, depth",
    [("stale feed, late leaver", 0, 3), ("fail-open outage", 1, 2), ("fail-open outage", 0, 3)],
)
def test_every_reduction_keeps_the_verdict_and_the_shortest_length_with_every_fault(
    case, mistakes, depth
):
    """Symmetry, empty claims left out and faults toggled in one order at a quiet instant
    (all on with `reduce`) against the plain search, with every fault in play."""
    exp = experiment(*STALE_FEED_LATE) if case.startswith("stale") else experiment(*HOLES[case][:2])
    kwargs = {"mistakes": mistakes, "depth": depth}
    _, reduced = bounded(exp, **kwargs)
    _, full = bounded(exp, reduce=False, **kwargs)
    assert (reduced.attempt is None) == (full.attempt is None)
    if full.attempt is not None:
        assert len(reduced.attempt.taken) == len(full.attempt.taken)
        assert reduced.attempt.finding.kind == full.attempt.finding.kind
    assert reduced.states <= full.states and reduced.moves_tried < full.moves_tried


def test_most_likely_ranks_two_holes_by_their_probability():
    setup = Setup.build(
        experiment(*TWO_HOLES, **{"population.ambiguous_share": 0}), 7, (), 1, 3, None
    )
    ranked = most_likely(setup.player, top=2)
    assert [round(w.probability, 6) for w in ranked.ways] == [0.25, 0.0015]
    first, second = ("\n".join(setup.narrator.lines(w.attempt)) for w in ranked.ways)
    assert "reviewer r1 approves" in first and "senior s1 gives the second approval" in first
    assert "reviewer r2 approves" in second and "(a mistake)" in second


def test_most_likely_writes_findings_and_traces_that_replay(tmp_path, capsys):
    exp = experiment(*TWO_HOLES, **{"population.ambiguous_share": 0})
    path = write(tmp_path, exp)
    out = tmp_path / "ranked"
    argv = ["explore", str(path), "--most-likely", "2", "--depth", "3", "--faults", "none"]
    assert main([*argv, "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "the 2 most likely ways past within 3 steps and 1 mistake" in printed
    assert "1. probability 0.25 per occurrence" in printed
    assert "2. probability 0.0015 per occurrence" in printed
    findings = json.loads((out / "findings.json").read_text())
    assert [w["trace"] for w in findings["ways"]] == ["trace.json", "trace-2.json"]
    for way in findings["ways"]:
        assert main(["replay", str(out / way["trace"])]) == 1
        assert "reproduces:" in capsys.readouterr().out


def test_exhaustive_none_is_a_bounded_statement_and_a_found_trace_replays(tmp_path, capsys):
    path = write(tmp_path, experiment(*STALE_FEED_LATE))
    argv = ["explore", str(path), "--exhaustive", "--mistakes", "0"]
    assert main([*argv, "--depth", "2", "--out", str(tmp_path / "two")]) == 0
    printed = capsys.readouterr().out
    assert "no way past within 2 steps and 0 mistakes: " in printed
    assert "distinct states in" in printed and "every move of every operator considered" in printed
    assert "assumptions:" in printed and "interchangeable" in printed
    assert main([*argv, "--depth", "3", "--out", str(tmp_path / "three")]) == 1
    assert "a shortest way past in 3 steps" in capsys.readouterr().out
    assert main(["replay", str(tmp_path / "three" / "trace.json")]) == 1
    assert "reproduces:" in capsys.readouterr().out
    findings = json.loads((tmp_path / "three" / "findings.json").read_text())
    assert findings["ways"][0]["steps"] == 3 and findings["ways"][0]["probability"] == 1.0


def test_a_state_budget_says_which_depth_was_fully_covered(tmp_path, capsys):
    path = write(tmp_path, experiment(*STALE_FEED_LATE))
    argv = ["explore", str(path), "--exhaustive", "--mistakes", "0", "--states", "40"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "the state budget stopped the search after" in printed
    summary = json.loads((tmp_path / "out" / "explore.json").read_text())
    covered = summary["searched"]["depth_fully_covered"]
    assert f"depth {covered} fully covered" in printed and covered < 3


def test_exhaustive_finds_the_redrawn_approver_only_without_the_guard(monkeypatch):
    exp = experiment(
        [TEAM["reviewers"], COMPROMISED_SENIOR, TEAM["senior"]],
        {"two_person_rule": {"enabled": True, "fail": "closed"}},
    )
    _, guarded = bounded(exp, mistakes=0, depth=4, faults=())
    assert guarded.attempt is None
    monkeypatch.setattr(ModerationService, "guard_repeats", False)
    _, open_ = bounded(exp, mistakes=0, depth=4, faults=())
    assert open_.attempt.finding.kind == "approver_redrawn"


@pytest.mark.parametrize(
    "extra, says",
    [
        (["--depth", "51"], "--depth: must be at most 50, got 51"),
        (["--depth", "-1"], "--depth: must be at least 1, got -1"),
        (["--mistakes", "51"], "--mistakes: must be at most 50, got 51"),
        (["--mistakes", "-2"], "--mistakes: must be at least 0, got -2"),
        (["--states", "lots"], "--states: expected a whole number, got 'lots'"),
        (["--time", "soon"], "--time:"),
        (["--target", "http://127.0.0.1:9"], "--exhaustive searches the in-process target only"),
        (["--budget", "10"], "--budget counts sampled sequences"),
        (["--states", "0"], "--states: must be at least 1, got 0"),
        (["--time", "0s"], "--time: must be longer than 0s"),
        (["--depth", "0"], "--depth: must be at least 1, got 0"),
        (["--compare-with", "nowhere"], "--compare-with nowhere: not a run folder"),
    ],
)
def test_bad_bounds_and_budgets_are_one_line_and_exit_2(tmp_path, capsys, extra, says):
    path = write(tmp_path, experiment(*STALE_FEED_LATE))
    try:
        code = main(["explore", str(path), "--exhaustive", *extra, "--out", str(tmp_path)])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert says in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_a_forked_service_is_an_equal_and_independent_copy():
    setup = Setup.build(experiment(*STALE_FEED_LATE), 7, (), 1, 3, None)
    service = setup.player.control.reset()
    tokens = setup.player.control.tokens
    service.file_report("reporter", 1)
    service.claim(tokens["r1"])
    service.decide(tokens["r1"], 1, "approve", "suspend")
    twin = service.fork(ManualClock(service.clock.now()))
    assert twin.state_key() == service.state_key()
    for original, copied in ((service._reports, twin._reports), (service._pending, twin._pending)):
        for key, value in original.items():
            assert dataclasses.asdict(copied[key]) == dataclasses.asdict(value)
            assert copied[key] is not value
    twin.file_report("reporter", 2)
    twin.set_fault("hr_feed_stale", True)
    assert twin.state_key() != service.state_key()
    assert service.faults == frozenset() and len(service._reports) == 1

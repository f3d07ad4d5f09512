"""`harness explore` and `harness replay`: the known holes found and shrunk, the fixes
holding within the CI budget, traces replaying, the finding checks, exit codes."""

from __future__ import annotations

import copy
import dataclasses
import json
import signal
from pathlib import Path
from typing import Any

import pytest
from conftest import EXPERIMENTS, interrupt_once_written

from harness.cli import main
from harness.experiment.model import Experiment, load, set_key, validate
from harness.explore.behaviour import Conduct
from harness.explore.runs import Setup
from harness.explore.search import search
from harness.explore.steps import Approve, DirectAction, Retry, Wait
from harness.world.environment import Environment
from targets.moderation import TARGET_FAULTS, ModerationService

CI_BUDGET = 3000  # sequences each configuration is searched in CI

TEAM = {  # two reviewers and a senior, all diligent
    "reviewers": {"persona": "diligent", "count": 2},
    "senior": {"persona": "diligent", "role": "senior", "count": 1},
}
COLLUDERS = {"persona": "diligent", "count": 2, "collude": True}
LEAVER = {  # malicious in the hour before leaving, which starts now
    "persona": "departing_insider",
    "count": 1,
    "malicious": True,
    "exit_after": "1h",
    "hazard_window": "1h",
}
COMPROMISED_SENIOR = {"persona": "compromised", "role": "senior", "count": 1}


def experiment(operators: list[dict], safeguards: dict, **keys: Any) -> Experiment:
    raw = {
        "experiment": {"name": "hole", "seed": 7, "shift": "8h"},
        "population": {"accounts": 200, "protected": 5},
        "operators": copy.deepcopy(operators),
        "safeguards": copy.deepcopy(safeguards),
    }
    for key, value in keys.items():
        set_key(raw, key, value, "test")
    return validate(raw, "hole.toml")


def explore(exp: Experiment, *, mistakes: int = 1, seed: int = 7, budget: int = CI_BUDGET):
    setup = Setup.build(exp, seed, TARGET_FAULTS, mistakes, 12, None)
    return setup, search(setup.player, seed=seed, budget=budget)


# --- the four known holes ----------------------------------------------------------------

HOLES = {
    # two colluding reviewers under a two-person rule whose requester names the second
    # approver: one mistake by a colluder, waved through by the other
    "colluders name each other": (
        [COLLUDERS, TEAM["reviewers"], TEAM["senior"]],
        {"two_person_rule": {"enabled": True, "chooser": "requester", "fail": "closed"}},
        1,
        2,
        ["named by the requester", "(colluding with r"],  # either colluder may go first
        {"safeguards.two_person_rule.chooser": "system"},
    ),
    # fail-open during an approval-service outage: one mistake goes straight through
    "fail-open outage": (
        [TEAM["reviewers"], TEAM["senior"]],
        {"two_person_rule": {"enabled": True, "fail": "open"}},
        1,
        2,
        ["the approval service goes down", "fail-open lets the action through"],
        {"safeguards.two_person_rule.fail": "closed"},
    ),
    # a stale HR feed under leaver lockout: the leaver alone, no one else's mistake needed
    "stale HR feed": (
        [TEAM["reviewers"], LEAVER, TEAM["senior"]],
        {"leaver_lockout": {"enabled": True}},
        0,
        2,
        ["the HR feed goes stale", "leaver lockout does not know r3 leaves at 1h"],
        {"safeguards.leaver_lockout.fail": "closed"},
    ),
    # a compromised senior: the attacker alone, straight past an escalating protected list
    "compromised senior": (
        [TEAM["reviewers"], COMPROMISED_SENIOR, TEAM["senior"]],
        {"protected_list": {"mode": "escalate", "fail": "closed"}},
        0,
        1,
        ["an attacker holding senior s1's credentials", "not escalated"],
        {"safeguards.two_person_rule.enabled": True, "safeguards.two_person_rule.fail": "closed"},
    ),
}


def seed_for(name: str, exp: Experiment) -> int:
    """A search seed; for the colluders, one whose target does not happen to pick the
    accomplice itself (see test_a_system_choice_can_still_land_on_the_accomplice)."""
    if name != "colluders name each other":
        return 7
    return next(s for s in range(50) if not system_picks_accomplice(exp, s))


@pytest.mark.parametrize("name", list(HOLES))
def test_known_hole_is_found_and_shrunk_to_the_fewest_steps(name):
    operators, safeguards, mistakes, steps, phrases, _ = HOLES[name]
    exp = experiment(operators, safeguards)
    setup, searched = explore(exp, mistakes=mistakes, seed=seed_for(name, exp))
    assert searched.attempt is not None, f"not found in {searched.sequences} sequences"
    assert searched.attempt.finding.kind == "protected_down"
    assert len(searched.attempt.taken) == steps
    story = "\n".join(setup.narrator.lines(searched.attempt))
    assert story.startswith("1. ")
    for phrase in phrases:
        assert phrase in story


@pytest.mark.parametrize("name", list(HOLES))
def test_the_fixed_configuration_survives_the_ci_budget(name):
    operators, safeguards, mistakes, _, _, fix = HOLES[name]
    exp = experiment(operators, safeguards, **fix)
    _, searched = explore(exp, mistakes=mistakes, seed=seed_for(name, exp))
    assert searched.attempt is None, searched.attempt and searched.attempt.finding
    assert searched.sequences == CI_BUDGET
    assert searched.steps > CI_BUDGET  # sequences of several moves were played


def system_picks_accomplice(exp: Experiment, seed: int) -> bool:
    """Whether the target with this seed, choosing the second approver itself, picks a
    colluder's accomplice for the colluder's one request."""
    setup = Setup.build(exp, seed, (), 1, 12, None)
    for requester, accomplice in (("r1", "r2"), ("r2", "r1")):
        attempt = setup.player.play([Approve(actor=requester, account=1)])
        if attempt.steps[0].calls[-1].answer.approver == accomplice:
            return True
    return False


def test_a_system_choice_can_still_land_on_the_accomplice():
    """Choosing the second approver at random among everyone leaves the colluders a
    chance per request; the search reports it when the target's draw does."""
    operators, safeguards, *_ = HOLES["colluders name each other"]
    exp = experiment(operators, safeguards, **{"safeguards.two_person_rule.chooser": "system"})
    seed = next(s for s in range(50) if system_picks_accomplice(exp, s))
    setup, searched = explore(exp, seed=seed)
    assert len(searched.attempt.taken) == 2
    assert "(chosen by the system)" in setup.narrator.lines(searched.attempt)[0]


def test_a_compromised_senior_needs_only_one_slip_past_a_two_person_rule():
    """Why block mode is the fix for a compromised senior when a trace may hold one honest
    mistake: the attacker's request finds a second approver who slips."""
    operators, safeguards, *_ = HOLES["compromised senior"]
    exp = experiment(operators, safeguards, **HOLES["compromised senior"][-1])
    setup, searched = explore(exp, mistakes=1)
    assert len(searched.attempt.taken) == 2
    story = "\n".join(setup.narrator.lines(searched.attempt))
    assert "credentials" in story and "(a mistake)" in story
    blocked = experiment(operators, safeguards, **{"safeguards.protected_list.mode": "block"})
    assert explore(blocked, mistakes=1)[1].attempt is None


def test_asking_again_for_another_approver_is_found_only_without_the_guard(
    tmp_path, capsys, monkeypatch
):
    """An attacker with a senior's credentials, under a two-person rule whose approver the
    system draws, asks again while its action waits. Without the target's guard each
    request draws a fresh approver (a way to shop for a lenient one); with it, asking again
    is refused and nothing is found."""
    operators = [TEAM["reviewers"], COMPROMISED_SENIOR, TEAM["senior"]]
    rule = {"two_person_rule": {"enabled": True, "fail": "closed"}}
    path = write(tmp_path, experiment(operators, rule))
    args = ["explore", str(path), "--mistakes", "0", "--budget", "1000"]
    assert main([*args, "--out", str(tmp_path / "guarded")]) == 0
    assert "no way past found in 1,000 sequences" in capsys.readouterr().out
    monkeypatch.setattr(ModerationService, "guard_repeats", False)
    assert main([*args, "--out", str(tmp_path / "open")]) == 1
    printed = capsys.readouterr().out
    assert "a requester re-drew its second approver: s1 asked again for @" in printed
    trace = json.loads((tmp_path / "open" / "trace.json").read_text())
    assert trace["finding"]["kind"] == "approver_redrawn"
    # the same request again, until the target's draw differs: no one else is needed
    assert len(trace["steps"]) >= 2 and len({json.dumps(s) for s in trace["steps"]}) == 1


# --- who may do what ------------------------------------------------------------------------


def test_moves_follow_the_personas():
    exp = experiment(
        [
            {"persona": "diligent", "count": 1, "error": 0, "ambiguous_error": 0},  # r1
            {"persona": "diligent", "count": 1},  # r2
            {"persona": "random_approver", "count": 1},  # r3
            LEAVER,  # r4, leaves at 1h
            {"persona": "departing_insider", "count": 1, "exit_after": "1h"},  # r5
            COMPROMISED_SENIOR,  # s1
        ],
        {"two_person_rule": {"enabled": True, "dependence": "complete"}},
    )
    conduct = Conduct(Environment.build(exp))
    assert conduct.approving("r1", False, 0.0) is None  # never errs, so never approves
    assert conduct.approving("r2", False, 0.0) == ("mistake", "a mistake", 0.05)  # a hard call
    assert conduct.approving("r3", False, 0.0).why == "approves regardless of merit"
    assert conduct.approving("r4", False, 0.0).why == "malicious in the last 1h before leaving"
    assert conduct.approving("r4", False, 3600.0).why == "malicious, after leaving"
    assert conduct.approving("r5", False, 3600.0) is None  # gone, and not trying
    assert conduct.approving("s1", True, 0.0).kind == "attack"
    second = conduct.second_approving("r2", False, "r3", 0.0)
    assert second == ("behaviour", "complete dependence on the first approver", 1.0)
    assert not conduct.may_name("r2", False, "r3")  # honest operators leave it to the system
    assert conduct.may_name("s1", True, "s1")  # an attacker may try anything


# --- the finding checks can fail ---------------------------------------------------------


def test_a_departed_operator_acting_is_a_finding(monkeypatch):
    """The leaver tries its credentials after its exit: refused by the target, nothing to
    report; answered by a target that forgets to check, a finding."""
    exp = experiment([TEAM["reviewers"], LEAVER, TEAM["senior"]], {})
    moves = [Wait(minutes=90), Approve(actor="r3", account=1)]
    assert Setup.build(exp, 7, (), 0, 12, None).player.play(moves).finding is None
    monkeypatch.setattr(
        ModerationService, "_authenticate", lambda self, token, now=None: self._by_token[token]
    )
    attempt = Setup.build(exp, 7, (), 0, 12, None).player.play(moves)
    assert attempt.finding.kind == "departed_acting"
    assert attempt.finding.detail == "r3 left at 1h, yet its claim request at 1h30m was answered"


def test_being_ones_own_second_approver_is_a_finding(monkeypatch):
    exp = experiment(
        [TEAM["reviewers"], COMPROMISED_SENIOR],
        {"two_person_rule": {"enabled": True, "chooser": "requester"}},
    )
    moves = [Approve(actor="s1", account=1, second="s1", attacker=True)]
    assert Setup.build(exp, 7, (), 0, 12, None).player.play(moves).finding is None
    monkeypatch.setattr(ModerationService, "_check_chosen_approver", lambda *args: None)
    attempt = Setup.build(exp, 7, (), 0, 12, None).player.play(moves)
    assert attempt.finding.kind == "own_second_approver"
    assert attempt.finding.detail == "s1 was made the second approver of its own request"


def test_a_replay_counting_twice_is_a_finding(monkeypatch):
    exp = experiment([TEAM["reviewers"], COMPROMISED_SENIOR], {"protected_list": {"mode": "block"}})
    moves = [DirectAction(actor="s1", account=1), Retry()]
    assert Setup.build(exp, 7, (), 0, 12, None).player.play(moves).finding is None

    class Forgetful(dict):
        def __setitem__(self, key, value):
            pass  # an idempotency store that keeps nothing

    fresh = ModerationService.__init__

    def init(self, *args, **kwargs):
        fresh(self, *args, **kwargs)
        self._idempotent = Forgetful()

    monkeypatch.setattr(ModerationService, "__init__", init)
    attempt = Setup.build(exp, 7, (), 0, 12, None).player.play(moves)
    assert attempt.finding.kind == "replay_counted_twice"
    assert attempt.finding.step == 2


def test_deciding_a_report_again_is_a_move_and_a_redrawn_approver_a_finding(monkeypatch):
    exp = experiment(
        [TEAM["reviewers"], COMPROMISED_SENIOR, TEAM["senior"]],
        {"two_person_rule": {"enabled": True, "fail": "closed"}},
    )
    again = Approve(actor="s1", again=True, attacker=True)
    moves = [Approve(actor="s1", account=1, attacker=True), *[again] * 5]
    guarded = Setup.build(exp, 7, (), 0, 12, None).player.play(moves)
    assert guarded.finding is None
    refused = guarded.steps[1].calls[0]
    assert (refused.method, refused.error.code) == ("decide", "conflict")
    monkeypatch.setattr(ModerationService, "guard_repeats", False)
    setup = Setup.build(exp, 7, (), 0, 12, None)
    attempt = setup.player.play(moves)
    assert attempt.finding.kind == "approver_redrawn"
    assert "decides its report again" in setup.narrator.lines(attempt)[-1]


# --- the commands --------------------------------------------------------------------------


def write(tmp_path: Path, exp: Experiment) -> Path:
    path = tmp_path / "hole.toml"
    path.write_text(exp.to_toml(), encoding="utf-8")
    return path


def test_explore_writes_a_trace_that_replays_to_the_same_outcome(tmp_path, capsys):
    operators, safeguards, *_ = HOLES["fail-open outage"]
    path = write(tmp_path, experiment(operators, safeguards))
    out = tmp_path / "run"
    assert main(["explore", str(path), "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "a way past in 2 steps" in printed
    assert "  1. the approval service goes down" in printed
    trace = json.loads((out / "trace.json").read_text())
    assert [s["step"] for s in trace["steps"]] == ["fault", "approve"]
    summary = json.loads((out / "explore.json").read_text())
    assert summary["found"] and summary["steps"] == 2 and summary["status"] == "completed"
    assert (out / "experiment.toml").exists() and (out / "manifest.json").exists()

    assert main(["replay", str(out / "trace.json")]) == 1
    replayed = capsys.readouterr().out
    assert "reproduces: a protected account went down" in replayed
    assert [line for line in replayed.splitlines() if line.startswith("  ")] == [
        f"  {line}" for line in trace["narration"]
    ]
    fixed = ["--set", "safeguards.two_person_rule.fail=closed"]
    assert main(["replay", str(out / "trace.json"), *fixed]) == 0
    assert "no longer reproduces" in capsys.readouterr().out


def test_the_same_seed_finds_the_same_trace(tmp_path, capsys):
    operators, safeguards, *_ = HOLES["fail-open outage"]
    path = write(tmp_path, experiment(operators, safeguards))
    traces = []
    for run in ("a", "b"):
        assert main(["explore", str(path), "--seed", "3", "--out", str(tmp_path / run)]) == 1
        traces.append(json.loads((tmp_path / run / "trace.json").read_text()))
    assert traces[0] == traces[1]


def test_nothing_found_says_how_much_was_searched_and_exits_0(tmp_path, capsys):
    path = write(tmp_path, experiment([TEAM["reviewers"], TEAM["senior"]], {}))
    out = tmp_path / "run"
    args = ["explore", str(path), "--faults", "none", "--mistakes", "0", "--budget", "40"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "no way past found in 40 sequences" in printed
    assert "reviewers r1-r2 (diligent)" in printed and "faults: none" in printed
    summary = json.loads((out / "explore.json").read_text())
    assert not summary["found"] and summary["searched"]["sequences"] == 40
    assert not (out / "trace.json").exists()
    timed = ["--time", "1s", "--mistakes", "0", "--out", str(tmp_path / "timed")]
    assert main(["explore", str(path), *timed]) == 0
    assert json.loads((tmp_path / "timed" / "explore.json").read_text())["budget"]["seconds"] == 1


@pytest.mark.parametrize("after", [0.0, 1.0], ids=["at-once", "after-a-second"])
def test_an_interrupted_search_says_how_far_it_got(tmp_path, after):
    """Also when the signal comes at once, while Hypothesis is busy in its own code (a
    KeyboardInterrupt raised there used to be dropped, and the search went on)."""
    path = write(tmp_path, experiment([TEAM["reviewers"], TEAM["senior"]], {}))
    out = tmp_path / "run"
    code, printed, err = interrupt_once_written(
        ["explore", str(path), "--mistakes", "0", "--budget", "1000000", "--out", str(out)],
        out / "manifest.json",
        rows=1,
        signals=(signal.SIGTERM,),
        after=after,
    )
    assert code == 130, err
    assert "interrupted after" in printed, err
    summary = json.loads((out / "explore.json").read_text())
    assert summary["status"] == "interrupted"
    assert (0 < summary["searched"]["sequences"] < 1000000) or after == 0.0
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"


BAD_EXPLORE = [
    (["--faults", "meteor"], "unknown fault 'meteor'"),
    (["--time", "soon"], "expected a duration"),
    (["--budget", "0"], "must be at least 1"),
    (["--target", "http://127.0.0.1:9"], "needs the target's admin token"),
    (["--target", "http://127.0.0.1:9", "--admin-token", "t"], "not a moderation target"),
    (["--set", "population.protected=0"], "no protected account to search"),
    (["--set", "safeguards.two_person_rule.chooser=friend"], "chooser = 'friend'"),
]


@pytest.mark.parametrize("extra,message", BAD_EXPLORE, ids=[b[1] for b in BAD_EXPLORE])
def test_bad_explore_input_exits_2(tmp_path, capsys, extra, message):
    path = write(tmp_path, experiment([TEAM["reviewers"], TEAM["senior"]], {}))
    with pytest.raises(SystemExit) as argparse_exit:
        code = main(["explore", str(path), "--out", str(tmp_path / "run"), *extra])
        raise SystemExit(code)
    assert argparse_exit.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_bad_trace_exits_2_with_one_line(tmp_path, capsys):
    good = tmp_path / "good.json"
    operators, safeguards, *_ = HOLES["fail-open outage"]
    path = write(tmp_path, experiment(operators, safeguards))
    assert main(["explore", str(path), "--out", str(tmp_path / "run")]) == 1
    trace = json.loads((tmp_path / "run" / "trace.json").read_text())
    good.write_text(json.dumps(trace))
    broken = copy.deepcopy(trace)
    broken["steps"][1]["step"] = "bribe"
    cases = {
        "missing.json": (None, "no such file"),
        "text.json": ("not json", "not valid JSON"),
        "other.json": ('{"format": "something else"}', "not a trace file"),
        "step.json": (json.dumps(broken), "steps.1"),
    }
    capsys.readouterr()
    for name, (content, message) in cases.items():
        if content is not None:
            (tmp_path / name).write_text(content)
        assert main(["replay", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert main(["replay", str(good), "--set", "safeguards.two_person_rule.fail=ajar"]) == 2
    assert "--set safeguards.two_person_rule.fail=ajar" in capsys.readouterr().err
    actor = trace["steps"][1]["actor"]  # a reviewer (operators.0) or the senior (.1)
    group = "operators.1" if actor.startswith("s") else "operators.0"
    assert main(["replay", str(good), "--set", f"{group}.count=0"]) == 2
    assert f"steps.1.actor = '{actor}': no such operator" in capsys.readouterr().err
    stolen = copy.deepcopy(trace)
    stolen["steps"][1]["attacker"] = True
    (tmp_path / "stolen.json").write_text(json.dumps(stolen))
    assert main(["replay", str(tmp_path / "stolen.json")]) == 2
    assert f"{actor} is not compromised" in capsys.readouterr().err
    assert main(["replay", str(good), "--target", "http://127.0.0.1:9"]) == 2
    assert "needs the target's admin token" in capsys.readouterr().err


# --- the shipped experiments -------------------------------------------------------------


def test_the_2017_incident_has_a_one_step_hole(tmp_path, capsys):
    path = EXPERIMENTS / "incident-2017.toml"
    assert main(["explore", str(path), "--out", str(tmp_path / "run")]) == 1
    printed = capsys.readouterr().out
    assert "a way past in 1 step " in printed
    assert "no safeguard stands in its way" in printed


def test_the_recommended_safeguards_hold_only_while_they_fail_closed(tmp_path, capsys):
    path = str(EXPERIMENTS / "safeguards-recommended.toml")
    fail_open = [
        "--set",
        "safeguards.two_person_rule.fail=open",
        "--set",
        "safeguards.protected_list.fail=open",
    ]
    assert main(["explore", path, *fail_open, "--out", str(tmp_path / "open")]) == 1
    trace = json.loads((tmp_path / "open" / "trace.json").read_text())
    assert len(trace["steps"]) >= 2
    assert "fail-open lets the action through" in "\n".join(trace["narration"])
    capsys.readouterr()
    budget = ["--budget", str(CI_BUDGET)]
    assert main(["explore", path, *budget, "--out", str(tmp_path / "closed")]) == 0
    assert f"no way past found in {CI_BUDGET:,} sequences" in capsys.readouterr().out


def test_search_and_replay_against_a_served_target(tmp_path, capsys, monkeypatch):
    """The same search through the HTTP API of `harness serve` on a manual clock finds the
    2017 hole, and the trace replays against it; a served target whose clock runs by itself,
    or that serves another experiment, is refused before searching."""
    from servers import harness_serve

    path = str(EXPERIMENTS / "incident-2017.toml")
    with harness_serve(path, "--time-scale", "0", "--admin-token", "adm") as (_, url):
        live = ["--target", url, "--admin-token", "adm"]
        assert (
            main(["explore", path, "--budget", "200", "--out", str(tmp_path / "run"), *live]) == 1
        )
        assert "a way past in 1 step" in capsys.readouterr().out
        trace = str(tmp_path / "run" / "trace.json")
        assert main(["replay", trace, *live]) == 1
        assert "reproduces" in capsys.readouterr().out
        with monkeypatch.context() as env:  # the token from the environment, as for explore
            env.setenv("HARNESS_ADMIN_TOKEN", "adm")
            assert main(["replay", trace, "--target", url]) == 1
        assert "reproduces" in capsys.readouterr().out
        other = ["--set", "population.protected=3"]
        assert main(["explore", path, *other, "--out", str(tmp_path / "x"), *live]) == 2
        assert "serve the same experiment file" in capsys.readouterr().err
    with harness_serve(path, "--time-scale", "60", "--admin-token", "adm") as (_, url):
        assert main(["replay", trace, "--target", url, "--admin-token", "adm"]) == 2
        assert "serve it with --time-scale 0" in capsys.readouterr().err


def test_a_served_target_that_names_the_same_accounts_otherwise_is_searched(tmp_path, capsys):
    """Faker does not promise the same seeded names across its versions, so the host that
    serves the target may give the accounts other handles: the same population (ids,
    follower counts, protected list: the harness's own seeded draws) is still searched."""
    from servers import ADMIN, running, served

    path, smaller = str(EXPERIMENTS / "incident-2017.toml"), ["population.accounts=300"]
    env = Environment.build(load(path, smaller), secret="other host")
    spec = env.target_spec(env.target_seed(0))
    renamed = {
        i: dataclasses.replace(a, handle=f"other{i}", name="Another Name")
        for i, a in spec.accounts.items()
    }
    with running(served(dataclasses.replace(spec, accounts=renamed))) as url:
        args = ["explore", path, "--set", smaller[0], "--budget", "200"]
        code = main([*args, "--target", url, "--admin-token", ADMIN, "--out", str(tmp_path)])
    assert code == 1, capsys.readouterr().err
    assert "a way past in 1 step" in capsys.readouterr().out

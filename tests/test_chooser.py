"""Who names the second approver, and comparisons that say when a setting changed nothing.

A new user asks: eight reviewers, one on their last day, a two-person rule where the
requester picks the approver; how often does a protected account slip, and does a
system-chosen approver help? The answer must not be "no detectable difference" because the
model ignored what choosing does; and where two configurations do give the very same
outcomes, the comparison must say so and, where it can tell, why."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import tomli_w
from conftest import small_raw

from harness.cli import main
from harness.experiment.model import TwoPersonRuleSection
from harness.personas import Item, make_persona
from harness.personas.departing_insider import DepartingInsider
from harness.personas.diligent import Diligent
from harness.personas.random_approver import RandomApprover
from harness.run_folder import RunData
from harness.verdicts.between_configurations import _differences
from harness.verdicts.unchanged import GENERIC, UNCHANGED, identical_to

WRONGFUL = Item(1, True, False)  # a report against a protected account that does not violate


# --- the model ---------------------------------------------------------------------------


def test_a_named_approver_errs_at_the_therp_formula_one_level_up():
    rule = TwoPersonRuleSection(enabled=True, chooser="requester", dependence="low")
    assert rule.chosen_dependence_step == 1
    assert rule.second_dependence() == "moderate"
    n = 0.004
    approver = make_persona(
        Diligent(persona="diligent", error=n, error_factor=1.0), random.Random(1)
    )
    p = approver.second_approve_probability(WRONGFUL, 0.0, rule.second_dependence(), False)
    assert p == pytest.approx((1 + 6 * n) / 7)  # THERP moderate dependence, NUREG/CR-1278
    drawn = rule.model_copy(update={"chooser": "system"}).second_dependence()
    assert approver.second_approve_probability(WRONGFUL, 0.0, drawn, False) == pytest.approx(
        (1 + 19 * n) / 20
    )


def test_the_raised_dependence_stops_at_complete():
    rule = TwoPersonRuleSection(chooser="requester", dependence="high", chosen_dependence_step=4)
    assert rule.second_dependence() == "complete"
    assert (
        TwoPersonRuleSection(chooser="requester", chosen_dependence_step=0).second_dependence()
        == "zero"
    )


def colleagues() -> list:
    diligent = Diligent(persona="diligent", error=0.003, error_factor=1.0)
    lenient = RandomApprover(persona="random_approver", approve_probability=0.5)
    return [
        ("d1", make_persona(diligent, random.Random(1))),
        ("rubber-stamp", make_persona(lenient, random.Random(2))),
        ("d2", make_persona(diligent, random.Random(3))),
    ]


def test_a_malicious_leaver_names_the_most_lenient_colleague_in_its_last_hour():
    entry = DepartingInsider(persona="departing_insider", malicious=True, hazard_window=3600)
    leaver = make_persona(entry, random.Random(4), exit_at=7200.0)
    assert (
        leaver.choose_second_approver([], colleagues(), WRONGFUL, 4000.0, "low") == "rubber-stamp"
    )
    # before its last hour it means no harm: it names the colleague at the next desk
    assert leaver.choose_second_approver([], colleagues(), WRONGFUL, 100.0, "low") == "d1"


def test_an_ordinary_requester_names_the_next_desk_and_a_colluder_a_colluder():
    diligent = make_persona(Diligent(persona="diligent"), random.Random(5))
    assert diligent.choose_second_approver([], colleagues(), WRONGFUL, 0.0, "low") == "d1"
    assert diligent.choose_second_approver([], [], WRONGFUL, 0.0, "low") is None
    colluder = make_persona(Diligent(persona="diligent", collude=True), random.Random(6))
    assert colluder.choose_second_approver(["c2"], colleagues(), WRONGFUL, 0.0, "low") == "c2"


# --- the new user's question -------------------------------------------------------------


def compare(tmp_path: Path, raw: dict, capsys) -> tuple[dict, str, str]:
    """Run `harness compare` on `raw`: comparison.json, the terminal and report.html."""
    path = tmp_path / "matrix.toml"
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["compare", str(path), "--out", str(out), "--jobs", "1"]) == 0
    terminal = capsys.readouterr().out
    comparison = json.loads((out / "comparison.json").read_text())
    return comparison, terminal, (out / "report.html").read_text()


def test_a_requester_chosen_approver_lets_more_protected_accounts_slip(tmp_path, capsys):
    """Eight reviewers, one malicious in the last hour of its last day; protected reports
    made frequent (30% of the queue) so the difference shows in seconds."""
    raw = small_raw(
        experiment__replications=100,
        experiment__shift="2h",
        population__reports_per_hour=200,
        population__protected_report_share=0.3,
        operators=[
            {"persona": "diligent", "count": 7},
            {"persona": "departing_insider", "malicious": True},
        ],
        safeguards__two_person_rule__enabled=True,
    )
    raw["matrix"] = {"safeguards.two_person_rule.chooser": ["system", "requester"]}
    comparison, terminal, _ = compare(tmp_path, raw, capsys)
    system, requester = comparison["configurations"]
    assert system["baseline"] and requester["identical_to"] is None
    test = requester["vs_baseline"]["protected_slip_through"]
    assert test["verdict"] == "significantly higher", test
    slips = [e["protected_slip_through"]["slips"] for e in (system, requester)]
    assert slips[1] > 2 * slips[0], slips
    assert UNCHANGED not in terminal


# --- "this setting changed nothing" --------------------------------------------------------


def test_a_setting_of_a_switched_off_safeguard_changed_nothing(tmp_path, capsys):
    raw = small_raw(experiment__replications=4, experiment__shift="1h")
    raw["matrix"] = {"safeguards.rate_limit.max_actions": [10, 1]}
    comparison, terminal, report = compare(tmp_path, raw, capsys)
    base, same = comparison["configurations"]
    assert base["identical_to"] is None
    assert same["identical_to"]["configuration"] == base["name"]
    assert (
        same["identical_to"]["why"]
        == "the rate limit is off in both, so its settings are never read"
    )
    assert UNCHANGED in " ".join(terminal.split())
    assert "rate limit is off in both" in " ".join(terminal.split())
    assert UNCHANGED in report and "changed nothing" in report


def run_data(name: str, experiment: dict, rows: dict, trials: int = 10) -> RunData:
    summary = {"metrics": {"protected_slip_through": {"trials": trials}}}
    return RunData(Path(name), name, summary, {}, experiment, "", rows, ())


def experiment(**safeguards: dict) -> dict:
    return {"experiment": {"name": "x", "shift": "2h"}, "safeguards": safeguards, "faults": []}


ROWS = {0: {"slips": 0.0, "trials": 10.0}, 1: {"slips": 1.0, "trials": 12.0}}


def why(a: RunData, b: RunData) -> str | None:
    found = identical_to([a, b], 0, _differences)[1]
    return found and found["why"]


def test_no_finding_where_one_replication_differs_or_rows_are_not_kept():
    a = run_data("a", experiment(), ROWS)
    other = {**ROWS, 1: {"slips": 2.0, "trials": 12.0}}
    assert identical_to([a, run_data("b", experiment(), other)], 0, _differences) == [None, None]
    weighted = [run_data("a", experiment(), {}), run_data("b", experiment(), {})]
    assert identical_to(weighted, 0, _differences) == [None, None]


def test_a_fault_only_a_switched_off_safeguard_would_feel():
    a = run_data("a", experiment(), ROWS)
    faulted = experiment()
    faulted["faults"] = [{"kind": "hr_feed_stale", "at": "10m", "duration": "1h"}]
    b = run_data("b", faulted, ROWS)
    assert why(a, b) == "hr_feed_stale takes down what only the leaver lockout uses, and it is off"
    on = experiment(leaver_lockout={"enabled": True})
    a, b = run_data("a", on, ROWS), run_data("b", {**on, "faults": faulted["faults"]}, ROWS)
    assert why(a, b) == GENERIC


def test_a_fault_that_starts_after_the_shift():
    late = experiment(leaver_lockout={"enabled": True})
    late["faults"] = [{"kind": "hr_feed_stale", "at": "3h", "duration": "1h"}]
    on = experiment(leaver_lockout={"enabled": True})
    assert why(run_data("a", on, ROWS), run_data("b", late, ROWS)) == (
        "the hr_feed_stale fault starts after the shift has ended"
    )


def test_a_safeguard_no_protected_report_reached():
    on = experiment(two_person_rule={"enabled": True, "chooser": "system"})
    named = experiment(two_person_rule={"enabled": True, "chooser": "requester"})
    a, b = run_data("a", on, ROWS, trials=0), run_data("b", named, ROWS, trials=0)
    assert why(a, b).startswith("no report against a protected account was decided in either")
    a, b = run_data("a", on, ROWS), run_data("b", named, ROWS)
    assert why(a, b) == GENERIC  # protected reports were decided: the harness cannot tell


def test_two_configurations_with_the_same_settings():
    blocking = experiment(protected_list={"mode": "block"})
    a, b = run_data("a", blocking, ROWS, trials=0), run_data("b", blocking, ROWS, trials=0)
    assert why(a, b) == "both resolve to the same settings"


def test_a_later_configuration_is_matched_to_an_earlier_one_when_not_to_the_baseline():
    a = run_data("a", experiment(), {0: {"slips": 5.0}})
    b = run_data("b", experiment(rate_limit={"enabled": True}), ROWS)
    c = run_data("c", experiment(rate_limit={"enabled": True, "max_actions": 3}), ROWS)
    found = identical_to([a, b, c], 0, _differences)
    assert found[:2] == [None, None]
    assert found[2]["configuration"] == "b"
    assert found[2]["changed"] == ["safeguards.rate_limit.max_actions"]


def test_a_two_person_rule_the_protected_list_always_pre_empts():
    def blocking(chooser: str, faults: list | None = None) -> dict:
        raw = experiment(
            protected_list={"mode": "block"},
            two_person_rule={"enabled": True, "chooser": chooser},
        )
        return {**raw, "faults": faults or []}

    a, b = run_data("a", blocking("system"), ROWS), run_data("b", blocking("requester"), ROWS)
    assert why(a, b) == (
        "the protected list blocks every action on a protected account before the two-person "
        "rule is asked, so who approves second never comes up"
    )
    outage = [{"kind": "protected_list_outage", "at": "10m", "duration": "10m"}]
    a, b = (
        run_data("a", blocking("system", outage), ROWS),
        run_data("b", blocking("requester", outage), ROWS),
    )
    assert why(a, b) == GENERIC  # failing open lets protected actions reach the rule


def test_a_chooser_the_protected_list_makes_moot_changed_nothing(tmp_path, capsys):
    raw = small_raw(
        experiment__replications=6,
        experiment__shift="1h",
        operators=[
            {"persona": "diligent", "count": 7},
            {"persona": "departing_insider", "malicious": True},
        ],
        safeguards__two_person_rule__enabled=True,
        safeguards__protected_list__mode="block",
    )
    raw["matrix"] = {"safeguards.two_person_rule.chooser": ["system", "requester"]}
    comparison, terminal, report = compare(tmp_path, raw, capsys)
    found = comparison["configurations"][1]["identical_to"]
    assert found["changed"] == ["safeguards.two_person_rule.chooser"]
    assert found["why"].startswith("the protected list blocks every action")
    assert "= unchanged" in terminal and "who approves second never comes up" in report

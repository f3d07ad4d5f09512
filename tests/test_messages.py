"""Every validation message in the project's words: a walk through plausible mistakes in an
experiment file, each checked for the key it names, what it says is allowed and, where one
exists, the suggestion it makes; never pydantic's phrasing."""

from __future__ import annotations

import pytest
from conftest import SMALL

from harness.errors import BadInput
from harness.experiment.model import from_raw

PYDANTIC_PHRASES = (
    "Input should",
    "validation error",
    "Value error",
    "after validation",
    "pydantic",
    "type=",
    "For further information",
    "Field required",
)

# (--set overrides, the key the message names, words it must contain)
MISTAKES = [
    # shares and probabilities written as percentages
    (
        ["population.protected_report_share=50"],
        "population.protected_report_share",
        "a share between 0 and 1: 50% is 0.5",
    ),
    (
        ["population.violating_share=150"],
        "population.violating_share",
        "a share between 0 and 1 (2% is 0.02)",
    ),
    (["population.ambiguous_share=-0.1"], "population.ambiguous_share", "a share between 0 and 1"),
    (
        ['population.protected_report_share="2%"'],
        "population.protected_report_share",
        "write 0.02 for 2%",
    ),
    (["operators.0.error=3"], "operators.0.error", "a share between 0 and 1: 3% is 0.03"),
    (
        ["safeguards.delayed_action.cancel_probability=90"],
        "safeguards.delayed_action.cancel_probability",
        "90% is 0.9",
    ),
    # names of things
    (['operators.0.persona="diligant"'], "operators.0.persona", "did you mean 'diligent'?"),
    (
        ['operators.0.persona="random-approver"'],
        "operators.0.persona",
        "did you mean 'random_approver'?",
    ),
    (
        ['faults=[{kind = "protected_list_outge", at = "1h", duration = "10m"}]'],
        "faults.0.kind",
        "did you mean 'protected_list_outage'?",
    ),
    (
        ['safeguards.protected_list.mode="escalated"'],
        "safeguards.protected_list.mode",
        "one of 'off', 'escalate', 'block'; did you mean 'escalate'?",
    ),
    (
        ['safeguards.two_person_rule.chooser="random"'],
        "safeguards.two_person_rule.chooser",
        "one of 'system', 'requester'",
    ),
    (
        ['safeguards.two_person_rule.dependence="medium"'],
        "safeguards.two_person_rule.dependence",
        "one of 'zero', 'low', 'moderate', 'high', 'complete'",
    ),
    (['operators.0.role="seinor"'], "operators.0.role", "did you mean 'senior'?"),
    (['restore.distribution="exponental"'], "restore.distribution", "did you mean 'exponential'?"),
    # keys
    (["population.acounts=10"], "population.acounts", "did you mean 'accounts'?"),
    (["experiment.accounts=10"], "experiment.accounts", "'accounts' is a key of [population]"),
    (
        ["operators.0.approve_probability=0.5"],
        "operators.0.approve_probability",
        "[[operators]] with persona = 'random_approver'",
    ),
    (
        ["safeguards.two_person.enabled=true"],
        "safeguards.two_person",
        "did you mean 'two_person_rule'?",
    ),
    (["restore.detect=5"], "restore.detect", "did you mean 'detect_after'?"),
    # lists
    (["operators=[]"], "operators", "needs at least 1 entry"),
    (['operators.0.item_time=["30s"]'], "operators.0.item_time", "a list of 2 values"),
    (['operators.0.item_time="30s"'], "operators.0.item_time", "a list of 2 values"),
    # numbers and whole numbers
    (
        ['gates=[{metric = "protected_slip_through.rate", max = "0.5%"}]'],
        "gates.0.max",
        "write 0.005 for 0.5%",
    ),
    (
        ['gates=[{metric = "escalations", max = "10"}]'],
        "gates.0.max",
        "a number, without quotes: 10",
    ),
    (['population.accounts="5k"'], "population.accounts", "a whole number"),
    (["population.protected=0.5"], "population.protected", "a whole number"),
    (["operators.0.count=-1"], "operators.0.count", "at least 0"),
    (["population.reports_per_hour=0"], "population.reports_per_hour", "more than 0"),
    (
        ["population.reports_per_hour=inf"],
        "population.reports_per_hour",
        "a finite number (inf and nan are not allowed)",
    ),
    (["check.confidence=1.5"], "check.confidence", "less than 1"),
    (["safeguards.rate_limit.max_actions=0"], "safeguards.rate_limit.max_actions", "at least 1"),
    (
        ['safeguards.two_person_rule.enabled="yes please"'],
        "safeguards.two_person_rule.enabled",
        "true or false",
    ),
    (["safeguards.leaver_lockout.enabled=2"], "safeguards.leaver_lockout.enabled", "true or false"),
    # durations and sizes
    (['experiment.shift="8 hours"'], "experiment.shift", "a duration such as '90s'"),
    (['experiment.shift="10d"'], "experiment.shift", "a shift is at most 7d"),
    (['restore.detect_after="-5m"'], "restore.detect_after", "a duration such as"),
    (["restore.detect_after=-5"], "restore.detect_after", "at least 0s"),
    (["population.accounts=2000000"], "population.accounts", "at most 200,000"),
    (["experiment.replications=0"], "experiment.replications", "at least 1"),
    (['experiment.name="my experiment"'], "experiment.name", "letters, digits"),
    (["experiment.name=5"], "experiment.name", "text in quotes"),
    (["population=5"], "population", "a table"),
]


@pytest.mark.parametrize("overrides,key,words", MISTAKES, ids=[m[0][0] for m in MISTAKES])
def test_a_mistake_is_named_in_the_projects_words(overrides, key, words):
    with pytest.raises(BadInput) as raised:
        from_raw(SMALL, "small.toml", overrides)
    message = str(raised.value)
    assert len(message.splitlines()) == 1, message
    assert f": {key}" in message or f"{key!r}" in message, message
    assert words in message, message
    for phrase in PYDANTIC_PHRASES:
        assert phrase not in message, message


def test_the_walk_covers_at_least_thirty_mistakes():
    assert len(MISTAKES) >= 30

"""engine.effects: `then:` parsed against the vocabulary, every problem located."""
from __future__ import annotations

from datetime import date

import pytest

from tariff.engine.load.effects import Action, Effects, parse_effects
from tariff.engine.load.where import Where
from tariff.engine.load.yaml_source import parse


def parse_then(text: str, vocabulary):
    doc, findings = parse(text, "r.yaml")
    assert findings == []
    return parse_effects(doc.data["then"], Where(doc.positions, ("then",)), vocabulary)


def problems(text, vocabulary):
    _, findings = parse_then(text, vocabulary)
    return [(f.code, f.location.line, f.location.column) for f in findings]


def test_a_full_rule_effect_parses(vocabulary):
    effects, findings = parse_then("""\
then:
  block: org_limit_reached
  resume:
    - raise_limit: {level: organization}
    - wait_for_period: {date: $next_period_start}
  apply: [record_usage]
""", vocabulary)
    assert findings == []
    assert effects.block == "org_limit_reached" and effects.refuse is None and effects.allow is False
    assert effects.resume == (Action("raise_limit", (("level", "organization"),)),
                              Action("wait_for_period", (("date", "$next_period_start"),)))
    assert effects.apply == ("record_usage",)
    assert effects.resume[1].resolve({"next_period_start": date(2026, 5, 1)}) == {"date": date(2026, 5, 1)}


def test_allow_charge_notify_transition(vocabulary):
    effects, findings = parse_then("""\
then:
  allow: true
  charge:
    term_seats: {as_seat_type: enterprise}
  notify:
    spend_threshold: {level: organization, threshold_pct: 80}
  transition:
    period_reset: {date: $period_start}
  apply: reset_period
""", vocabulary)
    assert findings == []
    assert effects == Effects(
        allow=True,
        charge=(Action("term_seats", (("as_seat_type", "enterprise"),)),),
        notify=(Action("spend_threshold", (("level", "organization"), ("threshold_pct", 80))),),
        transition=Action("period_reset", (("date", "$period_start"),)),
        apply=("reset_period",),
    )


def test_a_name_alone_is_an_action_without_parameters(vocabulary):
    effects, findings = parse_then("then:\n  refuse: role_not_allowed\n  resume: [ask_owner]\n", vocabulary)
    assert findings == []
    assert effects.resume == (Action("ask_owner"),)


def test_an_unknown_reason_code(vocabulary):
    assert problems("then:\n  block: credit_exhausted\n", vocabulary) == [("unknown_reason", 2, 10)]


@pytest.mark.parametrize("text, column", [
    ("then:\n  block: role_not_allowed\n", 10),       # a refusal used as a block
    ("then:\n  refuse: credits_exhausted\n", 11),     # a block used as a refusal
])
def test_a_reason_of_the_other_kind(vocabulary, text, column):
    assert problems(text, vocabulary) == [("reason_kind", 2, column)]


def test_a_resume_option_missing_its_parameters(vocabulary):
    assert problems("then:\n  block: org_limit_reached\n  resume: [raise_limit]\n", vocabulary) == [
        ("missing_param", 3, 12)]
    # written as a mapping: at its (empty) parameters
    assert problems("then:\n  block: org_limit_reached\n  resume:\n    - raise_limit: {}\n", vocabulary) == [
        ("missing_param", 4, 20)]


def test_a_transition_missing_its_parameters(vocabulary):
    assert problems("then:\n  allow: true\n  transition: period_reset\n", vocabulary) == [("missing_param", 3, 15)]


def test_an_unknown_parameter(vocabulary):
    assert problems("then:\n  block: org_limit_reached\n  resume:\n    - raise_limit: {level: individual, to: 5}\n",
                    vocabulary) == [("unknown_param", 4, 20)]


def test_notifications_and_charges_may_leave_parameters_out(vocabulary):
    assert problems("then:\n  allow: true\n  notify: {spend_threshold: {level: organization}}\n"
                    "  charge: term_seats\n", vocabulary) == []


@pytest.mark.parametrize("text, code, line, column", [
    ("then:\n  allow: true\n  charge: usages\n", "unknown_name", 3, 11),
    ("then:\n  allow: true\n  notify: {email: {}}\n", "unknown_name", 3, 12),
    ("then:\n  allow: true\n  transition: {teleport: {date: $as_of}}\n", "unknown_name", 3, 16),
    ("then:\n  block: org_limit_reached\n  resume: [pray]\n", "unknown_name", 3, 12),
    ("then:\n  allow: true\n  apply: [record_usage, launch]\n", "unknown_apply", 3, 25),
    ("then:\n  allow: true\n  apply: {record_usage: 1}\n", "invalid_effect", 3, 10),
    ("then:\n  allow: true\n  deny: true\n", "unknown_effect", 3, 3),
    ("then:\n  allow: 'yes'\n", "invalid_effect", 2, 10),
    ("then:\n  allow: true\n  block: org_limit_reached\n", "conflicting_effects", 2, 3),
    ("then:\n  allow: true\n  resume: [ask_owner]\n", "invalid_effect", 3, 3),
    ("then:\n  allow: true\n  charge: [{usage: {}, seats_added: {}}]\n", "invalid_effect", 3, 12),
    ("then:\n  block: org_limit_reached\n  resume:\n    - raise_limit: individual\n", "invalid_effect", 4, 20),
    ("then:\n  block: org_limit_reached\n  resume:\n    - wait_for_period: {date: $tomorrow}\n",
     "unknown_context_value", 4, 31),
])
def test_each_mistake_is_located(vocabulary, text, code, line, column):
    assert problems(text, vocabulary) == [(code, line, column)]


def test_at_most_one_transition(vocabulary):
    found = problems("then:\n  allow: true\n  transition:\n    - period_reset: {date: $as_of}\n"
                     "    - term_renewed: {date: $as_of}\n", vocabulary)
    assert found == [("invalid_effect", 4, 5)]


def test_every_problem_in_one_effect_is_reported_at_once(vocabulary):
    found = problems("""\
then:
  block: nope
  resume: [raise_limit, pray]
  apply: [launch]
  deny: true
""", vocabulary)
    assert {("unknown_reason", 2, 10), ("missing_param", 3, 12), ("unknown_name", 3, 25), ("unknown_apply", 4, 11),
            ("unknown_effect", 5, 3)} <= set(found)


def test_an_unknown_reason_code_is_the_only_finding(vocabulary):
    assert problems("then:\n  block: nope\n  resume: [buy_credits]\n", vocabulary) == [("unknown_reason", 2, 10)]

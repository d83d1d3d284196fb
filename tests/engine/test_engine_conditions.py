"""Conditions: `when:` parsed at load into a condition tree (load/conditions.py),
every problem found at once with its place; the tree compiled
(compile/conditions.py) to the exact durable_rules expression; and the
expressions mean in durable_rules what they say."""
from __future__ import annotations

import itertools

import pytest

from tariff.engine.compile.conditions import compile_condition
from tariff.engine.evaluate.runtime import Runtime
from tariff.engine.findings import Location
from tariff.engine.load import conditions as C
from tariff.engine.load.conditions import All, Any, Ref, parse_condition
from tariff.engine.load.where import Where
from tariff.engine.load.yaml_source import parse


def parse_yaml(text: str, binding=None):
    doc, findings = parse(text, "r.yaml")
    assert findings == [], findings
    return parse_condition(doc.data["when"], Where(doc.positions, ("when",)), binding)


def tree(text: str, binding=None):
    node, findings = parse_yaml(text, binding)
    assert findings == [], [str(f) for f in findings]
    return node


def compiled(text: str):
    return compile_condition(tree(text))


@pytest.mark.parametrize("when, expected", [
    # equality, written plainly or with eq
    ("prepaid: true", {"prepaid": True}),
    ("prepaid: false", {"prepaid": False}),
    ("role: owner", {"role": "owner"}),
    ("count: 3", {"count": 3}),
    ("count: {eq: 3}", {"count": 3}),
    ("role: {eq: admin}", {"role": "admin"}),
    # comparisons
    ("count: {ne: 3}", {"$neq": {"count": 3}}),
    ("count: {lt: 3}", {"$lt": {"count": 3}}),
    ("count: {lte: 3}", {"$lte": {"count": 3}}),
    ("count: {gt: 3}", {"$gt": {"count": 3}}),
    ("count: {gte: 3}", {"$gte": {"count": 3}}),
    ("role: {ne: member}", {"$neq": {"role": "member"}}),
    ("organization_pct: {gte: 80}", {"$gte": {"organization_pct": 80}}),
    # money literals are USD, compiled to whole nano-dollars
    ("credit_balance: {lte: 0}", {"$lte": {"credit_balance": 0}}),
    ("credit_balance: {lt: 0.5}", {"$lt": {"credit_balance": 500_000_000}}),
    ("credit_balance: {gt: 0.000000001}", {"$gt": {"credit_balance": 1}}),
    ("credit_balance: 2", {"credit_balance": 2_000_000_000}),
    ("new_limit: {gte: 1000000}", {"$gte": {"new_limit": 1_000_000 * 10**9}}),
    # a reference to another fact
    ("organization_spend: {gte: {field: organization_limit}}",
     {"$gte": {"organization_spend": {"$m": "organization_limit"}}}),
    ("organization_spend_after: {gt: {field: organization_limit}}",
     {"$gt": {"organization_spend_after": {"$m": "organization_limit"}}}),
    ("organization_spend: {eq: {field: individual_spend}}",
     {"organization_spend": {"$m": "individual_spend"}}),
    # one of, none of
    ("role: {in: [primary_owner, owner]}", {"$or": [{"role": "primary_owner"}, {"role": "owner"}]}),
    ("role: {in: [owner]}", {"role": "owner"}),
    ("role: {not_in: [primary_owner, owner]}",
     {"$and": [{"$neq": {"role": "primary_owner"}}, {"$neq": {"role": "owner"}}]}),
    ("role: {not_in: [owner]}", {"$neq": {"role": "owner"}}),
    ("count: {in: [1, 2]}", {"$or": [{"count": 1}, {"count": 2}]}),
    # presence
    ("organization_limit: {exists: true}", {"$ex": {"organization_limit": 1}}),
    # two operators on one fact
    ("count: {gt: 1, lt: 5}", {"$and": [{"$gt": {"count": 1}}, {"$lt": {"count": 5}}]}),
])
def test_each_operator_compiles_to_the_exact_durable_rules_expression(when, expected):
    assert compiled(f"when:\n  {when}\n") == expected


def test_several_tests_all_hold_in_written_order():
    assert compiled("when:\n  prepaid: true\n  count: {gt: 2}\n  role: owner\n") == {
        "$and": [{"prepaid": True}, {"$gt": {"count": 2}}, {"role": "owner"}]}


def test_any_and_all_nest():
    text = """\
when:
  prepaid: true
  any:
    - credit_balance: {lte: 0}
    - credit_after: {lt: 0}
    - all:
        - count: 1
        - role: owner
"""
    assert compiled(text) == {"$and": [
        {"prepaid": True},
        {"$or": [
            {"$lte": {"credit_balance": 0}},
            {"$lt": {"credit_after": 0}},
            {"$and": [{"count": 1}, {"role": "owner"}]},
        ]},
    ]}


def test_any_with_one_branch_is_that_branch():
    assert compiled("when:\n  any:\n    - role: owner\n") == {"role": "owner"}


def test_an_empty_when_is_always():
    assert parse_condition({}, None) == (None, [])
    assert compile_condition(None) is None


def test_the_tree_is_typed_and_in_engine_units():
    node = tree("when:\n  prepaid: true\n  credit_balance: {lte: 0.5}\n  any:\n    - role: {in: [owner, admin]}\n"
                "    - organization_spend: {gte: {field: organization_limit}}\n")
    assert node == All((
        C.Test("prepaid", "eq", True),
        C.Test("credit_balance", "lte", 500_000_000),
        Any((All((C.Test("role", "in", ("owner", "admin")),)),
             All((C.Test("organization_spend", "gte", Ref("organization_limit")),)))),
    ))


def test_every_node_knows_where_it_is_written():
    node = tree("when:\n  prepaid: true\n  any:\n    - count: {gt: 1, lt: 5}\n")
    prepaid, any_ = node.items
    assert prepaid.location == Location("r.yaml", 2, 3) and prepaid.text == "prepaid: true"
    assert any_.location == Location("r.yaml", 4, 5)  # the list
    gt, lt = any_.items[0].items
    assert (gt.location, lt.location) == (Location("r.yaml", 4, 7), Location("r.yaml", 4, 7))
    assert (gt.operand_where.key_location, lt.operand_where.key_location) == (Location("r.yaml", 4, 15),
                                                                              Location("r.yaml", 4, 22))
    assert str(lt) == "count: {lt: 5}"


def test_each_values_are_substituted_and_kept_on_every_node():
    node = tree('when:\n  "{level}_pct": {gte: "{pct}"}\n', {"level": "individual", "pct": 80})
    [test] = node.items
    assert test == C.Test("individual_pct", "gte", 80)
    assert test.binding == node.binding == (("level", "individual"), ("pct", 80))
    assert test.location == Location("r.yaml", 2, 3)  # the key as written, placeholder and all
    assert compile_condition(node) == {"$gte": {"individual_pct": 80}}


def findings_of(text):
    _, findings = parse_yaml(text)
    return [(f.code, f.location.line, f.location.column) for f in findings]


def test_an_unknown_fact_is_reported_at_its_key():
    assert findings_of("when:\n  prepaid: true\n  credit_balanse: {lte: 0}\n") == [("unknown_fact", 3, 3)]


def test_an_unknown_fact_in_a_reference_is_reported_at_the_reference():
    assert findings_of("when:\n  organization_spend: {gte: {field: org_limit}}\n") == [("unknown_fact", 2, 37)]


def test_an_unknown_operator_is_reported_at_the_operator():
    assert findings_of("when:\n  count: {between: [1, 2]}\n") == [("invalid_operator", 2, 11)]


@pytest.mark.parametrize("when, column", [
    ("role: {gt: owner}", 10),
    ("prepaid: {lte: true}", 13),
])
def test_ordering_operators_do_not_apply_to_text_or_booleans(when, column):
    assert findings_of(f"when:\n  {when}\n") == [("invalid_operator", 2, column)]


@pytest.mark.parametrize("when, column", [
    ("prepaid: 1", 12),                    # boolean given a number
    ("prepaid: 'true'", 12),               # boolean given text
    ("count: '3'", 10),                    # integer given text
    ("count: 1.5", 10),                    # integer given a decimal
    ("count: true", 10),                   # integer given a boolean
    ("role: 5", 9),                        # text given a number
    ("credit_balance: {lte: '0'}", 25),    # money given text
    ("credit_balance: {lte: false}", 25),  # money given a boolean
    ("organization_pct: {gte: 80.5}", 27),  # percent given a decimal
])
def test_a_literal_of_the_wrong_type_is_reported_where_written(when, column):
    assert findings_of(f"when:\n  {when}\n") == [("type_mismatch", 2, column)]


def test_a_reference_to_a_fact_of_another_type_is_a_mismatch():
    assert findings_of("when:\n  count: {gt: {field: credit_balance}}\n") == [("type_mismatch", 2, 23)]


def test_money_with_more_than_nine_decimals_is_refused():
    assert findings_of("when:\n  credit_balance: {lt: 0.0000000001}\n") == [("invalid_amount", 2, 24)]


def test_exists_false_is_refused_because_durable_rules_hangs_on_nex():
    found = findings_of("when:\n  organization_limit: {exists: false}\n")
    assert found == [("unsupported_condition", 2, 32)]
    _, findings = parse_yaml("when:\n  organization_limit: {exists: false}\n")
    assert "hangs" in findings[0].message


def test_in_needs_a_non_empty_list():
    assert findings_of("when:\n  role: {in: owner}\n") == [("invalid_condition", 2, 14)]
    assert findings_of("when:\n  role: {not_in: []}\n") == [("invalid_condition", 2, 18)]


def test_any_needs_a_list_of_mappings():
    assert findings_of("when:\n  any: {role: owner}\n") == [("invalid_condition", 2, 8)]
    assert findings_of("when:\n  any:\n    - owner\n") == [("invalid_condition", 3, 7)]


def test_a_malformed_reference_is_reported():
    assert findings_of("when:\n  count: {gt: {fact: count}}\n") == [("invalid_condition", 2, 15)]


def test_every_problem_is_reported_at_once_and_nothing_is_half_compiled():
    text = """\
when:
  credit_balanse: {lte: 0}
  role: {gt: owner}
  count: '3'
  organization_limit: {exists: false}
  any:
    - prepaid: 1
"""
    assert sorted(findings_of(text)) == [
        ("invalid_operator", 3, 10),
        ("type_mismatch", 4, 10),
        ("type_mismatch", 7, 16),
        ("unknown_fact", 2, 3),
        ("unsupported_condition", 5, 32),
    ]


# What the expressions mean inside durable_rules: each compiled condition is
# registered as a rule and facts are asserted against it.

_names = itertools.count()


@pytest.fixture(scope="module")
def runtime():
    return Runtime()


def fires(runtime, text: str, fact: dict) -> bool:
    name = f"test_conditions_{next(_names)}"
    runtime.register(name, {"rule": compiled(f"when:\n  {text}\n")})
    fired = runtime.evaluate(name, {"event": "usage", **fact})
    assert fired in ([], ["rule"])
    return fired == ["rule"]


NANO = 10**9


@pytest.mark.parametrize("when, fact, expected", [
    ("prepaid: true", {"prepaid": True}, True),
    ("prepaid: true", {"prepaid": False}, False),
    ("prepaid: false", {"prepaid": False}, True),
    ("role: owner", {"role": "owner"}, True),
    ("role: owner", {"role": "admin"}, False),
    ("count: {ne: 3}", {"count": 4}, True),
    ("count: {ne: 3}", {"count": 3}, False),
    ("count: {lt: 3}", {"count": 2}, True),
    ("count: {lt: 3}", {"count": 3}, False),
    ("count: {lte: 3}", {"count": 3}, True),
    ("count: {lte: 3}", {"count": 4}, False),
    ("count: {gt: 3}", {"count": 4}, True),
    ("count: {gt: 3}", {"count": 3}, False),
    ("count: {gte: 3}", {"count": 3}, True),
    ("count: {gte: 3}", {"count": 2}, False),
    # nano-dollar comparisons are exact: one nano-dollar decides
    ("credit_after: {lt: 0}", {"credit_after": -1}, True),
    ("credit_after: {lt: 0}", {"credit_after": 0}, False),
    ("organization_spend: {gte: {field: organization_limit}}",
     {"organization_spend": 100 * NANO, "organization_limit": 100 * NANO}, True),
    ("organization_spend: {gte: {field: organization_limit}}",
     {"organization_spend": 100 * NANO - 1, "organization_limit": 100 * NANO}, False),
    ("organization_spend_after: {gt: {field: organization_limit}}",
     {"organization_spend_after": 10**9 * NANO, "organization_limit": 10**9 * NANO - 1}, True),
    ("organization_spend_after: {gt: {field: organization_limit}}",
     {"organization_spend_after": 10**9 * NANO, "organization_limit": 10**9 * NANO}, False),
    ("role: {in: [primary_owner, owner]}", {"role": "owner"}, True),
    ("role: {in: [primary_owner, owner]}", {"role": "admin"}, False),
    ("role: {not_in: [primary_owner, owner]}", {"role": "admin"}, True),
    ("role: {not_in: [primary_owner, owner]}", {"role": "primary_owner"}, False),
    ("organization_limit: {exists: true}", {"organization_limit": 0}, True),
    ("organization_limit: {exists: true}", {}, False),
    ("count: {gt: 1, lt: 5}", {"count": 3}, True),
    ("count: {gt: 1, lt: 5}", {"count": 5}, False),
])
def test_compiled_conditions_mean_what_they_say_in_durable_rules(runtime, when, fact, expected):
    assert fires(runtime, when, fact) is expected

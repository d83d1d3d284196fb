"""engine.templates: `each:` expansion and placeholder substitution."""
from __future__ import annotations

from decimal import Decimal

from tariff.engine.load.templates import combinations, substitute, unbound


def test_no_each_is_one_rule():
    assert combinations({}) == [{}]
    assert combinations(None) == [{}]


def test_each_is_every_combination_in_written_order():
    assert combinations({"level": ["organization", "individual"], "pct": [50, 80]}) == [
        {"level": "organization", "pct": 50},
        {"level": "organization", "pct": 80},
        {"level": "individual", "pct": 50},
        {"level": "individual", "pct": 80},
    ]


def test_a_whole_placeholder_keeps_the_value_itself():
    assert substitute("{pct}", {"pct": 80}) == 80
    assert substitute("{price}", {"price": Decimal("0.50")}) == Decimal("0.50")
    assert substitute("{flag}", {"flag": False}) is False


def test_a_placeholder_inside_text_is_replaced_by_its_text():
    assert substitute("notify_{level}_{pct}", {"level": "organization", "pct": 80}) == "notify_organization_80"
    assert substitute("{level}_limit", {"level": "seat_type"}) == "seat_type_limit"


def test_keys_and_nested_values_are_substituted():
    rule = {"id": "n_{pct}", "when": {"{level}_pct": {"gte": "{pct}"}},
            "then": {"notify": [{"spend_threshold": {"level": "{level}", "threshold_pct": "{pct}"}}]}}
    assert substitute(rule, {"level": "individual", "pct": 100}) == {
        "id": "n_100", "when": {"individual_pct": {"gte": 100}},
        "then": {"notify": [{"spend_threshold": {"level": "individual", "threshold_pct": 100}}]}}


def test_unknown_placeholders_are_left_for_unbound_to_find():
    value = substitute({"id": "x_{levle}", "v": "{pct}"}, {"pct": 5})
    assert value == {"id": "x_{levle}", "v": 5}
    assert unbound(value) == {"levle"}


def test_no_binding_leaves_the_value_alone():
    value = {"id": "{a}", "list": ["{b}"]}
    assert substitute(value, {}) is value


def test_unbound_looks_everywhere():
    assert unbound({"{k}": ["x", {"y": "{v}"}], "n": 3, "e": {}, "l": []}) == {"k", "v"}
    assert unbound("plain text") == set()
    assert unbound(5) == set()


def test_a_placeholder_must_be_a_lower_case_name():
    assert unbound("{Level} {1x} {ok_1}") == {"ok_1"}
    assert substitute("{Level}", {"Level": 1}) == "{Level}"

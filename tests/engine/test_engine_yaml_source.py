"""engine.yaml_source: located values, exact decimals, duplicate keys, safe tags."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tariff.engine.findings import Location
from tariff.engine.load.yaml_source import parse

TEXT = """\
plan: seat_based
prices:
  standard: 40
  premium: 0.10
list:
  - first
  - {nested: 6.25}
"""


def load(text, file="p.yaml"):
    doc, findings = parse(text, file)
    return doc, findings


def codes(findings):
    return [f.code for f in findings]


def test_every_value_and_key_has_its_file_line_and_column():
    doc, findings = load(TEXT)
    assert findings == []
    assert doc.where(("plan",)) == Location("p.yaml", 1, 7)
    assert doc.where(("plan",), key=True) == Location("p.yaml", 1, 1)
    assert doc.where(("prices", "premium")) == Location("p.yaml", 4, 12)
    assert doc.where(("prices", "premium"), key=True) == Location("p.yaml", 4, 3)
    assert doc.where(("list", 0)) == Location("p.yaml", 6, 5)
    assert doc.where(("list", 1, "nested")) == Location("p.yaml", 7, 14)
    assert doc.where(()) == Location("p.yaml", 1, 1)


def test_a_path_not_written_falls_back_to_its_nearest_written_ancestor():
    doc, _ = load(TEXT)
    assert doc.where(("prices", "enterprise")) == doc.where(("prices",))
    assert doc.where(("list", 1, "missing", "deeper")) == doc.where(("list", 1))
    assert doc.where(("nowhere",)) == Location("p.yaml", 1, 1)


def test_decimals_keep_their_written_digits_never_float():
    doc, findings = load("a: 0.10\nb: 6.25\nc: 0.000001\nd: 1_000.5\ne: 22.50\nf: 1.5e+3\n")
    assert findings == []
    data = doc.data
    assert all(isinstance(v, Decimal) for v in data.values())
    assert str(data["a"]) == "0.10" and str(data["e"]) == "22.50"
    assert data["b"] == Decimal("6.25")
    assert data["c"] == Decimal("0.000001")
    assert data["d"] == Decimal("1000.5")
    assert data["f"] == Decimal("1500")


def test_integers_stay_integers():
    doc, findings = load("a: 40\nb: 1_000_000\nc: -3\nd: 0x10\n")
    assert findings == []
    assert doc.data == {"a": 40, "b": 1_000_000, "c": -3, "d": 16}
    assert all(type(v) is int for v in doc.data.values())


@pytest.mark.parametrize("text", ["a: .inf", "a: -.Inf", "a: .nan"])
def test_non_finite_numbers_are_refused_where_written(text):
    doc, findings = load(text)
    assert codes(findings) == ["invalid_number"]
    assert findings[0].location == Location("p.yaml", 1, 4)


def test_a_key_written_twice_is_reported_at_the_second_key():
    doc, findings = load("rules:\n  a: 1\n  b: 2\n  a: 3\n")
    assert codes(findings) == ["duplicate_key"]
    assert findings[0].location == Location("p.yaml", 4, 3)
    assert "'a'" in findings[0].message


def test_duplicate_keys_in_different_mappings_are_each_reported():
    _, findings = load("x:\n  a: 1\n  a: 2\ny:\n  b: 1\n  b: 2\n")
    assert [(f.code, f.location.line) for f in findings] == [("duplicate_key", 3), ("duplicate_key", 6)]


@pytest.mark.parametrize("text, column", [
    ("a: !!python/name:os.system ''", 4),
    ("a: !!python/object/new:str ''", 4),
    ("a: !!binary aGk=", 4),
    ("a: !custom value", 4),
])
def test_unsafe_or_unknown_tags_on_values_are_refused(text, column):
    doc, findings = load(text)
    assert codes(findings) == ["unsupported_tag"]
    assert findings[0].location == Location("p.yaml", 1, column)
    assert doc.data == {"a": None}


@pytest.mark.parametrize("text", [
    "a: !!python/object/apply:os.system ['echo hi']",
    "a: !!python/object:builtins.dict {x: 1}",
    "a: !!set {x, y}",
    "a: !custom [1, 2]",
])
def test_unsafe_tags_on_mappings_and_sequences_are_refused(text):
    _, findings = load(text)
    assert codes(findings) == ["unsupported_tag"]


@pytest.mark.parametrize("key", ["on", "off", "yes", "no", "true", "null", "1", "2026-01-01"])
def test_keys_stay_text(key):
    doc, findings = load(f"{key}: [usage]\n")
    assert findings == []
    assert doc.data == {key: ["usage"]}


def test_rule_on_key_is_text_but_a_boolean_value_is_boolean():
    doc, _ = load("on: [usage]\nwhen:\n  prepaid: true\n  extra_usage: no\n")
    assert doc.data == {"on": ["usage"], "when": {"prepaid": True, "extra_usage": False}}


def test_dates_stay_text_for_the_schemas_to_parse():
    doc, _ = load("effective_from: 2026-02-05\n")
    assert doc.data == {"effective_from": "2026-02-05"}


def test_null_values():
    doc, _ = load("a: ~\nb: null\nc:\n")
    assert doc.data == {"a": None, "b": None, "c": None}


def test_a_syntax_error_is_one_located_finding():
    doc, findings = load("a: [1, 2\nb: 3\n")
    assert doc is None
    assert codes(findings) == ["yaml_syntax"]
    assert findings[0].location.file == "p.yaml"
    assert findings[0].location.line >= 2


def test_an_empty_file_is_a_finding():
    doc, findings = load("# only a comment\n")
    assert doc is None and codes(findings) == ["empty_file"]


def test_several_documents_in_one_file_are_refused():
    doc, findings = load("a: 1\n---\nb: 2\n")
    assert doc is None and codes(findings) == ["yaml_syntax"]


def test_a_mapping_as_key_is_refused():
    _, findings = load("? {a: 1}\n: 2\n")
    assert codes(findings) == ["invalid_key"]


def test_anchors_and_aliases_keep_values_and_positions():
    doc, findings = load("a: &x {input: 0.80}\nb: *x\n")
    assert findings == []
    assert doc.data["a"] == doc.data["b"] == {"input": Decimal("0.80")}
    assert doc.where(("b", "input")).line == 1  # an alias points at what it repeats


def test_a_sexagesimal_number_does_not_crash_the_loader():
    doc, findings = load("a: 1:30\n")
    assert (doc is not None and doc.data == {"a": 90}) or codes(findings) == ["invalid_number"]

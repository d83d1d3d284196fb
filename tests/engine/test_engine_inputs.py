"""engine/inputs.py: the edge's one set of input checks (strict JSON, text,
days, int64), and the amount text rule in engine/schema.py."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st
from marshmallow import ValidationError

from tariff.engine import inputs
from tariff.engine.money import AmountError, to_nano
from tariff.engine.schema import Money


def refused(text, path):
    with pytest.raises(inputs.BadInput) as caught:
        inputs.loads(text)
    assert caught.value.path == path
    return caught.value


def test_duplicate_keys_are_refused_at_any_depth():
    refused('{"amount": "1", "amount": "1000"}', "amount")
    refused('{"a": [{"b": 1, "b": 1}]}', "b")


def test_text_checks_name_the_path():
    refused('{"a": {"b": ["x", "\\u0000"]}}', "a.b.1")
    refused('{"a": "\\ud800"}', "a")
    refused('{"\\u0000": 1}', "body")


def test_numbers():
    assert inputs.loads('{"a": 1.50}') == {"a": Decimal("1.50")}
    refused('{"a": 1E+999999999}', "a")
    refused('{"a": NaN}', "body")
    refused("1" * 100_000, "body")
    refused('{"a": ' + "9" * 61 + "}", "a")
    assert inputs.loads('{"a": 0E+999999999}')["a"] == 0


def test_depth():
    refused("[" * 100_000 + "]" * 100_000, "body")
    assert inputs.loads("[" * 60 + "]" * 60)


def test_day_bounds():
    inputs.check_day(inputs.FIRST_DAY)
    inputs.check_day(inputs.LAST_DAY)
    for day in (date(1999, 12, 31), date(3000, 1, 1), date.min, date.max):
        with pytest.raises(ValidationError):
            inputs.check_day(day)


@pytest.mark.parametrize("text", ["\u0661\u0660", " 10", "10 ", "1 0", "1_000", "0x10", "", "1E+999999999",
                                  "1E-999999999", "-1"])
def test_amount_text(text):
    with pytest.raises(ValidationError):
        Money().deserialize(text)


def test_to_nano_never_overflows():
    assert to_nano(Decimal("0E+999999999")) == 0
    for bad in ("1E+999999999", "1E-999999999", "NaN"):
        with pytest.raises(AmountError):
            to_nano(Decimal(bad))


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text() | st.decimals(allow_nan=False,
                                                                                     allow_infinity=False),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                max_size=3), max_leaves=10))
def test_any_json_is_decoded_or_refused_with_bad_input(value):
    text = json.dumps(value, default=str)
    try:
        inputs.loads(text)
    except inputs.BadInput as exc:
        assert exc.path

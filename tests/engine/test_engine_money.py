"""engine.money: exact nano-dollars at the engine's edge, text without
exponents, and the one place rounding happens (invoice lines, half-up)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tariff.engine.money import MAX_AMOUNT, AmountError, fmt, from_nano, invoice_line_amount, to_nano

D = Decimal


@pytest.mark.parametrize("amount, nano", [
    ("0", 0),
    ("0.000000001", 1),
    ("0.000001", 1_000),
    ("1", 10**9),
    ("-1", -(10**9)),
    ("6.25", 6_250_000_000),
    ("0.10", 100_000_000),
    ("12.345678912", 12_345_678_912),
    ("1000000000", 10**18),
    ("-1000000000", -(10**18)),
    ("1E+3", 10**12),
    ("0.1000000000", 100_000_000),   # trailing zeros are not extra precision
])
def test_to_nano_is_exact(amount, nano):
    assert to_nano(D(amount)) == nano
    assert type(to_nano(D(amount))) is int


@pytest.mark.parametrize("amount", ["0.0000000001", "1.0000000001", "-0.0000000005", "3.14159265358979"])
def test_more_than_nine_decimals_is_refused(amount):
    with pytest.raises(AmountError, match="9 decimal places"):
        to_nano(D(amount))


@pytest.mark.parametrize("amount", ["1000000000.000000001", "-1000000000.000000001", "1E+10"])
def test_beyond_the_supported_range_is_refused(amount):
    with pytest.raises(AmountError, match="range"):
        to_nano(D(amount))


@pytest.mark.parametrize("value", [1.5, 1, "1"])
def test_only_decimals_are_amounts(value):
    with pytest.raises(TypeError):
        to_nano(value)


@pytest.mark.parametrize("amount", ["1.00000000000000000000000000001", "100.0000000000000000000000000001"])
def test_many_significant_digits_do_not_hide_extra_decimals(amount):
    with pytest.raises(AmountError):
        to_nano(D(amount))


@given(st.integers(min_value=-(10**18), max_value=10**18))
def test_from_nano_and_back(nano):
    amount = from_nano(nano)
    assert isinstance(amount, Decimal)
    assert to_nano(amount) == nano
    assert amount * 10**9 == nano


@pytest.mark.parametrize("amount, text", [
    ("0.000001", "0.000001"),
    ("0.0000010", "0.000001"),
    ("12.50", "12.5"),
    ("40", "40"),
    ("40.000", "40"),
    ("1E+2", "100"),
    ("1.5E-8", "0.000000015"),
    ("0", "0"),
    ("0.00", "0"),
    ("-0", "0"),
    ("-0.000", "0"),
    ("-2.50", "-2.5"),
    ("36000", "36000"),
])
def test_fmt_is_plain_text_without_exponent_or_trailing_zeros(amount, text):
    assert fmt(D(amount)) == text


@given(st.decimals(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=9, allow_nan=False,
                   allow_infinity=False))
def test_fmt_round_trips_exactly(amount):
    text = fmt(amount)
    assert "E" not in text and "e" not in text
    assert D(text) == amount


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_fmt_is_the_exact_plain_text_whatever_the_exponent(amount):
    text = fmt(amount)
    assert "E" not in text and D(text) == amount
    assert text == "0" or not ("." in text and text.endswith("0"))  # no trailing zeros
    assert text == "0" or text.lstrip("-")[0] != "0" or text.lstrip("-").startswith("0.")


@pytest.mark.parametrize("amount, line", [
    ("0.005", "0.01"),       # half goes up
    ("0.0049999999", "0.00"),
    ("0.015", "0.02"),       # not to even
    ("0.025", "0.03"),
    ("2.675", "2.68"),       # exact decimal: no binary surprise
    ("1.234", "1.23"),
    ("1.235", "1.24"),
    ("0.000001", "0.00"),
    ("12", "12.00"),
    ("999999999.995", "1000000000.00"),
])
def test_invoice_lines_round_half_up_to_the_cent(amount, line):
    rounded = invoice_line_amount(D(amount))
    assert rounded == D(line) and str(rounded) == line


@given(st.decimals(min_value=0, max_value=MAX_AMOUNT, places=9, allow_nan=False, allow_infinity=False))
def test_an_invoice_line_is_within_half_a_cent(amount):
    rounded = invoice_line_amount(amount)
    assert rounded.as_tuple().exponent == -2
    assert abs(rounded - amount) <= D("0.005")
    assert (rounded - amount == D("0.005")) or abs(rounded - amount) < D("0.005")

"""engine.periods: billing months, annual terms, months left to prorate (S3)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tariff.engine.periods import add_months, months_remaining, next_period_start, period_start, term_end


def test_s3_worked_example():
    """Term from 1 January, 10 seats added on 1 April: 9 months, April to December."""
    assert months_remaining(date(2026, 4, 1), date(2026, 1, 1)) == 9


@pytest.mark.parametrize("as_of, expected", [
    (date(2026, 1, 1), 12),    # the term's first day
    (date(2026, 1, 31), 12),
    (date(2026, 2, 1), 11),
    (date(2026, 3, 31), 10),
    (date(2026, 4, 20), 9),    # any day of April counts April (open point: whole months)
    (date(2026, 4, 30), 9),
    (date(2026, 12, 1), 1),
    (date(2026, 12, 31), 1),
    (date(2027, 1, 1), 0),     # the renewal day: the term is over
    (date(2028, 6, 1), 0),
])
def test_months_remaining_in_a_january_term(as_of, expected):
    assert months_remaining(as_of, date(2026, 1, 1)) == expected


@pytest.mark.parametrize("as_of, expected", [
    (date(2026, 4, 14), 10),   # term months run from the 15th to the 15th
    (date(2026, 4, 15), 9),
    (date(2027, 1, 14), 1),
    (date(2027, 1, 15), 0),
])
def test_months_remaining_in_a_mid_month_term(as_of, expected):
    assert months_remaining(as_of, date(2026, 1, 15)) == expected


def test_months_remaining_from_a_month_end_term_start():
    start = date(2026, 1, 31)
    assert months_remaining(date(2026, 2, 27), start) == 12
    assert months_remaining(date(2026, 2, 28), start) == 11   # 31 January + 1 month = 28 February
    assert months_remaining(date(2026, 3, 30), start) == 11
    assert months_remaining(date(2026, 3, 31), start) == 10


@pytest.mark.parametrize("day, months, expected", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
    (date(2026, 5, 31), 1, date(2026, 6, 30)),
    (date(2026, 12, 15), 1, date(2027, 1, 15)),
    (date(2026, 1, 15), -1, date(2025, 12, 15)),
    (date(2026, 8, 31), 6, date(2027, 2, 28)),
    (date(2024, 2, 29), 12, date(2025, 2, 28)),
    (date(2026, 6, 10), 0, date(2026, 6, 10)),
    (date(2026, 6, 10), -30, date(2023, 12, 10)),
])
def test_add_months_clamps_to_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


def test_periods_are_calendar_months():
    assert period_start(date(2026, 4, 20)) == date(2026, 4, 1)
    assert next_period_start(date(2026, 4, 20)) == date(2026, 5, 1)
    assert next_period_start(date(2026, 12, 31)) == date(2027, 1, 1)
    assert term_end(date(2026, 1, 1)) == date(2027, 1, 1)
    assert term_end(date(2024, 2, 29)) == date(2025, 2, 28)


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@given(days, st.integers(min_value=-600, max_value=600))
def test_add_months_lands_in_the_right_month_never_later_day(day, months):
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day <= day.day


@given(days, st.integers(min_value=0, max_value=800))
def test_months_remaining_is_0_to_12_and_never_grows_over_time(start, offset):
    as_of = start + timedelta(days=offset)
    left = months_remaining(as_of, start)
    assert 0 <= left <= 12
    assert months_remaining(as_of + timedelta(days=1), start) <= left
    if left:  # as_of lies in the term month that starts (12 - left) months after the start
        assert add_months(start, 12 - left) <= as_of < add_months(start, 13 - left)
    else:
        assert as_of >= term_end(start)


@given(days, st.integers(min_value=1, max_value=12))
def test_a_term_started_12_minus_m_months_ago_has_m_months_left(as_of, m):
    assert months_remaining(as_of, add_months(as_of, -(12 - m))) == m

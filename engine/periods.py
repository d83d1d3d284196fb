"""Calendar arithmetic for terms and billing periods.

Billing periods are calendar months (L5). Annual terms run twelve months from
their start. Proration counts whole months: a seat added on any day of a month
is charged from the start of that month (policies/billing-rules.md D2; S3's example).
"""
from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_start(day: date) -> date:
    return day.replace(day=1)


def next_period_start(day: date) -> date:
    return add_months(period_start(day), 1)


def term_end(term_start: date) -> date:
    """The renewal date: the day the next annual term starts."""
    return add_months(term_start, 12)


def months_remaining(as_of: date, term_start: date) -> int:
    """Whole term months still to bill, counting the one that contains as_of.

    A term month runs from the term's start day to the same day a month later.
    Term 1 January, as_of 1 April (or 20 April): 9 months, April to December.
    """
    elapsed = (as_of.year - term_start.year) * 12 + as_of.month - term_start.month
    if add_months(term_start, elapsed) > as_of:
        elapsed -= 1
    return min(max(12 - elapsed, 0), 12)

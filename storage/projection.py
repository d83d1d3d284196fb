"""Where month-to-date spend is heading (issue 13, item 4): the month-end
spend at the current rate, and the day credits or a limit run out.

The rate is the period's spend so far over the days elapsed, today counted
as a whole day (so on the 1st the rate is the day's spend). Arithmetic is on
whole nano-dollars (the engine's unit) so every result is exact: the
month-end figure is rounded half-up to the nano-dollar, and a run-out day is
a ceiling of integers, never a float.

    run_out_on(left, spend, elapsed, day)    # the day `left` is used up
    month_end(spend, elapsed, days)          # spend projected to the period's end

Days: amount left / daily rate, rounded up, after today: 2.5 days of credits
left run out on the third day from now. Nothing left (a reached limit,
credits at or below zero) is "today". No spend yet: no day (None).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from tariff.engine import money

from .models import UsageRecord

# A run-out further away than this is no forecast: answered as None.
HORIZON_DAYS = 3660


def month_end(spend: Decimal, elapsed: int, days: int) -> Decimal:
    """``spend`` over ``elapsed`` days, carried to ``days``: half-up to the nano-dollar."""
    return money.from_nano((money.to_nano(spend) * days * 2 + elapsed) // (elapsed * 2))  # half up


def daily_rate(spend: Decimal, elapsed: int) -> Decimal:
    return month_end(spend, elapsed, 1)


def run_out_on(left: Decimal, spend: Decimal, elapsed: int, day: date) -> date | None:
    """The day ``left`` runs out at the rate of ``spend`` over ``elapsed`` days."""
    if left <= 0:
        return day
    if spend <= 0:
        return None
    days = -(-money.to_nano(left) * elapsed // money.to_nano(spend))  # ceiling, exact
    return day + timedelta(days=days) if days <= HORIZON_DAYS else None


def daily_spend(session, org_pk: int, period: date, day: date) -> list[dict]:
    """Spend billed on each day of the period up to ``day`` (UTC days of
    ``occurred_at``), zeros included: the chart's bars."""
    by_day: dict = defaultdict(lambda: money.ZERO)
    rows = session.execute(select(UsageRecord.occurred_at, UsageRecord.billed).where(
        UsageRecord.org_pk == org_pk, UsageRecord.period_start == period))
    for occurred_at, billed in rows:
        by_day[occurred_at.date()] += billed
    count = (day - period).days + 1
    return [{"date": (period + timedelta(days=i)).isoformat(), "spend": money.fmt(by_day[period + timedelta(days=i)])}
            for i in range(count)]

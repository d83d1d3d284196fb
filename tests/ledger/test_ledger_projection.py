"""Projected exhaustion in the month-to-date summary (issue 13, item 4): the
month-end spend at the current rate, and the day credits or a limit run out,
exact (nano-dollars, integer ceilings), on both databases."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from tariff.storage import projection

OPUS = "claude-opus-4-6"  # 5 USD per million input tokens


def record(ledger, key, member, tokens, day):
    return ledger.record_usage("acme", idempotency_key=key, member=member, product="chat", model=OPUS,
                               tokens={"input": tokens}, occurred_at=datetime(2026, 4, day, 9, tzinfo=timezone.utc))


def test_month_end_is_exact_and_rounds_half_up_to_the_nano_dollar():
    assert projection.month_end(Decimal("7"), 10, 30) == Decimal("21")
    assert projection.month_end(Decimal("1"), 3, 31) == Decimal("10.333333333")
    assert projection.daily_rate(Decimal("2"), 3) == Decimal("0.666666667")  # 0.6666666666.. half up
    assert projection.daily_rate(Decimal("0.000000001"), 2) == Decimal("0.000000001")  # 0.5 nano: up
    assert projection.month_end(Decimal("0"), 5, 30) == Decimal("0")


def test_run_out_day_is_a_ceiling_after_today():
    today = date(2026, 4, 10)
    assert projection.run_out_on(Decimal("3"), Decimal("7"), 10, today) == date(2026, 4, 15)  # 4.29 days
    assert projection.run_out_on(Decimal("7"), Decimal("7"), 10, today) == date(2026, 4, 20)  # exactly 10
    assert projection.run_out_on(Decimal("0"), Decimal("7"), 10, today) == today  # nothing left: today
    assert projection.run_out_on(Decimal("-2"), Decimal("7"), 10, today) == today
    assert projection.run_out_on(Decimal("5"), Decimal("0"), 10, today) is None  # no spend, no end
    assert projection.run_out_on(Decimal("1000000"), Decimal("0.000000001"), 1, today) is None  # past the horizon


def test_summary_projects_organization_and_members(ledger, new_org, clock):
    clock.set(2026, 4, 1)  # members from the 1st, so usage can be dated on any day of April
    new_org(members=("ana", "ben"))  # self-serve, prepaid; April has 30 days
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("100"))
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("10"))
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("6"))
    clock.set(2026, 4, 10)
    record(ledger, "a", "ana", 1_000_000, 2)   # 5 USD on the 2nd
    record(ledger, "b", "ben", 400_000, 10)    # 2 USD on the 10th
    summary = ledger.usage_summary("acme")
    # 7 USD in 10 days: 0.7 a day, 21 by the 30th; the organization's 3 USD of
    # headroom last ceil(3/0.7) = 5 days; 93 USD of credits ceil(93/0.7) = 133 days.
    assert summary["projection"] == {
        "daily_rate": "0.7", "month_end_spend": "21", "limit_reached_on": "2026-04-15",
        "limit_level": "organization", "credits_run_out_on": "2026-08-21", "days_elapsed": 10,
        "days_in_period": 30}
    by_id = {m["id"]: m["projection"] for m in summary["members"]}
    # ana: 5 USD, 0.5 a day, her own 1 USD of headroom lasts 2 days: the 12th, before the organization's.
    assert by_id["ana"] == {"daily_rate": "0.5", "month_end_spend": "15", "limit_reached_on": "2026-04-12",
                            "limit_level": "individual"}
    assert by_id["ben"] == {"daily_rate": "0.2", "month_end_spend": "6", "limit_reached_on": "2026-04-15",
                            "limit_level": "organization"}
    # pat spent nothing but shares the organization's limit.
    assert by_id["pat"] == {"daily_rate": "0", "month_end_spend": "0", "limit_reached_on": "2026-04-15",
                            "limit_level": "organization"}
    daily = {d["date"]: d["spend"] for d in summary["daily"]}
    assert list(daily) == [f"2026-04-{d:02d}" for d in range(1, 11)]
    assert daily["2026-04-02"] == "5" and daily["2026-04-10"] == "2"
    assert [v for k, v in daily.items() if k not in ("2026-04-02", "2026-04-10")] == ["0"] * 8


def test_reached_limits_and_spent_credits_are_today_and_far_limits_are_none(ledger, new_org, clock):
    clock.set(2026, 4, 1)
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("5"))
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("1000"))
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("5"))
    clock.set(2026, 4, 10)
    record(ledger, "a", "ana", 1_000_000, 10)  # 5 USD: the credits and ana's limit are used up
    summary = ledger.usage_summary("acme")
    assert summary["projection"]["credits_run_out_on"] == "2026-04-10"
    assert summary["projection"]["limit_reached_on"] is None  # 1000 USD is not reached in April at 0.5 a day
    ana = next(m for m in summary["members"] if m["id"] == "ana")
    assert (ana["projection"]["limit_reached_on"], ana["projection"]["limit_level"]) == ("2026-04-10", "individual")
    # Another day of the month, asked for explicitly: the rate is over that many days.
    later = ledger.usage_summary("acme", date(2026, 4, 20))
    assert (later["projection"]["days_elapsed"], later["projection"]["daily_rate"]) == (20, "0.25")
    assert len(later["daily"]) == 20


def test_arrears_plans_have_no_credit_forecast(ledger, new_org, clock):
    clock.set(2026, 4, 1)
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    clock.set(2026, 4, 10)
    record(ledger, "a", "ana", 200_000, 5)  # 1 USD
    summary = ledger.usage_summary("acme")
    assert summary["projection"]["credits_run_out_on"] is None
    assert summary["projection"]["month_end_spend"] == "3"  # 1 USD in 10 days, over 30
    assert summary["projection"]["limit_reached_on"] is None  # no limit set

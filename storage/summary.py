"""The month-to-date usage summary of an organization (M1): spend per member,
each limit's status, the credit balance, and where spend is heading (the
month-end spend at the current rate, the day credits or a limit run out:
storage/projection.py), with the period's spend per day for a chart.

A limit's status is arithmetic on stored numbers, not a decision:
``not_set``, ``unlimited``, ``ok``, or ``reached`` (spend at or above the
limit: the policy blocks further usage at that level, SPEC open points).
``POST .../usage/authorize`` asks the engine for a member's actual verdict.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from tariff.engine import UNLIMITED, money, periods

from . import projection, repository as repo, views
from .models import SpendCounter
from .unit_of_work import Books


def limit_status(limit, spend: Decimal) -> dict:
    """``limit``: an amount, "unlimited", or None (not set)."""
    if limit is None or limit == UNLIMITED:
        return {"limit": limit, "spend": views.money(spend), "headroom": None, "used_pct": None,
                "status": "not_set" if limit is None else "unlimited"}
    headroom = max(limit - spend, money.ZERO)
    used = int(spend * 100 // limit) if limit else 100
    return {"limit": views.money(limit), "spend": views.money(spend), "headroom": views.money(headroom),
            "used_pct": used, "status": "reached" if spend >= limit else "ok"}


def usage_summary(books: Books, org_id: str, as_of: date | None = None) -> dict:
    with books.read() as uow:
        day = as_of or uow.today
        period = periods.period_start(day)
        session = uow.session
        org = uow.org(org_id)
        plan = uow.plan(org)
        levels = set(plan.limit_levels)
        counters = {(c.level, c.subject): c for c in session.execute(select(SpendCounter).where(
            SpendCounter.org_pk == org.pk, SpendCounter.period_start == period)).scalars()}
        limits = {(row.level, row.subject): repo.limit_value(row) for row in repo.limits(session, org)}

        def spend(level, subject=""):
            counter = counters.get((level, subject))
            return counter.spend if counter else money.ZERO

        def status(level, subject=""):
            if level not in levels:
                return None
            return limit_status(limits.get((level, subject)), spend(level, subject))

        elapsed = (day - period).days + 1
        end = periods.next_period_start(day)

        def reached_on(level, subject=""):
            """The day this period the limit is reached at its spend's rate (None: not this period)."""
            limit = limits.get((level, subject)) if level in levels else None
            if limit is None or limit == UNLIMITED:
                return None
            used = spend(level, subject)
            when = projection.run_out_on(limit - used, used, elapsed, day)
            return when if when is not None and when < end else None

        def forecast(used: Decimal, reaching: dict) -> dict:
            """Month-end spend at the rate so far, and the first limit (of ``reaching``: level -> day) reached."""
            first = min(((when, level) for level, when in reaching.items() if when is not None), default=None)
            return {"daily_rate": views.money(projection.daily_rate(used, elapsed)),
                    "month_end_spend": views.money(projection.month_end(used, elapsed, (end - period).days)),
                    "limit_reached_on": first[0].isoformat() if first else None,
                    "limit_level": first[1] if first else None}

        org_status = status("organization")
        seat_types = {}
        for seat_type in sorted(set(org.seats) | {k[1] for k in counters if k[0] == "seat_type"}):
            seat_types[seat_type] = {"spend": views.money(spend("seat_type", seat_type)),
                                     "limit": status("seat_type", seat_type)}
        prepaid = uow.prepaid(org)
        credits_out = prepaid and org.credit_balance <= 0
        org_reached = reached_on("organization")
        credits_run_out = (projection.run_out_on(org.credit_balance, spend("organization"), elapsed, day)
                           if prepaid else None)
        members = []
        for member in repo.members(session, org):
            counter = counters.get(("individual", member.id))
            mine = {"organization": org_status, "seat_type": seat_types.get(member.seat_type, {}).get("limit"),
                    "individual": status("individual", member.id)}
            reached = [level for level, s in mine.items() if s and s["status"] == "reached"]
            members.append({
                "id": member.id, "name": member.name, "role": member.role, "seat_type": member.seat_type,
                "spend": views.money(counter.spend if counter else money.ZERO),
                "included_used": views.money(counter.included if counter else money.ZERO),
                "records": counter.records if counter else 0,
                "limit": mine["individual"],
                "limits_reached": reached,
                "credits_exhausted": credits_out,
                "projection": forecast(counter.spend if counter else money.ZERO, {
                    "organization": org_reached, "seat_type": reached_on("seat_type", member.seat_type),
                    "individual": reached_on("individual", member.id)}),
            })
        return {
            "organization": org.id, "plan": org.plan, "channel": org.channel, "as_of": day.isoformat(),
            "period_start": period.isoformat(), "next_period_start": periods.next_period_start(day).isoformat(),
            "prepaid": prepaid, "credit_balance": uow.balance(org),
            "spend": views.money(spend("organization")),
            "limit": org_status,
            "seat_types": seat_types if "seat_type" in levels else None,
            "members": members,
            "projection": {**forecast(spend("organization"), {"organization": org_reached}),
                           "credits_run_out_on": credits_run_out.isoformat() if credits_run_out else None,
                           "days_elapsed": elapsed, "days_in_period": (end - period).days},
            "daily": projection.daily_spend(session, org.pk, period, day),
        }

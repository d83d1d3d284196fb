"""The daily forecast (issue 13 item 4, D17): where a prepaid balance and the
organization limit are heading, put to the policy, and each notice it asks
for kept once.

The billing run (billing.py) calls ``check`` for an organization on the day
it runs. The days left are the summary's (storage/projection.py: the
period's spend so far over the days elapsed, today counted whole; days
rounded up): until credits run out (``credits_forecast``), and until the
organization limit is reached this period (``limit_forecast``). The engine
decides each; the rules say whether to notify (policies/rules/credits.yaml,
spend_limits.yaml: a week or less ahead). A notice is a Notification row
with ``code`` and ``detail``, unique in the database:

- credits_running_out: level 'credits', subject the last credit bought: once
  per period, and again in that period only after more credits were bought;
- spend_limit_running_out: level 'organization', subject '': once per period.

threshold_pct is 0 on both, so neither meets a spend threshold's row (50, 80,
100). Their rows reach webhooks as ``notification.<code>`` (webhooks/outbox.py).

No forecast when there is nothing to forecast: no spend this period; credits
at or below zero, or a limit already reached (usage is blocked, C2, L3); a
limit not set or unlimited; a day past the period's end (limits reset, L5)
or past the horizon.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from tariff.engine import money, periods

from . import projection, repository as repo, requests
from .credits import BOUGHT
from .models import CreditEntry, Limit, Notification, Organization
from .unit_of_work import Books, UnitOfWork

CREDITS, LIMIT = "credits_forecast", "limit_forecast"


def days_left(left: Decimal, spend: Decimal, on: date) -> int | None:
    """Whole days from ``on`` until ``left`` is used up at the period's rate (None: no forecast)."""
    if left <= 0:
        return None
    period = periods.period_start(on)
    runs_out = projection.run_out_on(left, spend, (on - period).days + 1, on)
    return (runs_out - on).days if runs_out is not None else None


def check(uow: UnitOfWork, org: Organization, on: date) -> list[dict]:
    """Decide ``org``'s forecasts for ``on`` and keep each notice not sent yet; the notices kept."""
    plan = uow.plan(org)
    period = periods.period_start(on)
    spend = repo.org_spend(uow.session, org, period)
    kept = []
    if uow.prepaid(org) and CREDITS in plan.events:
        days = days_left(org.credit_balance, spend, on)
        if days is not None:
            bought = uow.session.execute(select(func.max(CreditEntry.pk)).where(
                CreditEntry.org_pk == org.pk, CreditEntry.kind.in_(BOUGHT))).scalar()
            kept += _decide(uow, org, on, {"type": CREDITS, "days_left": days}, "credits", str(bought or 0),
                            spend, org.credit_balance)
    limit = repo.limit_value(repo.limit_rows(uow.session, org, [("organization", "")]).get(("organization", "")))
    if "organization" in plan.limit_levels and LIMIT in plan.events and isinstance(limit, Decimal):
        days = days_left(limit - spend, spend, on)
        if days is not None and on + timedelta(days=days) < periods.next_period_start(on):  # L5: it resets
            kept += _decide(uow, org, on, {"type": LIMIT, "level": "organization", "days_left": days},
                            "organization", "", spend, limit)
    if kept:
        uow.session.flush()
    return kept


def _decide(uow: UnitOfWork, org: Organization, on: date, event: dict, level: str, subject: str,
            spend: Decimal, amount: Decimal) -> list[dict]:
    """One forecast decided, and its notice kept unless (period, level, subject)
    has one already (the row's unique key). ``amount``: the credit balance, or
    the limit, when it was sent."""
    period = periods.period_start(on)
    if uow.session.execute(select(Notification.pk).where(
            Notification.org_pk == org.pk, Notification.period_start == period, Notification.level == level,
            Notification.subject == subject, Notification.threshold_pct == 0)).first() is not None:
        return []
    decision = uow.decide(requests.request(org, on, event))
    if decision.outcome != "allow" or not decision.notifications:
        return []
    note = decision.to_dict()["notifications"][0]  # the rules ask for one notice per forecast
    repo.add_notice(uow.session, org, note, period=period, level=level, subject=subject, spend=spend, amount=amount,
                    at=uow.now)
    return [note]


def run(books: Books, org_id: str, on: date) -> list[dict]:
    """``check`` in a unit of its own, under the organization's lock."""
    with books.write() as uow:
        return check(uow, uow.lock_org(org_id), on)


def candidates(books: Books) -> list[str]:
    """Organizations a forecast may concern: on a prepaid plan with credits left, or with an organization limit."""
    with books.read() as uow:
        plans = uow.policy.plans
        prepaid = uow.session.execute(select(Organization.id, Organization.plan, Organization.channel).where(
            Organization.credit_balance > 0))
        out = {org_id for org_id, plan, channel in prepaid
               if plan in plans and channel in plans[plan].prepaid_credits}
        out |= set(uow.session.execute(select(Organization.id).join(Limit, Limit.org_pk == Organization.pk).where(
            Limit.level == "organization", Limit.ended_on.is_(None), Limit.amount.is_not(None))).scalars())
        return sorted(out)

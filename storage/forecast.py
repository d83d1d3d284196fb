"""The daily forecast (issue 13 item 4, D17): where a prepaid balance is heading,
put to the policy, and the notice it asks for kept once.

The billing run (billing.py) calls ``check`` for each prepaid organization on
the day it runs. The days until credits run out are the summary's (the
projection of storage/projection.py: the period's spend so far over the days
elapsed, today counted whole); the engine decides a ``credits_forecast``
event with them, and the rules say whether to notify (policies/rules/
credits.yaml: a week or less ahead). A notice is a Notification row keyed by
(period, 'credits', the last credit bought), so it is sent once per period,
and again in that period only after more credits were bought. Its row reaches
webhooks as ``notification.credits_running_out`` (webhooks/outbox.py).

No forecast when there is nothing to forecast: no spend this period, credits
at or below zero (usage is already blocked, C2), or a day past the horizon.
"""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select

from tariff.engine import money, periods

from . import projection, requests
from .credits import BOUGHT
from .models import CreditEntry, Notification, Organization, SpendCounter
from .unit_of_work import Books, UnitOfWork

EVENT = "credits_forecast"
LEVEL = "credits"  # the notification row's level: what runs out (not a limit level)


def credits_days_left(uow: UnitOfWork, org: Organization, on: date) -> int | None:
    """Whole days from ``on`` until credits run out at the period's rate (None: no forecast)."""
    if org.credit_balance <= 0:
        return None
    period = periods.period_start(on)
    runs_out = projection.run_out_on(org.credit_balance, _spend(uow, org, period), (on - period).days + 1, on)
    return (runs_out - on).days if runs_out is not None else None


def check(uow: UnitOfWork, org: Organization, on: date) -> list[dict]:
    """Decide ``org``'s forecast for ``on`` and keep each notice not sent yet; the notices kept."""
    if not uow.prepaid(org) or EVENT not in uow.plan(org).events:
        return []
    days = credits_days_left(uow, org, on)
    if days is None:
        return []
    decision = uow.decide(requests.request(org, on, {"type": EVENT, "days_left": days}))
    if decision.outcome != "allow" or not decision.notifications:
        return []
    period = periods.period_start(on)
    bought = uow.session.execute(select(func.max(CreditEntry.pk)).where(
        CreditEntry.org_pk == org.pk, CreditEntry.kind.in_(BOUGHT))).scalar()
    subject = str(bought or 0)
    sent = set(uow.session.execute(select(Notification.code).where(
        Notification.org_pk == org.pk, Notification.period_start == period, Notification.level == LEVEL,
        Notification.subject == subject)).scalars())
    kept = []
    for note in decision.to_dict()["notifications"]:
        if note["type"] in sent:
            continue
        params = {k: v for k, v in note.items() if k != "type"}
        uow.session.add(Notification(org_pk=org.pk, period_start=period, level=LEVEL, subject=subject,
                                     threshold_pct=0, spend=_spend(uow, org, period), limit=org.credit_balance,
                                     code=note["type"], detail=json.dumps(params, sort_keys=True),
                                     created_at=uow.now))
        sent.add(note["type"])
        kept.append(note)
    uow.session.flush()
    return kept


def _spend(uow: UnitOfWork, org: Organization, period: date):
    """The organization's month-to-date spend (its counter, as the summary reads it)."""
    return uow.session.execute(select(SpendCounter.spend).where(
        SpendCounter.org_pk == org.pk, SpendCounter.period_start == period,
        SpendCounter.level == "organization", SpendCounter.subject == "")).scalar() or money.ZERO


def run(books: Books, org_id: str, on: date) -> list[dict]:
    """``check`` in a unit of its own, under the organization's lock."""
    with books.write() as uow:
        return check(uow, uow.lock_org(org_id), on)


def prepaid_organizations(books: Books) -> list[str]:
    """Organizations on a prepaid plan and channel with credits left: those a forecast may concern."""
    with books.read() as uow:
        plans = uow.policy.plans
        rows = uow.session.execute(select(Organization.id, Organization.plan, Organization.channel).where(
            Organization.credit_balance > 0).order_by(Organization.id))
        return [org_id for org_id, plan, channel in rows
                if plan in plans and channel in plans[plan].prepaid_credits]

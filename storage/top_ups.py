"""Automatic top-ups of prepaid credits (issue 13, item 5), as Lago and
Metronome offer them: "when the balance falls below X, buy Y, at most Z in a
billing period".

- Setting, changing or ending one is the policy's ``auto_top_up_change``,
  decided on the acting member's role (policies/rules/credits.yaml: the
  owners who may buy credits), and audited.
- Each purchase it makes is a ``credit_purchase`` decided again, as the owner
  who set it, at the time of the purchase: an owner who has since lost the
  role, or left, buys nothing.
- The purchase is made inside the transaction whose usage took the balance
  below X (``top_up_if_due``), so it is exactly as idempotent as that usage:
  a replayed usage key replays, it never buys again. One purchase per
  transaction at most; a balance still below X after it waits for the next
  usage. Setting one while the balance is already below X buys at once.
- Its credit entries are of kind ``auto_top_up``, audited like a purchase.
- The policy tells the owners what it bought (D18: a ``credit_purchase`` with
  ``automatic: true`` notifies ``credits_topped_up``): a Notification row
  (level 'credits', subject 'top-up <credit entry>', the balance it left), so
  it is listed with the organization's notifications and sent to webhooks.
"""
from __future__ import annotations

from datetime import datetime, time, timezone
from decimal import Decimal

from sqlalchemy import func, select

from tariff.engine import money, periods

from . import credits, idempotency, repository as repo, requests, views
from .errors import InvalidInput
from .models import AutoTopUp, CreditEntry, Member, Organization
from .unit_of_work import Books, UnitOfWork

KIND = "auto_top_up"


def get(books: Books, org_id: str) -> dict:
    with books.read() as uow:
        org = uow.org(org_id)
        return _view(uow, org, _find(uow, org))


def put(books: Books, org_id: str, *, actor: str, below: Decimal, amount: Decimal, monthly_cap: Decimal,
        idempotency_key: str | None = None) -> dict:
    """Set or change the organization's automatic top-up."""
    _check(below=below, amount=amount, monthly_cap=monthly_cap)
    with books.write() as uow:
        org, who = uow.acting(org_id, actor)
        once = idempotency.Once(uow, org, "auto_top_up.put", idempotency_key, actor=actor, below=money.fmt(below),
                                amount=money.fmt(amount), monthly_cap=money.fmt(monthly_cap))
        if once.replay is not None:
            return once.replay
        uow.permit(org, who, {"type": "auto_top_up_change", "amount": amount})
        rule = _find(uow, org)
        if rule is None:
            rule = AutoTopUp(org_pk=org.pk)
            uow.session.add(rule)
        rule.below, rule.amount, rule.monthly_cap = below, amount, monthly_cap
        rule.member_pk, rule.updated_at = who.pk, uow.now
        uow.session.flush()
        top_up_if_due(uow, org.pk)
        return once.keep(_view(uow, org, rule))


def delete(books: Books, org_id: str, *, actor: str, idempotency_key: str | None = None) -> dict:
    """End the automatic top-up (decided like setting it: the same owners)."""
    with books.write() as uow:
        org, who = uow.acting(org_id, actor)
        once = idempotency.Once(uow, org, "auto_top_up.delete", idempotency_key, actor=actor)
        if once.replay is not None:
            return once.replay
        rule = _find(uow, org)
        if rule is not None:
            uow.permit(org, who, {"type": "auto_top_up_change", "amount": rule.amount})
            uow.session.delete(rule)
            uow.session.flush()
        return once.keep(_view(uow, org, None))


def top_up_if_due(uow: UnitOfWork, org_pk: int) -> CreditEntry | None:
    """Buy the set amount if the balance is below the threshold and the
    period's cap allows it, in the caller's transaction (which holds the
    organization's lock). None when nothing was bought. Costs one read when
    no top-up is set (the usage path calls it whenever credits went down)."""
    rule = uow.session.execute(select(AutoTopUp).where(AutoTopUp.org_pk == org_pk)).scalar_one_or_none()
    if rule is None:
        return None
    org = uow.session.get(Organization, org_pk)
    uow.session.refresh(org, ["credit_balance"])  # a usage run moves it with a Core statement
    if org.credit_balance >= rule.below or org.credit_balance + rule.amount > money.MAX_AMOUNT:
        return None
    if _bought_this_period(uow, org) + rule.amount > rule.monthly_cap:
        return None
    owner = uow.session.get(Member, (org_pk, rule.member_pk))
    if owner is None or owner.removed_at is not None:
        return None
    decision = uow.decide(requests.request(org, uow.today, {"type": "credit_purchase", "amount": rule.amount,
                                                            "automatic": True}, owner))
    if decision.outcome != "allow":
        return None  # the owner's role no longer buys credits: the policy said no
    entry = None
    for change in decision.changes:
        if change["change"] == "add_credits":
            entry = credits.append(uow, org, KIND, change["amount"], owner)
    uow.audit(org, decision, owner)
    uow.session.flush()
    if entry is not None:  # what the policy says of it (D18: credits_topped_up), kept beside the thresholds
        notes = decision.to_dict()["notifications"]
        if notes:
            period = periods.period_start(uow.today)
            spend = repo.org_spend(uow.session, org, period)
            for note in notes:
                repo.add_notice(uow.session, org, note, period=period, level="credits",
                                subject=f"top-up {entry.pk}", spend=spend, amount=entry.balance_after, at=uow.now)
            uow.session.flush()
    return entry


def _bought_this_period(uow: UnitOfWork, org: Organization) -> Decimal:
    since = datetime.combine(periods.period_start(uow.today), time(), tzinfo=timezone.utc)
    total = uow.session.execute(select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
        CreditEntry.org_pk == org.pk, CreditEntry.kind == KIND, CreditEntry.created_at >= since)).scalar_one()
    return Decimal(total)


def _find(uow: UnitOfWork, org: Organization) -> AutoTopUp | None:
    return uow.session.execute(select(AutoTopUp).where(AutoTopUp.org_pk == org.pk)).scalar_one_or_none()


def _view(uow: UnitOfWork, org: Organization, rule: AutoTopUp | None) -> dict:
    if rule is None:
        return {"enabled": False, "below": None, "amount": None, "monthly_cap": None, "set_by": None,
                "bought_this_period": views.money(_bought_this_period(uow, org)), "updated_at": None}
    owner = uow.session.get(Member, (org.pk, rule.member_pk))
    return {"enabled": True, "below": views.money(rule.below), "amount": views.money(rule.amount),
            "monthly_cap": views.money(rule.monthly_cap), "set_by": owner.id,
            "bought_this_period": views.money(_bought_this_period(uow, org)), "updated_at": views.iso(rule.updated_at)}


def _check(*, below: Decimal, amount: Decimal, monthly_cap: Decimal) -> None:
    for name, value in (("below", below), ("amount", amount), ("monthly_cap", monthly_cap)):
        if not money.ZERO <= value <= money.MAX_AMOUNT:
            raise InvalidInput.field(name, f"from 0 to {money.fmt(money.MAX_AMOUNT)} USD")
    if amount <= money.ZERO:
        raise InvalidInput.field("amount", "more than 0 USD")
    if monthly_cap < amount:
        raise InvalidInput.field("monthly_cap", "at least the amount of one top-up")

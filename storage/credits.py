"""The credit ledger (C1-C3): purchases through the engine's
``credit_purchase`` event (owners only, prepaid plans only). A purchase may
carry an idempotency key: a retry returns the first purchase, never buys
twice. ``Organization.credit_balance`` moves with every entry and always
equals the sum of the entries (storage.verify)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from tariff.engine import money

from . import idempotency, pages, requests, views
from .errors import InvalidInput
from .models import CreditEntry, Member, Organization, joined
from .unit_of_work import Books, UnitOfWork


# Entry kinds that add credits (a purchase by an owner; an automatic top-up,
# storage/top_ups.py); ``consumption`` takes them.
BOUGHT = ("purchase", "auto_top_up")
# Every kind that adds: those bought, and ``usage_void`` (what a voided usage
# had consumed, given back: storage/voids.py).
ADDED = BOUGHT + ("usage_void",)


def purchase(books: Books, org_id: str, *, actor: str, amount: Decimal, idempotency_key: str | None = None) -> dict:
    """The entry and the balance after it; ``replayed``: the first purchase of this key, again."""
    with books.write() as uow:
        org, who = uow.acting(org_id, actor)
        digest = idempotency.fingerprint(actor=actor, amount=money.fmt(amount))
        if idempotency_key is not None:
            first = idempotency.first_use(uow.session, CreditEntry, org, idempotency_key, digest, "purchase")
            if first is not None:
                return _result(first, who.id, replayed=True)
        if org.credit_balance + amount > money.MAX_AMOUNT:  # the engine could not decide for the org again
            raise InvalidInput.field("amount", f"the credit balance would pass the supported maximum of "
                                               f"{money.fmt(money.MAX_AMOUNT)} USD (it is "
                                               f"{money.fmt(org.credit_balance)} USD)", "credit_balance_too_large")
        decision = uow.require_allow(uow.decide(requests.request(
            org, uow.today, {"type": "credit_purchase", "amount": amount}, who)))
        entry = None
        for change in decision.changes:
            if change["change"] == "add_credits":
                entry = append(uow, org, "purchase", change["amount"], who)
                entry.idempotency_key, entry.request_hash = idempotency_key, digest
        uow.audit(org, decision, who)
        uow.session.flush()
        return _result(entry, who.id, replayed=False)


def _result(entry: CreditEntry, member_id: str, replayed: bool) -> dict:
    """A purchase's answer, the first time and on a retry alike (from the entry kept)."""
    return {"entry": views.credit_entry(entry, member_id), "credit_balance": views.money(entry.balance_after),
            "replayed": replayed}


def append(uow: UnitOfWork, org: Organization, kind: str, amount: Decimal, member: Member | None,
           usage_record=None) -> CreditEntry:
    """Append to the credit ledger and move the balance beside it."""
    signed = amount if kind in ADDED else -amount
    org.credit_balance = org.credit_balance + signed
    entry = CreditEntry(org_pk=org.pk, kind=kind, amount=signed, balance_after=org.credit_balance,
                        member_pk=member.pk if member else None, usage_record=usage_record, created_at=uow.now)
    uow.session.add(entry)
    return entry


def entries(books: Books, org_id: str, cursor: str | None = None, limit: int = pages.DEFAULT_LIMIT) -> dict:
    """A page of the credit book, oldest first."""
    with books.read() as uow:
        org = uow.org(org_id)
        query = select(CreditEntry, Member.id).outerjoin(Member, joined(CreditEntry.member_pk, Member)) \
            .where(CreditEntry.org_pk == org.pk)
        rows = uow.session.execute(pages.after(query, CreditEntry.pk, cursor, int, limit)).all()
        return pages.page(rows, limit, lambda row: row[0].pk, lambda row: views.credit_entry(*row))

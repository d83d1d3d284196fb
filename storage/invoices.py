"""Invoices (A1, M2): one line per member (their usage billed in the month),
then one line per seat charge made in the month. Each line is rounded once,
half-up to the cent (the engine's ``money.invoice_line_amount``), and the
total is the sum of the rounded lines, so the lines always add up to the
total. A month is invoiced when the billing run closes it (billing.py), on
plans billed in arrears; until then ``get`` builds a draft."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, insert, select

from tariff.engine import money, periods

from . import pages, requests, views
from .errors import NotFound
from .models import Charge, Invoice, InvoiceLine, Member, Organization, UsageRecord
from .unit_of_work import Books, UnitOfWork
from .views import TOKEN_COLUMNS

ROUNDING = ("Each line is its exact amount rounded half-up to the cent; the total is the sum of the rounded "
            "lines.")


def _tokens_sum():
    columns = [getattr(UsageRecord, column) for column in TOKEN_COLUMNS.values()]
    total = columns[0]
    for column in columns[1:]:
        total = total + column
    return total


def lines(uow: UnitOfWork, org: Organization, period: date) -> list[dict]:
    """One line per member (usage billed in ``period``), then per seat charge."""
    session = uow.session
    end = periods.add_months(period, 1)
    usage = {row.member_pk: row for row in session.execute(
        select(UsageRecord.member_pk, func.count().label("records"), func.sum(UsageRecord.billed).label("billed"),
               func.sum(_tokens_sum()).label("tokens"))
        .where(UsageRecord.org_pk == org.pk, UsageRecord.period_start == period)
        .group_by(UsageRecord.member_pk))}
    people = session.execute(select(Member.pk, Member.id, Member.name, Member.created_at)
                             .where(Member.org_pk == org.pk).order_by(Member.id))
    out = []
    for pk, member_id, name, created_at in people:
        row = usage.get(pk)
        if row is None and created_at.date() >= end:
            continue  # joined after the period
        exact = row.billed if row is not None else money.ZERO
        out.append({"kind": "usage", "member_id": member_id, "description": f"Usage by {name or member_id}",
                    "quantity": row.records if row is not None else 0,
                    "tokens": int(row.tokens or 0) if row is not None else 0,
                    "exact": exact, "amount": money.invoice_line_amount(exact)})
    for charge in session.execute(select(Charge).where(Charge.org_pk == org.pk, Charge.period_start == period)
                                  .order_by(Charge.pk)).scalars():
        months = f" x {charge.months} months" if charge.months else ""
        out.append({"kind": charge.kind, "member_id": None,
                    "description": f"{charge.kind.replace('_', ' ').capitalize()}: {charge.quantity} "
                                   f"{charge.item} x {views.money(charge.unit_price)} USD{months}",
                    "quantity": charge.quantity, "tokens": 0, "exact": charge.amount,
                    "amount": money.invoice_line_amount(charge.amount)})
    for position, line in enumerate(out, 1):
        line["position"] = position
    return out


def issue(uow: UnitOfWork, org: Organization, period: date, policy_version: str) -> Invoice:
    """The invoice of ``period``, stored with its lines (once: an issued invoice stays)."""
    existing = _issued(uow, org, period)
    if existing is not None:
        return existing
    made = lines(uow, org, period)
    invoice = Invoice(org_pk=org.pk, number=f"{org.id}-{period:%Y-%m}", period_start=period,
                      period_end=periods.add_months(period, 1), plan=org.plan, channel=org.channel,
                      total=sum((line["amount"] for line in made), money.ZERO), policy_version=policy_version,
                      issued_at=uow.now)
    uow.session.add(invoice)
    uow.session.flush()
    if made:
        uow.session.execute(insert(InvoiceLine), [line | {"org_pk": org.pk, "invoice_pk": invoice.pk}
                                                          for line in made])
    return invoice


def _issued(uow: UnitOfWork, org: Organization, period: date) -> Invoice | None:
    return uow.session.execute(select(Invoice).where(Invoice.org_pk == org.pk, Invoice.period_start == period)
                               ).scalar_one_or_none()


def head(invoice: Invoice) -> dict:
    return {"number": invoice.number, "period_start": views.iso(invoice.period_start),
            "period_end": views.iso(invoice.period_end), "status": "issued", "plan": invoice.plan,
            "channel": invoice.channel, "currency": "USD", "total": views.cents(invoice.total),
            "issued_at": views.iso(invoice.issued_at)}


def _view(org: Organization, invoice_head: dict, invoice_lines) -> dict:
    return {"organization": org.id, **invoice_head, "rounding": ROUNDING,
            "lines": [{"position": line["position"], "kind": line["kind"], "member": line["member_id"],
                       "description": line["description"], "quantity": line["quantity"],
                       "tokens": line["tokens"], "exact": views.money(line["exact"]),
                       "amount": views.cents(line["amount"])} for line in invoice_lines]}


def get(books: Books, org_id: str, period: date) -> dict:
    """The issued invoice of ``period``, or, for a period not yet closed on a
    plan billed in arrears, a draft built from the ledger as it stands."""
    period = periods.period_start(period)
    with books.read() as uow:
        org = uow.org(org_id)
        invoice = _issued(uow, org, period)
        if invoice is not None:
            stored = uow.session.execute(select(InvoiceLine).where(InvoiceLine.org_pk == invoice.org_pk,
                                                                      InvoiceLine.invoice_pk == invoice.pk)
                                         .order_by(InvoiceLine.position)).scalars()
            return _view(org, head(invoice), [
                {"position": l.position, "kind": l.kind, "member_id": l.member_id, "description": l.description,
                 "quantity": l.quantity, "tokens": l.tokens, "exact": l.exact, "amount": l.amount}
                for l in stored])
        if org.closed_through is not None and period <= org.closed_through:
            raise NotFound(f"period {period:%Y-%m} is closed and plan {org.plan} issued no invoice for it",
                           "invoice_not_found")
        if period < periods.period_start(org.term_start) and org.closed_through is None:
            raise NotFound(f"no billing period {period:%Y-%m} for organization {org.id!r}", "invoice_not_found")
        closes = uow.decide(requests.request(org, max(periods.add_months(period, 1), org.term_start),
                                             {"type": "period_start"}))
        if not any(c["change"] == "issue_invoice" for c in closes.changes):
            raise NotFound(f"plan {org.plan} on {org.channel} issues no monthly invoice (usage is prepaid): "
                           "see the usage summary", "no_invoice_on_plan")
        draft = lines(uow, org, period)
        draft_head = {"number": None, "period_start": views.iso(period),
                      "period_end": views.iso(periods.add_months(period, 1)), "status": "draft", "plan": org.plan,
                      "channel": org.channel, "currency": "USD",
                      "total": views.cents(sum((line["amount"] for line in draft), money.ZERO)), "issued_at": None}
        return _view(org, draft_head, draft)


def list_issued(books: Books, org_id: str, cursor: str | None = None, limit: int = pages.DEFAULT_LIMIT) -> dict:
    """A page of the invoices issued, by period (the cursor is the last invoice's pk:
    one invoice per organization and period, issued in period order)."""
    with books.read() as uow:
        org = uow.org(org_id)
        query = select(Invoice).where(Invoice.org_pk == org.pk)
        rows = list(uow.session.execute(pages.after(query, Invoice.pk, cursor, int, limit)).scalars())
        return pages.page(rows, limit, lambda invoice: invoice.pk,
                          lambda invoice: {"organization": org.id, **head(invoice)})

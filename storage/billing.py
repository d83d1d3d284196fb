"""Period close and renewal (L5, A1, M2, M3, R1, R2, S2, S4), run for a date.

``run_billing(org, on)`` applies, in date order, everything due up to
``on`` (today or earlier): each month start closes the month before (the engine's
``period_start`` event: the month's spend and notifications reset, and on
plans billed in arrears the month's invoice is issued); the renewal date
renews the term (``renewal``: removals scheduled for renewal first, the new
term's seats charged upfront, and the move to the single Enterprise seat for
the legacy plans). When a renewal and a month start fall on one day, the
month closes first, under the plan it was used on. Running again for the
same date does nothing: it is safe to run daily, or to catch up.

Invoices (A1, M2): one line per member (their usage billed in the month),
then one line per seat charge made in the month. Each line is rounded once,
half-up to the cent (engine/money.py ``invoice_line_amount``), and the total
is the sum of the rounded lines, so the lines always add up to the total.
"""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, insert, select

from tariff.engine import InputError
from tariff.engine import money, periods

from . import facts, repository as repo, views
from .errors import Conflict, InvalidInput, LedgerError, NotFound
from .models import Charge, Invoice, InvoiceLine, Member, Notification, Organization, SeatChange, UsageRecord

ROUNDING = ("Each line is its exact amount rounded half-up to the cent; the total is the sum of the rounded "
            "lines.")


def _tokens_sum():
    return (UsageRecord.input_tokens + UsageRecord.output_tokens + UsageRecord.cache_write_5m_tokens
            + UsageRecord.cache_write_1h_tokens + UsageRecord.cache_read_tokens)


class BillingOps:

    # -- the run ---------------------------------------------------------

    def _not_future(self, on: date) -> None:
        if on > self.today():
            raise InvalidInput.field("date", f"{on.isoformat()} has not come yet: a period closes once it is over")

    def run_billing(self, org_id: str, on: date) -> dict:
        self._not_future(on)
        with self.db.write() as session:
            org = repo.lock_org(session, org_id)
            done = {"organization": org.id, "date": on.isoformat(), "closed_periods": [], "invoices": [],
                    "renewals": []}
            while True:
                close_on = self._next_close(org)
                renew_on = org.renewal_date
                if close_on <= on and close_on <= renew_on:
                    self._close(session, org, close_on, done)
                elif renew_on <= on:
                    self._renew(session, org, renew_on, done)
                else:
                    break
            done["closed_through"] = views.iso(org.closed_through)
            done["organization_state"] = self.view_org(session, org)
            return done

    def due_organizations(self, on: date) -> list[str]:
        """Organizations with a period to close or a term to renew by ``on``."""
        month = periods.period_start(on)
        with self.db.read() as session:
            rows = session.execute(select(Organization.id, Organization.closed_through, Organization.term_start,
                                          Organization.renewal_date).order_by(Organization.id))
            return [org_id for org_id, closed, term, renewal in rows
                    if renewal <= on or (periods.add_months(closed, 1) if closed else periods.period_start(term)) < month]

    def run_billing_all(self, on: date) -> dict:
        self._not_future(on)
        results, failed = [], []
        for org_id in self.due_organizations(on):
            try:
                results.append(self.run_billing(org_id, on))
            except LedgerError as exc:
                failed.append({"organization": org_id, "code": exc.code, "message": exc.message})
            except InputError as exc:  # the engine could not decide on this organization's state
                failed.append({"organization": org_id, "code": exc.code, "message": str(exc)})
        return {"date": on.isoformat(), "organizations": results, "failed": failed}

    def _next_close(self, org: Organization) -> date:
        """The first day of the month after the oldest open period."""
        oldest_open = periods.add_months(org.closed_through, 1) if org.closed_through else periods.period_start(org.term_start)
        return periods.add_months(oldest_open, 1)

    def _close(self, session, org: Organization, on: date, done: dict) -> None:
        decision = self.decide(facts.request(org, on, {"type": "period_start"}))
        self.require_allow(decision)
        closing = periods.add_months(on, -1)
        for change in decision.changes:
            if change["change"] == "issue_invoice":
                invoice = self._issue(session, org, change["period_start"], decision.policy_version)
                done["invoices"].append(self._invoice_head(invoice))
        org.closed_through = closing
        org.updated_at = self.now()
        self.audit(session, org, decision, None)
        done["closed_periods"].append(closing.isoformat())

    def _renew(self, session, org: Organization, on: date, done: dict) -> None:
        removals = list(session.execute(select(SeatChange).where(
            SeatChange.org_pk == org.pk, SeatChange.status == "scheduled", SeatChange.effective_on <= on)
            .order_by(SeatChange.pk)).scalars())
        for change in removals:
            who = session.get(Member, change.actor_pk)
            try:
                with session.begin_nested():
                    self._remove_seats(session, org, who, change.seat_type, change.count, on, change)
            except LedgerError as exc:
                change.status, change.detail = "failed", json.dumps({"code": exc.code, "message": exc.message})
        old_plan = org.plan
        decision = self.decide(facts.request(org, on, {"type": "renewal"}))
        self.require_allow(decision)
        change = SeatChange(org_pk=org.pk, kind="renewal", status="applied", count=sum(org.seats.values()),
                            hipaa=False, effective_on=on, charged=money.ZERO, created_at=self.now())
        session.add(change)
        for item in decision.changes:
            if item["change"] == "start_term":
                org.plan, org.term_start = item["plan"], item["term_start"]
                org.renewal_date = periods.term_end(org.term_start)
        if decision.transition and decision.transition["type"] == "move_to_enterprise_seat":
            self._move_to_single_seat(session, org)
        change.detail = json.dumps({"from_plan": old_plan, "to_plan": org.plan,
                                    "transition": views.plain(decision.transition)}, sort_keys=True)
        self.record_charges(session, org, decision, change)
        self.audit(session, org, decision, None)
        session.flush()
        done["renewals"].append({"date": on.isoformat(), "from_plan": old_plan, "to_plan": org.plan,
                                 "transition": views.plain(decision.transition),
                                 "charged": views.money(change.charged)})

    def _move_to_single_seat(self, session, org: Organization) -> None:
        """R1, R2: every member, whatever their seat type, moves to the new plan's seat."""
        seat_types = list(self.plan(org).seat_types)
        if len(seat_types) != 1:
            raise Conflict(f"plan {org.plan} has several seat types; the move needs one", "no_single_seat")
        target = seat_types[0]
        total = sum(org.seats.values())
        for row in list(org.seat_counts):
            org.seat_counts.remove(row)
        session.flush()
        self.set_seats(session, org, target, total)
        org.hipaa_seats = 0
        org.extra_usage = False
        now = self.now()
        for member in repo.members(session, org):
            if member.seat_type != target:
                member.seat_type, member.updated_at = target, now

    # -- invoices --------------------------------------------------------

    def invoice_lines(self, session, org: Organization, period: date) -> list[dict]:
        """One line per member (usage billed in ``period``), then per seat charge."""
        end = periods.add_months(period, 1)
        usage = {row.member_pk: row for row in session.execute(
            select(UsageRecord.member_pk, func.count().label("records"), func.sum(UsageRecord.billed).label("billed"),
                   func.sum(_tokens_sum()).label("tokens"))
            .where(UsageRecord.org_pk == org.pk, UsageRecord.period_start == period)
            .group_by(UsageRecord.member_pk))}
        people = session.execute(select(Member.pk, Member.id, Member.name, Member.created_at)
                                 .where(Member.org_pk == org.pk).order_by(Member.id))
        lines = []
        for pk, member_id, name, created_at in people:
            row = usage.get(pk)
            if row is None and created_at.date() >= end:
                continue  # joined after the period
            exact = row.billed if row is not None else money.ZERO
            lines.append({"kind": "usage", "member_id": member_id,
                          "description": f"Usage by {name or member_id}",
                          "quantity": row.records if row is not None else 0,
                          "tokens": int(row.tokens or 0) if row is not None else 0,
                          "exact": exact, "amount": money.invoice_line_amount(exact)})
        for charge in session.execute(select(Charge).where(Charge.org_pk == org.pk, Charge.period_start == period)
                                      .order_by(Charge.pk)).scalars():
            months = f" x {charge.months} months" if charge.months else ""
            lines.append({"kind": charge.kind, "member_id": None,
                          "description": f"{charge.kind.replace('_', ' ').capitalize()}: {charge.quantity} "
                                         f"{charge.item} x {views.money(charge.unit_price)} USD{months}",
                          "quantity": charge.quantity, "tokens": 0, "exact": charge.amount,
                          "amount": money.invoice_line_amount(charge.amount)})
        for position, line in enumerate(lines, 1):
            line["position"] = position
        return lines

    def _issue(self, session, org: Organization, period: date, policy_version: str) -> Invoice:
        existing = session.execute(select(Invoice).where(Invoice.org_pk == org.pk, Invoice.period_start == period)
                                   ).scalar_one_or_none()
        if existing is not None:
            return existing
        lines = self.invoice_lines(session, org, period)
        invoice = Invoice(org_pk=org.pk, number=f"{org.id}-{period:%Y-%m}", period_start=period,
                          period_end=periods.add_months(period, 1), plan=org.plan, channel=org.channel,
                          total=sum((line["amount"] for line in lines), money.ZERO), policy_version=policy_version,
                          issued_at=self.now())
        session.add(invoice)
        session.flush()
        if lines:
            session.execute(insert(InvoiceLine), [line | {"invoice_pk": invoice.pk} for line in lines])
        return invoice

    def _invoice_head(self, invoice: Invoice) -> dict:
        return {"number": invoice.number, "period_start": views.iso(invoice.period_start),
                "period_end": views.iso(invoice.period_end), "status": "issued", "plan": invoice.plan,
                "channel": invoice.channel, "currency": "USD", "total": views.cents(invoice.total),
                "issued_at": views.iso(invoice.issued_at)}

    def _invoice_view(self, org: Organization, head: dict, lines) -> dict:
        return {"organization": org.id, **head, "rounding": ROUNDING,
                "lines": [{"position": line["position"], "kind": line["kind"], "member": line["member_id"],
                           "description": line["description"], "quantity": line["quantity"],
                           "tokens": line["tokens"], "exact": views.money(line["exact"]),
                           "amount": views.cents(line["amount"])} for line in lines]}

    def get_invoice(self, org_id: str, period: date) -> dict:
        """The issued invoice of ``period``, or, for a period not yet closed on a
        plan billed in arrears, a draft built from the ledger as it stands."""
        period = periods.period_start(period)
        with self.db.read() as session:
            org = repo.get_org(session, org_id)
            invoice = session.execute(select(Invoice).where(Invoice.org_pk == org.pk, Invoice.period_start == period)
                                      ).scalar_one_or_none()
            if invoice is not None:
                lines = session.execute(select(InvoiceLine).where(InvoiceLine.invoice_pk == invoice.pk)
                                        .order_by(InvoiceLine.position)).scalars()
                return self._invoice_view(org, self._invoice_head(invoice), [
                    {"position": l.position, "kind": l.kind, "member_id": l.member_id, "description": l.description,
                     "quantity": l.quantity, "tokens": l.tokens, "exact": l.exact, "amount": l.amount}
                    for l in lines])
            if org.closed_through is not None and period <= org.closed_through:
                raise NotFound(f"period {period:%Y-%m} is closed and plan {org.plan} issued no invoice for it",
                               "invoice_not_found")
            if period < periods.period_start(org.term_start) and org.closed_through is None:
                raise NotFound(f"no billing period {period:%Y-%m} for organization {org.id!r}", "invoice_not_found")
            closes = self.decide(facts.request(org, max(periods.add_months(period, 1), org.term_start),
                                               {"type": "period_start"}))
            if not any(c["change"] == "issue_invoice" for c in closes.changes):
                raise NotFound(f"plan {org.plan} on {org.channel} issues no monthly invoice (usage is prepaid): "
                               "see the usage summary", "no_invoice_on_plan")
            lines = self.invoice_lines(session, org, period)
            head = {"number": None, "period_start": views.iso(period), "period_end": views.iso(periods.add_months(period, 1)),
                    "status": "draft", "plan": org.plan, "channel": org.channel, "currency": "USD",
                    "total": views.cents(sum((line["amount"] for line in lines), money.ZERO)), "issued_at": None}
            return self._invoice_view(org, head, lines)

    def list_invoices(self, org_id: str) -> list[dict]:
        with self.db.read() as session:
            org = repo.get_org(session, org_id)
            rows = session.execute(select(Invoice).where(Invoice.org_pk == org.pk).order_by(Invoice.period_start))
            return [{"organization": org.id, **self._invoice_head(invoice)} for invoice in rows.scalars()]

    # -- notifications (M3) ----------------------------------------------

    def list_notifications(self, org_id: str, period: date | None = None) -> list[dict]:
        with self.db.read() as session:
            org = repo.get_org(session, org_id)
            query = select(Notification, Member.id).outerjoin(Member, Member.pk == Notification.member_pk) \
                .where(Notification.org_pk == org.pk).order_by(Notification.pk)
            if period is not None:
                query = query.where(Notification.period_start == periods.period_start(period))
            return [views.notification(n, member_id) for n, member_id in session.execute(query)]

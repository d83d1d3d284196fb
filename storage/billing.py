"""Period close and renewal (L5, A1, M2, M3, R1, R2, S2, S4), run for a date.

``run(org, on)`` applies, in date order, everything due up to ``on`` (today
or earlier): each month start closes the month before (the engine's
``period_start`` event: the month's spend and notifications reset, and on
plans billed in arrears the month's invoice is issued, invoices.py); the
renewal date renews the term (``renewal``: removals scheduled for renewal
first, the new term's seats charged upfront, and the move to the single
Enterprise seat for the legacy plans). When a renewal and a month start fall
on one day, the month closes first, under the plan it was used on. Running
again for the same date does nothing: it is safe to run daily, or to catch up.

A run for today also puts the organization's forecasts to the policy
(forecast.py, D17: "credits will run out in N days", and the organization
limit's), every organization's, due or not, in ``run_all``. A run for a past
day forecasts nothing: spend is counted to now, not to that day.
"""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from tariff.engine import InputError, money, periods

from . import forecast, idempotency, invoices, limits, repository as repo, requests, views
from .errors import Conflict, InvalidInput, LedgerError
from .models import Member, Organization, SeatChange
from .seats import apply_removal
from .unit_of_work import Books, UnitOfWork


def _not_future(on: date, today: date) -> None:
    if on > today:
        raise InvalidInput.field("date", f"{on.isoformat()} has not come yet: a period closes once it is over")


def run(books: Books, org_id: str, on: date, idempotency_key: str | None = None) -> dict:
    with books.write() as uow:
        _not_future(on, uow.today)
        org = uow.lock_org(org_id)
        once = idempotency.Once(uow, org, "billing.run", idempotency_key, date=on.isoformat())
        if once.replay is not None:
            return once.replay
        done = {"organization": org.id, "date": on.isoformat(), "closed_periods": [], "invoices": [],
                "renewals": []}
        while True:
            close_on = _next_close(org)
            renew_on = org.renewal_date
            if close_on <= on and close_on <= renew_on:
                _close(uow, org, close_on, done)
            elif renew_on <= on:
                _renew(uow, org, renew_on, done)
            else:
                break
        if on == uow.today:
            forecast.check(uow, org, on)
        done["closed_through"] = views.iso(org.closed_through)
        done["organization_state"] = uow.view_org(org)
        return once.keep(done)


def due(books: Books, on: date) -> list[str]:
    """Organizations with a period to close or a term to renew by ``on``."""
    month = periods.period_start(on)
    with books.read() as uow:
        rows = uow.session.execute(select(Organization.id, Organization.closed_through, Organization.term_start,
                                          Organization.renewal_date).order_by(Organization.id))
        return [org_id for org_id, closed, term, renewal in rows
                if renewal <= on or (periods.add_months(closed, 1) if closed else periods.period_start(term)) < month]


def run_all(books: Books, on: date) -> dict:
    """``run`` for every organization due, each in its own unit of work; one
    that fails is reported and the others go on. Run for today, it makes the
    forecasts of the organizations not due too (forecast.run). This
    daily job also prunes the idempotency keys older than the retention
    window (idempotency.prune)."""
    _not_future(on, books.now().date())
    results, failed = [], []
    due_now = due(books, on)
    for org_id in due_now:
        try:
            results.append(run(books, org_id, on))
        except (LedgerError, InputError) as exc:  # InputError: the engine could not decide on its state
            failed.append({"organization": org_id, "code": exc.code, "message": str(exc)})
    if on == books.now().date():
        for org_id in sorted(set(forecast.candidates(books)) - set(due_now)):
            try:
                forecast.run(books, org_id, on)
            except (LedgerError, InputError) as exc:
                failed.append({"organization": org_id, "code": exc.code, "message": str(exc)})
    idempotency.prune(books)
    return {"date": on.isoformat(), "organizations": results, "failed": failed}


def _next_close(org: Organization) -> date:
    """The first day of the month after the oldest open period."""
    oldest_open = (periods.add_months(org.closed_through, 1) if org.closed_through
                   else periods.period_start(org.term_start))
    return periods.add_months(oldest_open, 1)


def _seats_at(uow: UnitOfWork, org: Organization, on: date) -> dict[str, int]:
    """The seats held when ``on`` began: today's, with the changes applied
    since undone. A run that catches up on months must not bill February for
    a seat added in April (D16); a seat added on ``on`` itself paid for its
    period when it was added."""
    seats = dict(org.seats)
    since = uow.session.execute(select(SeatChange).where(
        SeatChange.org_pk == org.pk, SeatChange.status == "applied", SeatChange.effective_on >= on,
        SeatChange.kind.in_(("add", "remove", "type_change")))).scalars()
    for change in since:
        if change.kind == "add":
            seats[change.seat_type] = seats.get(change.seat_type, 0) - change.count
        elif change.kind == "remove":
            seats[change.seat_type] = seats.get(change.seat_type, 0) + change.count
        else:
            seats[change.seat_type] = seats.get(change.seat_type, 0) + change.count
            seats[change.to_seat_type] = seats.get(change.to_seat_type, 0) - change.count
    return {seat_type: count for seat_type, count in seats.items() if count > 0}


def _close(uow: UnitOfWork, org: Organization, on: date, done: dict) -> None:
    decision = uow.require_allow(uow.decide(requests.request(
        org, on, {"type": "period_start"}, organization={"seats": _seats_at(uow, org, on)})))
    closing = periods.add_months(on, -1)
    if decision.charges:  # seats billed each period (P1, D16): the new period's fee
        fee = SeatChange(org_pk=org.pk, kind="period_fee", status="applied",
                         count=sum(line.quantity for line in decision.charges),
                         hipaa=False, effective_on=on, charged=money.ZERO, created_at=uow.now)
        uow.session.add(fee)
        uow.record_charges(org, decision, fee)
    for change in decision.changes:
        if change["change"] == "issue_invoice":
            invoice = invoices.issue(uow, org, change["period_start"], decision.policy_version)
            done["invoices"].append(invoices.head(invoice))
    org.closed_through = closing
    org.updated_at = uow.now
    uow.audit(org, decision, None)
    done["closed_periods"].append(closing.isoformat())


def _renew(uow: UnitOfWork, org: Organization, on: date, done: dict) -> None:
    session = uow.session
    removals = list(session.execute(select(SeatChange).where(
        SeatChange.org_pk == org.pk, SeatChange.status == "scheduled", SeatChange.effective_on <= on)
        .order_by(SeatChange.pk)).scalars())
    for change in removals:
        who = session.get(Member, (org.pk, change.actor_pk)) if change.actor_pk is not None else None
        try:
            with session.begin_nested():
                apply_removal(uow, org, who, change.seat_type, change.count, on, change)
        except LedgerError as exc:  # this removal fails alone; the renewal goes on
            change.status, change.detail = "failed", json.dumps({"code": exc.code, "message": exc.message})
    old_plan = org.plan
    decision = uow.require_allow(uow.decide(requests.request(org, on, {"type": "renewal"})))
    change = SeatChange(org_pk=org.pk, kind="renewal", status="applied", count=sum(org.seats.values()),
                        hipaa=False, effective_on=on, charged=money.ZERO, created_at=uow.now)
    session.add(change)
    for item in decision.changes:
        if item["change"] == "start_term":
            org.plan, org.term_start = item["plan"], item["term_start"]
            org.renewal_date = periods.term_end(org.term_start)
        elif item["change"] == "end_limits":  # D11: they end with their level, and stay in the history
            limits.end(uow, org, item["levels"], on)
    if decision.transition and decision.transition["type"] == "move_to_enterprise_seat":
        _move_to_single_seat(uow, org)
    transition = decision.to_dict()["transition"]  # as the engine writes it: dates as ISO text
    change.detail = json.dumps({"from_plan": old_plan, "to_plan": org.plan, "transition": transition},
                               sort_keys=True)
    uow.record_charges(org, decision, change)
    uow.audit(org, decision, None)
    session.flush()
    done["renewals"].append({"date": on.isoformat(), "from_plan": old_plan, "to_plan": org.plan,
                             "transition": transition, "charged": views.money(change.charged),
                             "notifications": decision.to_dict()["notifications"]})


def _move_to_single_seat(uow: UnitOfWork, org: Organization) -> None:
    """R1, R2: every member, whatever their seat type, moves to the new plan's seat."""
    seat_types = list(uow.plan(org).seat_types)
    if len(seat_types) != 1:
        raise Conflict(f"plan {org.plan} has several seat types; the move needs one", "no_single_seat")
    target = seat_types[0]
    total = sum(org.seats.values())
    for row in list(org.seat_counts):
        org.seat_counts.remove(row)
    uow.session.flush()
    uow.set_seats(org, target, total)
    org.hipaa_seats = 0
    org.extra_usage = False
    for member in repo.members(uow.session, org):
        if member.seat_type != target:
            member.seat_type, member.updated_at = target, uow.now

"""Seats: added mid-term with the prorated charge (S3), removed only when the
policy allows (S4), or scheduled to go at renewal.

Decided here: a removal the policy refuses mid-term can be scheduled for the
renewal date (``at_renewal``, as the refusal's resume option says); the
renewal run applies it before charging the new term. Seats that members
occupy cannot be removed (``seats_in_use``).
"""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from tariff.engine import money

from . import idempotency, inputs, pages, repository as repo, requests, views
from .errors import Conflict, NotFound
from .models import Member, Organization, SeatChange
from .unit_of_work import Books, UnitOfWork


def add(books: Books, org_id: str, *, actor: str, count: int, seat_type: str | None = None,
        hipaa: bool = False, idempotency_key: str | None = None) -> dict:
    with books.write() as uow:
        org, who = uow.acting(org_id, actor)
        once = idempotency.Once(uow, org, "seats.add", idempotency_key, actor=actor, count=count,
                                seat_type=seat_type, hipaa=hipaa)
        if once.replay is not None:
            return once.replay
        seat_type = inputs.seat_type(uow.plan(org), seat_type, "seat_type")
        return once.keep(result(uow, org, apply_addition(uow, org, who, seat_type, count, hipaa, uow.today)))


def remove(books: Books, org_id: str, *, actor: str, count: int, seat_type: str | None = None,
           at_renewal: bool = False, idempotency_key: str | None = None) -> dict:
    with books.write() as uow:
        org, who = uow.acting(org_id, actor)
        once = idempotency.Once(uow, org, "seats.remove", idempotency_key, actor=actor, count=count,
                                seat_type=seat_type, at_renewal=at_renewal)
        if once.replay is not None:
            return once.replay
        seat_type = inputs.seat_type(uow.plan(org), seat_type, "seat_type")
        if not at_renewal:
            return once.keep(result(uow, org, apply_removal(uow, org, who, seat_type, count, uow.today)))
        # Decided now as of the renewal date (role, seat type); decided again at renewal.
        uow.require_allow(_removal(uow, org, who, seat_type, count, org.renewal_date))
        change = SeatChange(org_pk=org.pk, kind="remove", status="scheduled", seat_type=seat_type, count=count,
                            hipaa=False, actor_pk=who.pk, effective_on=org.renewal_date, charged=money.ZERO,
                            created_at=uow.now)
        uow.session.add(change)
        return once.keep(result(uow, org, change))


def changes(books: Books, org_id: str, cursor: str | None = None, limit: int = pages.DEFAULT_LIMIT) -> dict:
    """A page of the seat changes, oldest first."""
    with books.read() as uow:
        org = uow.org(org_id)
        query = select(SeatChange).where(SeatChange.org_pk == org.pk)
        rows = list(uow.session.execute(pages.after(query, SeatChange.pk, cursor, int, limit)).scalars())
        names = dict(uow.session.execute(select(Member.pk, Member.id).where(Member.org_pk == org.pk)).all())
        return pages.page(rows, limit, lambda change: change.pk,
                          lambda change: views.seat_change(change, names, list(change.charges)))


def cancel(books: Books, org_id: str, change_id: int, *, actor: str, idempotency_key: str | None = None) -> dict:
    """Cancel a scheduled removal before it applies."""
    with books.write() as uow:
        org, who = uow.acting(org_id, actor)
        once = idempotency.Once(uow, org, "seats.cancel", idempotency_key, actor=actor, change_id=change_id)
        if once.replay is not None:
            return once.replay
        change = uow.session.get(SeatChange, (org.pk, change_id))
        if change is None:
            raise NotFound(f"no seat change {change_id} in organization {org.id!r}", "seat_change_not_found")
        if change.status != "scheduled":
            raise Conflict(f"seat change {change_id} is {change.status}, not scheduled", "not_scheduled")
        uow.permit(org, who, {"type": "seat_change_cancel"})
        change.status = "cancelled"
        change.detail = json.dumps({"cancelled_by": who.id})
        return once.keep(result(uow, org, change))


# -- inside a unit of work: also the organization's creation and the renewal run --

def apply_addition(uow: UnitOfWork, org: Organization, who: Member, seat_type: str, count: int, hipaa: bool,
                   as_of: date, kind: str = "add") -> SeatChange:
    """Seats added as the engine's ``seats_added`` decides, with their charge."""
    event = {"type": "seats_added", "count": count, "seat_type": seat_type}
    if hipaa:
        event["hipaa"] = True
    decision = uow.require_allow(uow.decide(requests.request(org, as_of, event, who)))
    change = SeatChange(org_pk=org.pk, kind=kind, status="applied", seat_type=seat_type, count=count, hipaa=hipaa,
                        actor_pk=who.pk, effective_on=as_of, charged=money.ZERO, created_at=uow.now)
    uow.session.add(change)
    for item in decision.changes:
        if item["change"] == "add_seats":
            uow.set_seats(org, item["seat_type"], item["count"])
            if item["hipaa"]:
                org.hipaa_seats += item["count"]
    uow.record_charges(org, decision, change)
    uow.audit(org, decision, who)
    return change


def apply_removal(uow: UnitOfWork, org: Organization, who: Member, seat_type: str, count: int, as_of: date,
                  change: SeatChange | None = None) -> SeatChange:
    """Seats removed as the engine's ``seat_removal`` decides; free seats only.
    ``change``: the scheduled removal this applies (the renewal run)."""
    decision = uow.require_allow(_removal(uow, org, who, seat_type, count, as_of))
    for item in decision.changes:
        if item["change"] == "remove_seats":
            free = org.seats.get(item["seat_type"], 0) - repo.assigned_seats(uow.session, org).get(item["seat_type"], 0)
            if item["count"] > free:
                raise Conflict(f"only {free} {item['seat_type']} seats are free; members occupy the rest "
                               "(change their seat type first)", "seats_in_use")
            uow.set_seats(org, item["seat_type"], -item["count"])
    if change is None:
        change = SeatChange(org_pk=org.pk, kind="remove", seat_type=seat_type, count=count, hipaa=False,
                            actor_pk=who.pk, charged=money.ZERO, created_at=uow.now)
        uow.session.add(change)
    change.status, change.effective_on = "applied", as_of
    uow.audit(org, decision, who)
    return change


def _removal(uow: UnitOfWork, org: Organization, who: Member, seat_type: str, count: int, as_of: date):
    return uow.decide(requests.request(org, as_of, {"type": "seat_removal", "count": count, "seat_type": seat_type},
                                       who))


def result(uow: UnitOfWork, org: Organization, change: SeatChange) -> dict:
    """The organization after a seat change, and the change with its charges."""
    uow.session.flush()
    pks = [pk for pk in (change.actor_pk, change.member_pk) if pk is not None]
    names = dict(uow.session.execute(select(Member.pk, Member.id).where(Member.org_pk == org.pk, Member.pk.in_(pks)))
                 .all()) if pks else {}
    return {"organization": uow.view_org(org), "seat_change": views.seat_change(change, names, list(change.charges))}

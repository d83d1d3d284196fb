"""Organizations: created with their primary owner and seats (S2), read,
renamed, extra usage switched (P2).

Decided here, where the policy is silent (documented in docs/ledger.md):
creating an organization charges its initial seats for the whole term (S2):
the engine decides a ``seats_added`` event as of the term's start, by the
primary owner, which prices twelve months. Who may rename it and switch
extra usage is the policy's (policies/rules/members.yaml, included_usage.yaml).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tariff.engine import money, periods

from . import idempotency, inputs, pages, requests, views
from .errors import Conflict, InvalidInput
from .models import Member, Organization, OrganizationId
from .seats import apply_addition
from .unit_of_work import Books

PRIMARY_OWNER = "primary_owner"  # named at creation; the role changes hands only by a transfer (D14)
INCLUDED_ALLOWANCE = "included_allowance"  # the plans whose seats include usage: extra usage is theirs (P2)


def create(books: Books, *, name: str, plan: str, term_start: date, seats: dict[str, int], primary_owner: dict,
           id: str | None = None, channel: str | None = None, hipaa_seats: int = 0,
           extra_usage: bool = False, idempotency_key: str | None = None) -> dict:
    """``idempotency_key``: unique among the operations of no organization (kept in
    ``shared_answers``), whatever the id."""
    org_id = inputs.check_id(id, "id") if id else inputs.new_id("org")
    try:
        with books.write() as uow:
            once = idempotency.Once(uow, "", "organizations.create", idempotency_key, name=name, plan=plan,
                                    term_start=term_start, seats=seats, primary_owner=primary_owner, id=id,
                                    channel=channel, hipaa_seats=hipaa_seats, extra_usage=extra_usage)
            if once.replay is not None:
                return once.replay
            plan_obj, channel = inputs.plan_and_channel(uow.policy, plan, channel)
            owner_seat = _check_seats(plan_obj, seats, primary_owner)
            if extra_usage and plan_obj.usage != INCLUDED_ALLOWANCE:
                raise _extra_usage_not_on(plan_obj.id)
            if uow.session.get(OrganizationId, org_id) is not None:
                raise Conflict(f"organization {org_id!r} exists", "organization_exists")
            org = Organization(id=org_id, name=name, plan=plan_obj.id, channel=channel, term_start=term_start,
                               renewal_date=periods.term_end(term_start), hipaa_seats=0, extra_usage=extra_usage,
                               credit_balance=money.ZERO, closed_through=None, created_at=uow.now,
                               updated_at=uow.now)
            uow.session.add(org)
            uow.session.flush()
            uow.session.add(OrganizationId(id=org_id, org_pk=org.pk))  # its id, unique (a duplicate: IntegrityError)
            owner = Member(org_pk=org.pk, id=inputs.check_id(primary_owner.get("id") or inputs.new_id("mem"),
                                                             "primary_owner.id"),
                           name=primary_owner.get("name"), email=primary_owner.get("email"),
                           role=PRIMARY_OWNER, seat_type=owner_seat, created_at=uow.now, updated_at=uow.now)
            uow.session.add(owner)
            uow.session.flush()
            hipaa_left = hipaa_seats
            for seat_type, count in sorted(seats.items()):
                hipaa = min(hipaa_left, count) if hipaa_left else 0
                for part, is_hipaa in ((count - hipaa, False), (hipaa, True)):
                    if part:
                        apply_addition(uow, org, owner, seat_type, part, is_hipaa, term_start, "initial")
                hipaa_left -= hipaa
            if hipaa_left:
                raise InvalidInput.field("hipaa_seats", "more HIPAA seats than seats")
            return once.keep(uow.view_org(org) | {"primary_owner": views.member(owner)})
    except IntegrityError:  # another request created the same id meanwhile
        raise Conflict(f"organization {org_id!r} exists", "organization_exists") from None


def _check_seats(plan, seats: dict[str, int], primary_owner: dict) -> str:
    """The seats asked for fit the plan; returns the primary owner's seat type."""
    for seat_type in seats:
        inputs.seat_type(plan, seat_type, f"seats.{seat_type}")
    if sum(seats.values()) < 1:
        raise InvalidInput.field("seats", "an organization needs at least one seat (its primary owner's)")
    owner_seat = inputs.seat_type(plan, primary_owner.get("seat_type"), "primary_owner.seat_type", seats)
    if seats.get(owner_seat, 0) < 1:
        raise InvalidInput.field("primary_owner.seat_type", f"no {owner_seat} seat for the primary owner")
    return owner_seat


def _extra_usage_not_on(plan_id: str) -> InvalidInput:
    return InvalidInput.field("extra_usage", f"plan {plan_id} bills all usage; extra usage is for seat-based "
                                             "plans (P2)")


def list_page(books: Books, cursor: str | None = None, limit: int = pages.DEFAULT_LIMIT) -> dict:
    """A page of every organization, by id (billing staff)."""
    with books.read() as uow:
        rows = list(uow.session.execute(pages.after(select(Organization), Organization.id, cursor, str, limit))
                    .scalars())
        return pages.page(rows, limit, lambda org: org.id, uow.view_org)


def get(books: Books, org_id: str) -> dict:
    with books.read() as uow:
        return uow.view_org(uow.org(org_id))


def update(books: Books, org_id: str, *, actor: str, name: str | None = None, extra_usage: bool | None = None,
           idempotency_key: str | None = None) -> dict:
    """Rename, or switch extra usage (P2) on or off. Switching off is the
    engine's ``disable_usage_billing`` (refused on usage-based plans, U4);
    switching on is ``enable_extra_usage``; renaming ``organization_rename``."""
    with books.write() as uow:
        org, who = uow.acting(org_id, actor)
        once = idempotency.Once(uow, org, "organizations.update", idempotency_key, actor=actor, name=name,
                                extra_usage=extra_usage)
        if once.replay is not None:
            return once.replay
        usage_based = uow.plan(org).usage != INCLUDED_ALLOWANCE
        if extra_usage is False and (org.extra_usage or usage_based):
            decision = uow.require_allow(uow.decide(requests.request(org, uow.today,
                                                                     {"type": "disable_usage_billing"}, who)))
            for change in decision.changes:
                if change["change"] == "disable_extra_usage":
                    org.extra_usage = False
            uow.audit(org, decision, who)
        elif extra_usage is True and not org.extra_usage:
            uow.permit(org, who, {"type": "enable_extra_usage"})
            org.extra_usage = True
        if name is not None:
            uow.permit(org, who, {"type": "organization_rename"})
            org.name = name
        org.updated_at = uow.now
        return once.keep(uow.view_org(org))


"""Members: added on a free seat, read, their role or seat type changed (S7).

Decided here, where the policy is silent (documented in docs/ledger.md):
members occupy seats, so a member is added only to a free seat of its seat
type (``no_free_seat``: add seats first); a seat type change converts the
member's seat, so the seat counts follow it. Who may add members and change
roles is the policy's (policies/rules/members.yaml, by the actor's role).
"""
from __future__ import annotations

from tariff.engine import money

from . import idempotency, inputs, pages, repository as repo, requests, views
from .errors import Conflict
from .models import Member, Organization, SeatChange
from .unit_of_work import Books, UnitOfWork


def add(books: Books, org_id: str, *, actor: str, id: str | None = None, role: str = "member",
        seat_type: str | None = None, name: str | None = None, email: str | None = None,
        idempotency_key: str | None = None) -> dict:
    member_id = inputs.check_id(id, "id") if id else inputs.new_id("mem")
    with books.write() as uow:
        org, who = uow.acting(org_id, actor)
        once = idempotency.Once(uow, org, "members.add", idempotency_key, actor=actor, id=id, role=role,
                                seat_type=seat_type, name=name, email=email)
        if once.replay is not None:
            return once.replay
        uow.permit(org, who, {"type": "member_add", "new_role": role})
        seat_type = inputs.seat_type(uow.plan(org), seat_type, "seat_type", org.seats)
        if repo.find_member(uow.session, org, member_id) is not None:
            raise Conflict(f"member {member_id!r} exists in organization {org.id!r}", "member_exists")
        _need_free_seat(uow, org, seat_type)
        member = Member(org_pk=org.pk, id=member_id, name=name, email=email, role=role, seat_type=seat_type,
                        created_at=uow.now, updated_at=uow.now)
        uow.session.add(member)
        uow.session.flush()
        return once.keep(views.member(member))


def _need_free_seat(uow: UnitOfWork, org: Organization, seat_type: str) -> None:
    bought = org.seats.get(seat_type, 0)
    used = repo.assigned_seats(uow.session, org).get(seat_type, 0)
    if used >= bought:
        raise Conflict(f"all {bought} {seat_type} seats are taken: add seats first", "no_free_seat")


def get(books: Books, org_id: str, member_id: str) -> dict:
    with books.read() as uow:
        return views.member(uow.member(uow.org(org_id), member_id, removed=True))


def list_all(books: Books, org_id: str, *, removed: bool = False, cursor: str | None = None,
             limit: int = pages.DEFAULT_LIMIT) -> dict:
    """A page of the members, by id; with ``removed``, the removed ones too."""
    with books.read() as uow:
        query = repo.members_query(uow.org(org_id), removed=removed)
        rows = list(uow.session.execute(pages.after(query, Member.id, cursor, str, limit)).scalars())
        return pages.page(rows, limit, lambda m: m.id, views.member)


def remove(books: Books, org_id: str, member_id: str, *, actor: str, idempotency_key: str | None = None) -> dict:
    """Remove a member (the policy's ``member_removal``, by the actor's role):
    their seat is free at once; their usage, charges and invoice lines stay,
    and their id is not given again. The primary owner is not removed: the
    role is transferred first."""
    with books.write() as uow:
        org, who = uow.acting(org_id, actor)
        once = idempotency.Once(uow, org, "members.remove", idempotency_key, member=member_id, actor=actor)
        if once.replay is not None:
            return once.replay
        member = uow.member(org, member_id)
        uow.permit(org, who, {"type": "member_removal", "target_role": member.role})
        member.removed_at = member.updated_at = uow.now
        return once.keep(views.member(member))


def transfer_owner(books: Books, org_id: str, *, actor: str, to: str, idempotency_key: str | None = None) -> dict:
    """Hand the primary owner's role to another current member (the policy's
    ``owner_transfer``: only the primary owner can); the former primary owner
    stays an owner. Answers both members as they are now."""
    with books.write() as uow:
        org, who = uow.acting(org_id, actor)
        once = idempotency.Once(uow, org, "members.transfer_owner", idempotency_key, actor=actor, to=to)
        if once.replay is not None:
            return once.replay
        target = uow.member(org, to)
        decision = uow.permit(org, who, {"type": "owner_transfer", "target_role": target.role})
        if any(item["change"] == "transfer_primary_owner" for item in decision.changes):
            who.role, target.role = "owner", who.role
            who.updated_at = target.updated_at = uow.now
        return once.keep({"primary_owner": views.member(target), "previous": views.member(who)})


def change(books: Books, org_id: str, member_id: str, *, actor: str, role: str | None = None,
           seat_type: str | None = None, idempotency_key: str | None = None) -> dict:
    """Change a member's role, or seat type (S7: the engine's seat_type_change,
    effective at once; a dearer seat type is charged for the months left)."""
    with books.write() as uow:
        org, who = uow.acting(org_id, actor)
        once = idempotency.Once(uow, org, "members.change", idempotency_key, member=member_id, actor=actor,
                                role=role, seat_type=seat_type)
        if once.replay is not None:
            return once.replay
        member = uow.member(org, member_id)
        seat_change = None
        if seat_type is not None and seat_type != member.seat_type:
            seat_change = _change_seat_type(uow, org, who, member, seat_type)
        if role is not None and role != member.role:
            uow.permit(org, who, {"type": "member_role_change", "new_role": role, "target_role": member.role})
            member.role = role
        member.updated_at = uow.now
        out = views.member(member)
        if seat_change is not None:
            out["seat_change"] = views.seat_change(seat_change, {member.pk: member.id, who.pk: who.id},
                                                   list(seat_change.charges))
        return once.keep(out)


def _change_seat_type(uow: UnitOfWork, org: Organization, who: Member, member: Member, to: str) -> SeatChange:
    event = {"type": "seat_type_change", "from": member.seat_type, "to": to}
    decision = uow.require_allow(uow.decide(requests.request(org, uow.today, event, who)))
    change = SeatChange(org_pk=org.pk, kind="type_change", status="applied", seat_type=member.seat_type,
                        to_seat_type=to, count=1, hipaa=False, member_pk=member.pk, actor_pk=who.pk,
                        effective_on=uow.today, charged=money.ZERO, created_at=uow.now)
    uow.session.add(change)
    for item in decision.changes:
        if item["change"] == "change_seat_type":
            uow.set_seats(org, item["from"], -1)
            uow.set_seats(org, item["to"], +1)
            member.seat_type = item["to"]
    uow.record_charges(org, decision, change)
    uow.audit(org, decision, who)
    return change

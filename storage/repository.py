"""Queries the service runs, in one place. All take an open session."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Callable, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import and_, bindparam, false, func, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from tariff.engine import UNLIMITED, money

from .errors import Conflict, InvalidInput, NotFound
from .models import Limit, Member, Notification, Organization, OrganizationId, SpendCounter

T = TypeVar("T")


# Organizations' pks by engine: an id names one organization for ever (models.OrganizationId),
# so a process reads each in organization_ids once. A pk kept from a transaction that then
# rolled back (its id later given to another organization) is found out: the row is read by
# pk *and* id, and on a miss the pk is read again (``fresh``).
_PKS: WeakKeyDictionary[Engine, dict[str, int]] = WeakKeyDictionary()
_PKS_KEPT = 10_000
ORG_PK = select(OrganizationId.org_pk).where(OrganizationId.id == bindparam("org"))


def org_pk(conn: Connection, org_id: str, fresh: bool = False) -> int | None:
    """The pk of the organization ``org_id`` (None: there is none)."""
    known = _PKS.get(conn.engine)
    if known is None:
        known = _PKS[conn.engine] = {}
    pk = None if fresh else known.get(org_id)
    if pk is None:
        pk = conn.execute(ORG_PK, {"org": org_id}).scalar()
        if pk is None:
            known.pop(org_id, None)
        else:
            if len(known) >= _PKS_KEPT:
                known.clear()
            known[org_id] = pk
    return pk


def by_org_pk(conn: Connection, org_id: str, read: Callable[[int], T | None]) -> T | None:
    """``read(pk)`` with the organization's pk (None: no such organization). ``read`` finds
    the row by pk *and* id, so a kept pk that no longer fits finds nothing: it is read
    again, once, from organization_ids."""
    for fresh in (False, True):
        pk = org_pk(conn, org_id, fresh)
        if pk is None:
            return None
        found = read(pk)
        if found is not None:
            return found
    return None


def of_org(column, conn: Connection, org_id: str):
    """``column == the organization's pk``: by pk, so on its shard; an unknown id matches
    nothing (never NULL, which some columns use for every organization's rows)."""
    pk = org_pk(conn, org_id)
    return false() if pk is None else column == pk


def lock_org(session: Session, org_id: str) -> Organization:
    """The organization, locked until the transaction ends (FOR UPDATE on
    PostgreSQL; SQLite's write transaction already holds the database lock)."""
    return _org(session, org_id, lock=True)


def get_org(session: Session, org_id: str) -> Organization:
    return _org(session, org_id, lock=False)


def _org(session: Session, org_id: str, lock: bool) -> Organization:
    org = find_org(session, org_id, lock)
    if org is None:
        raise NotFound(f"no organization {org_id!r}", "organization_not_found")
    return org


def find_org(session: Session, org_id: str, lock: bool = False) -> Organization | None:
    """By pk, so on its shard (Citus routes a locking read only there), and by id."""
    def read(pk: int) -> Organization | None:
        query = select(Organization).where(Organization.pk == pk, Organization.id == org_id)
        return session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    return by_org_pk(session.connection(), org_id, read)


def find_member(session: Session, org: Organization, member_id: str) -> Member | None:
    return session.execute(select(Member).where(Member.org_pk == org.pk, Member.id == member_id)).scalar_one_or_none()


def get_member(session: Session, org: Organization, member_id: str) -> Member:
    member = find_member(session, org, member_id)
    if member is None:
        raise NotFound(f"no member {member_id!r} in organization {org.id!r}", "member_not_found")
    return member


def current_member(session: Session, org: Organization, member_id: str) -> Member:
    """A member who has not been removed (changes; a removed member's row is history)."""
    member = get_member(session, org, member_id)
    if member.removed_at is not None:
        raise Conflict(f"member {member_id!r} was removed from organization {org.id!r}", "member_removed")
    return member


def actor(session: Session, org: Organization, member_id: str, path: str = "actor") -> Member:
    """The member acting (whose role the policy checks); a removed member acts no more."""
    member = find_member(session, org, member_id)
    if member is None or member.removed_at is not None:
        gone = "no" if member is None else "removed"
        raise InvalidInput.field(path, f"{gone} member {member_id!r} in organization {org.id!r}", "unknown_actor")
    return member


def members_query(org: Organization, *, removed: bool = False):
    """The organization's members; with ``removed``, the removed ones too."""
    query = select(Member).where(Member.org_pk == org.pk)
    return query if removed else query.where(Member.removed_at.is_(None))


def members(session: Session, org: Organization, *, removed: bool = False) -> list[Member]:
    """The organization's members by id (all of them: billing runs, summaries)."""
    return list(session.execute(members_query(org, removed=removed).order_by(Member.id)).scalars())


def assigned_seats(session: Session, org: Organization) -> dict[str, int]:
    """Seats held by current members (a removed member's seat is free)."""
    rows = session.execute(select(Member.seat_type, func.count())
                           .where(Member.org_pk == org.pk, Member.removed_at.is_(None))
                           .group_by(Member.seat_type))
    return {seat_type: count for seat_type, count in rows}


def limits(session: Session, org: Organization, *, ended: bool = False) -> list[Limit]:
    """The limits in force; with ``ended``, those a renewal ended too."""
    query = select(Limit).where(Limit.org_pk == org.pk).order_by(Limit.level, Limit.subject)
    if not ended:
        query = query.where(Limit.ended_on.is_(None))
    return list(session.execute(query).scalars())


def limit_rows(session: Session, org: Organization, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], Limit]:
    if not wanted:
        return {}
    rows = session.execute(select(Limit).where(Limit.org_pk == org.pk, Limit.ended_on.is_(None), or_(
        *[and_(Limit.level == level, Limit.subject == subject) for level, subject in wanted]))).scalars()
    return {(row.level, row.subject): row for row in rows}


def limit_value(row: Limit | None):
    """What the engine is told: an amount, "unlimited", or None (not set)."""
    if row is None:
        return None
    return UNLIMITED if row.amount is None else row.amount


def counters(session: Session, org: Organization, period: date,
             wanted: list[tuple[str, str]]) -> dict[tuple[str, str], SpendCounter]:
    if not wanted:
        return {}
    rows = session.execute(select(SpendCounter).where(
        SpendCounter.org_pk == org.pk, SpendCounter.period_start == period,
        or_(*[and_(SpendCounter.level == level, SpendCounter.subject == subject) for level, subject in wanted])
    )).scalars()
    return {(row.level, row.subject): row for row in rows}


def notified(session: Session, org: Organization, period: date,
             wanted: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The highest threshold already sent this period, per (level, subject)."""
    if not wanted:
        return {}
    rows = session.execute(select(Notification.level, Notification.subject, func.max(Notification.threshold_pct))
                           .where(Notification.org_pk == org.pk, Notification.period_start == period,
                                  or_(*[and_(Notification.level == level, Notification.subject == subject)
                                        for level, subject in wanted]))
                           .group_by(Notification.level, Notification.subject))
    return {(level, subject): pct for level, subject, pct in rows}


def org_spend(session: Session, org: Organization, period: date) -> Decimal:
    """The organization's month-to-date spend (its counter, as the summary reads it)."""
    return session.execute(select(SpendCounter.spend).where(
        SpendCounter.org_pk == org.pk, SpendCounter.period_start == period,
        SpendCounter.level == "organization", SpendCounter.subject == "")).scalar() or money.ZERO


def add_notice(session: Session, org: Organization, note: dict, *, period: date, level: str, subject: str,
               spend: Decimal, amount: Decimal, at: datetime) -> Notification:
    """A notice the policy asked for (``note``: a decision's notification as JSON,
    its ``type`` and params), kept as a Notification row: ``code`` the type,
    ``detail`` the params, threshold_pct 0 (never a spend threshold's row);
    ``amount``: the balance or the limit it speaks of. Webhooks see the row."""
    params = {k: v for k, v in note.items() if k != "type"}
    row = Notification(org_pk=org.pk, period_start=period, level=level, subject=subject, threshold_pct=0,
                       spend=spend, limit=amount, code=note["type"], detail=json.dumps(params, sort_keys=True),
                       created_at=at)
    session.add(row)
    return row

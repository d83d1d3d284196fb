"""Totals kept beside the ledger, recomputed from the ledger's rows.

``check_ledger`` returns every difference it finds (empty: all equal):
- each organization's ``credit_balance`` against the sum of its credit
  entries, and each entry's ``balance_after`` against the running sum;
- each spend counter (spend, included, records) against the usage records
  of its period, level and subject; and no usage without its counter;
- (the whole ledger) ``organization_ids`` against the organizations: each
  id names its organization's pk, and only it (models.OrganizationId).
"""
from __future__ import annotations

from collections import Counter
from decimal import Decimal

from sqlalchemy import func, select

from .credits import ADDED
from .db import Database
from . import repository as repo
from .models import CreditEntry, Member, Organization, OrganizationId, SpendCounter, UsageRecord, joined

ZERO = Decimal(0)


def check_ledger(database: Database, org_id: str | None = None) -> list[str]:
    problems = []
    with database.read() as session:
        if org_id is None:
            problems += _ids(session)
            orgs = session.execute(select(Organization).order_by(Organization.pk)).scalars().all()
        else:
            orgs = [org] if (org := repo.find_org(session, org_id)) is not None else []
        for org in orgs:
            problems += _credits(session, org) + _spend(session, org)
    return problems


def _ids(session) -> list[str]:
    kept = session.execute(select(OrganizationId.id, OrganizationId.org_pk)).all()
    actual = session.execute(select(Organization.id, Organization.pk)).all()
    problems = [f"{id}: {n} organizations have this id" for id, n in Counter(id for id, _ in actual).items() if n > 1]
    kept_by_id, actual_by_id = dict(kept), dict(actual)
    return problems + [f"{id}: organization_ids says pk {kept_by_id.get(id)}, organizations {actual_by_id.get(id)}"
                       for id in sorted(set(kept_by_id) | set(actual_by_id)) if kept_by_id.get(id) != actual_by_id.get(id)]


def _credits(session, org) -> list[str]:
    problems, running = [], ZERO
    for entry in session.execute(select(CreditEntry).where(CreditEntry.org_pk == org.pk)
                                 .order_by(CreditEntry.pk)).scalars():
        running += entry.amount
        if entry.balance_after != running:
            problems.append(f"{org.id}: credit entry {entry.pk} balance_after {entry.balance_after} != {running}")
        if (entry.kind in ADDED) != (entry.amount > 0):
            problems.append(f"{org.id}: credit entry {entry.pk} is a {entry.kind} of {entry.amount}")
    if org.credit_balance != running:
        problems.append(f"{org.id}: credit_balance {org.credit_balance} != sum of entries {running}")
    return problems


def _spend(session, org) -> list[str]:
    expected = {}
    subjects = {"organization": lambda r: "", "seat_type": lambda r: r.seat_type, "individual": lambda r: r.member_id}
    rows = session.execute(
        select(UsageRecord.period_start, UsageRecord.seat_type, Member.id.label("member_id"),
               func.sum(UsageRecord.billed).label("billed"), func.sum(UsageRecord.included).label("included"),
               func.count().label("records"))
        .join(Member, joined(UsageRecord.member_pk, Member)).where(UsageRecord.org_pk == org.pk)
        .group_by(UsageRecord.period_start, UsageRecord.seat_type, Member.id))
    for row in rows:
        for level, subject in subjects.items():
            key = (row.period_start, level, subject(row))
            spend, included, records = expected.get(key, (ZERO, ZERO, 0))
            expected[key] = (spend + row.billed, included + row.included, records + row.records)
    counters = {(c.period_start, c.level, c.subject): (c.spend, c.included, c.records)
                for c in session.execute(select(SpendCounter).where(SpendCounter.org_pk == org.pk)).scalars()}
    problems = []
    for key in sorted(set(expected) | set(counters), key=str):
        if expected.get(key, (ZERO, ZERO, 0)) != counters.get(key, (ZERO, ZERO, 0)):
            problems.append(f"{org.id}: spend counter {key} is {counters.get(key)}, usage records say "
                            f"{expected.get(key)}")
    return problems

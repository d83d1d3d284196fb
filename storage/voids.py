"""Voiding a recorded usage (issue 10 item 4): a correction while the usage's
billing period is open.

In one unit of work holding the organization's lock:
- the record keeps its cost at API rates, but its ``billed`` and ``included``
  go to zero, and the month-to-date counters of its period lose them, so the
  counters and the month's invoice stay the sums of the records
  (storage.verify);
- the credits it consumed (prepaid plans) come back as a ``usage_void``
  credit entry;
- a UsageVoid row keeps what it had, and an audit Event (kind
  ``usage_void``, with who called) says who took it back and why.

Once the period is closed (its invoice issued) the usage can no longer be
voided: a 409 ``period_closed`` says so. A usage is voided once
(``usage_already_voided``). With an Idempotency-Key a retry gets the first
answer (idempotency.Once).

Who may void is the caller's key scope (a service operation, like recording):
no member acts, so no policy event decides it.
"""
from __future__ import annotations

import json

from sqlalchemy import func, select, update

from tariff.engine import money

from . import caller, credits, idempotency, views
from .errors import Conflict, NotFound
from .models import CreditEntry, Event, Member, SpendCounter, UsageRecord, UsageVoid
from .unit_of_work import Books


def void(books: Books, org_id: str, usage_id: int, *, idempotency_key: str | None = None,
         reason: str | None = None) -> dict:
    """Take back usage ``usage_id``: what went back, and the credit balance after."""
    with books.write() as uow:
        org = uow.lock_org(org_id)
        once = idempotency.Once(uow, org, "usage.void", idempotency_key, usage_id=usage_id, reason=reason)
        if once.replay is not None:
            return idempotency.Replayed({**once.replay, "replayed": True})
        session = uow.session
        record = session.execute(select(UsageRecord).where(UsageRecord.org_pk == org.pk,
                                                           UsageRecord.pk == usage_id)).scalar_one_or_none()
        if record is None:
            raise NotFound(f"no usage {usage_id} in organization {org.id!r}", "usage_not_found")
        if session.execute(select(UsageVoid.pk).where(UsageVoid.org_pk == org.pk,
                                                      UsageVoid.usage_record_pk == record.pk)).first():
            raise Conflict(f"usage {usage_id} was voided already", "usage_already_voided")
        if org.closed_through is not None and record.period_start <= org.closed_through:
            raise Conflict(f"the billing period of {record.period_start.strftime('%Y-%m')} is closed (its invoice "
                           f"is issued): usage {usage_id} can no longer be voided", "period_closed")
        # Every statement names the organization (docs/scaling.md): no lookup by a bare pk.
        member_id = session.execute(select(Member.id).where(Member.org_pk == org.pk,
                                                            Member.pk == record.member_pk)).scalar_one()
        billed, included = record.billed, record.included
        subjects = {"organization": "", "seat_type": record.seat_type, "individual": member_id}
        for level, subject in subjects.items():
            counter = session.get(SpendCounter, (org.pk, record.period_start, level, subject))
            counter.spend -= billed
            counter.included -= included
        consumed = -(session.execute(select(func.sum(CreditEntry.amount)).where(
            CreditEntry.org_pk == org.pk, CreditEntry.usage_record_pk == record.pk,
            CreditEntry.kind == "consumption")).scalar() or money.ZERO)
        if consumed:
            credits.append(uow, org, "usage_void", consumed, None, record)
        session.execute(update(UsageRecord).where(UsageRecord.org_pk == org.pk, UsageRecord.pk == record.pk)
                        .values(billed=money.ZERO, included=money.ZERO))
        session.add(UsageVoid(org_pk=org.pk, usage_record_pk=record.pk, billed=billed, included=included,
                              credited=consumed, reason=reason, created_at=uow.now))
        key_id, key_name = caller.key()
        detail = {"usage_id": record.pk, "member": member_id, "period_start": views.iso(record.period_start),
                  "billed": views.money(billed), "included": views.money(included),
                  "credited": views.money(consumed), "reason": reason}
        session.add(Event(org_pk=org.pk, kind="usage_void", actor_pk=None, as_of=uow.today, outcome="allow",
                          decision=json.dumps(detail, sort_keys=True), request=None, created_at=uow.now,
                          key_id=key_id, key_name=key_name))
        session.flush()
        return once.keep({"usage_id": record.pk, "voided_at": views.iso(uow.now), "returned": views.money(billed),
                          "credit_balance": uow.balance(org), "replayed": False})

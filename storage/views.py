"""Stored rows as JSON-safe dicts: amounts as exact decimal text (engine's
``fmt``: "12.5", "0.000001"), invoice amounts with two decimals ("12.50"),
dates and times ISO 8601. The same text a first response had is what a
retry gets back."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from tariff.engine import TOKEN_CLASSES, UNLIMITED, money as engine_money

from .models import Charge, CreditEntry, Limit, Member, Notification, Organization, SeatChange, UsageRecord

# The usage record's column for each token class.
TOKEN_COLUMNS = {name: f"{name}_tokens" for name in TOKEN_CLASSES}


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else engine_money.fmt(amount)


def cents(amount: Decimal) -> str:
    return f"{amount:.2f}"


def iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value.isoformat()


def organization(org: Organization, prepaid: bool, assigned: dict[str, int]) -> dict:
    return {
        "id": org.id, "name": org.name, "plan": org.plan, "channel": org.channel,
        "term_start": iso(org.term_start), "renewal_date": iso(org.renewal_date),
        "seats": org.seats, "seats_assigned": {t: assigned.get(t, 0) for t in org.seats},
        "hipaa_seats": org.hipaa_seats, "extra_usage": org.extra_usage,
        "prepaid": prepaid, "credit_balance": money(org.credit_balance) if prepaid else None,
        "closed_through": iso(org.closed_through), "created_at": iso(org.created_at),
    }


def member(m: Member) -> dict:
    return {"id": m.id, "name": m.name, "email": m.email, "role": m.role, "seat_type": m.seat_type,
            "created_at": iso(m.created_at), "removed_at": iso(m.removed_at)}


def limit(row: Limit) -> dict:
    return {"level": row.level, "subject": row.subject or None,
            "limit": UNLIMITED if row.amount is None else money(row.amount), "updated_at": iso(row.updated_at),
            "ended_on": iso(row.ended_on)}


def credit_entry(entry: CreditEntry, member_id: str | None) -> dict:
    return {"id": entry.pk, "kind": entry.kind, "amount": money(entry.amount),
            "balance_after": money(entry.balance_after), "member": member_id,
            "usage_id": entry.usage_record_pk, "created_at": iso(entry.created_at)}


def usage(record: UsageRecord, member_id: str) -> dict:
    return {"id": record.pk, "idempotency_key": record.idempotency_key, "member": member_id,
            "product": record.product, "model": record.model, "seat_type": record.seat_type,
            "tokens": {name: getattr(record, column) for name, column in TOKEN_COLUMNS.items()},
            "occurred_at": iso(record.occurred_at), "period_start": iso(record.period_start),
            "cost": money(record.cost), "billed": money(record.billed), "included": money(record.included),
            "recorded_at": iso(record.recorded_at), "key_id": record.key_id, "key_name": record.key_name}


def notification(n: Notification, member_id: str | None) -> dict:
    code = n.code or "spend_threshold"  # a row the usage path built with Core has no code set in Python
    if code != "spend_threshold":  # a forecast's (storage/forecast.py) or a top-up's notice: no threshold
        credits = n.level == "credits"  # what runs out: credits (the balance is kept as limit), or a limit
        return {"id": n.pk, "type": code, "period_start": iso(n.period_start), "level": None if credits else n.level,
                "subject": None, "threshold_pct": None, "spend": money(n.spend),
                "limit": None if credits else money(n.limit), "member": None, "usage_id": None,
                "sent_at": iso(n.created_at), **({"credit_balance": money(n.limit)} if credits else {}),
                **json.loads(n.detail or "{}")}
    return {"id": n.pk, "type": code, "period_start": iso(n.period_start), "level": n.level,
            "subject": n.subject or None, "threshold_pct": n.threshold_pct, "spend": money(n.spend),
            "limit": money(n.limit), "member": member_id, "usage_id": n.usage_record_pk,
            "sent_at": iso(n.created_at)}


def charge(c: Charge) -> dict:
    return {"kind": c.kind, "item": c.item, "quantity": c.quantity, "unit_price": money(c.unit_price),
            "months": c.months, "amount": money(c.amount), "period_start": iso(c.period_start)}


def seat_change(change: SeatChange, names: dict[int, str], charges: list[Charge]) -> dict:
    return {"id": change.pk, "kind": change.kind, "status": change.status, "seat_type": change.seat_type,
            "to_seat_type": change.to_seat_type, "count": change.count, "hipaa": change.hipaa,
            "member": names.get(change.member_pk), "actor": names.get(change.actor_pk),
            "effective_on": iso(change.effective_on), "charged": money(change.charged),
            "charges": [charge(c) for c in charges],
            "detail": json.loads(change.detail) if change.detail else None, "created_at": iso(change.created_at)}

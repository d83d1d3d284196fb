"""Usage: authorize (the engine's ``usage_precheck``), record (``usage``, the
charge) and list.

Recording, in one unit of work holding the organization's lock:
1. a known idempotency key returns the first answer (``replayed``); the same
   key with a different body is a conflict;
2. the pre-check runs on the stored state: when credits are exhausted or a
   limit is reached the usage is *not* recorded (``recorded`` false, the
   block's reasons and ways to resume) and the key stays unused, so the same
   key can be sent again once the block is lifted;
3. otherwise the engine prices the usage and its changes are applied: the
   usage record, month-to-date spend, credits consumed, notifications.

The answer is made once, with the decision as the caller renders it
(``render_decision``: the API adds the end-user messages in the request's
language); a recorded usage keeps that answer, and a retry gets it back as it
was given.

Because the pre-check blocks only once credits are at or below zero, and
requests for one organization run one at a time, credits go below zero by
at most one request's charge; limits likewise (SPEC open points).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Callable

from sqlalchemy import select

from tariff.engine import TOKEN_CLASSES, Decision, money, periods

from . import credits, idempotency, requests, views
from .errors import Conflict, InvalidInput
from .models import Member, Notification, Organization, SpendCounter, UsageRecord
from .unit_of_work import Books, UnitOfWork
from .views import TOKEN_COLUMNS

CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class Authorization:
    """The pre-check's verdict, and the credit balance on prepaid plans."""
    decision: Decision
    credit_balance: str | None

    @property
    def outcome(self) -> str:
        return self.decision.outcome

    def json(self, decision: dict | None = None) -> dict:
        """The answer, with ``decision`` as the caller renders it (default: the engine's JSON)."""
        return {"outcome": self.outcome, "decision": self.decision.to_dict() if decision is None else decision,
                "credit_balance": self.credit_balance}


@dataclass
class UsageResult:
    """What recording a usage did.

    ``recorded``: charged and kept; else the policy blocked it (``decision``
    says why) and nothing was kept. ``answer``: the answer as given the first
    time (``json``, the decision rendered by the caller); ``language``: the
    language it was rendered in. On a retry of a recorded key
    (``replayed``) only ``recorded``, ``answer`` and ``language`` are set: the
    first answer stands, whatever has happened since.
    """
    recorded: bool
    decision: Decision | None = None
    usage: dict | None = None
    credit_balance: str | None = None
    month_to_date: dict | None = None
    replayed: bool = False
    answer: dict | None = None
    language: str | None = None

    @property
    def outcome(self) -> str:
        return self.answer["outcome"] if self.decision is None else self.decision.outcome

    def json(self, decision: dict | None = None) -> dict:
        """The answer, with ``decision`` as the caller renders it (default: the engine's JSON)."""
        return {"outcome": self.outcome, "recorded": self.recorded, "usage": self.usage,
                "decision": self.decision.to_dict() if decision is None else decision,
                "credit_balance": self.credit_balance, "month_to_date": self.month_to_date, "replayed": False}


def authorize(books: Books, org_id: str, *, member: str, product: str, model: str | None = None,
              estimate: Decimal | None = None) -> Authorization:
    """Ask before using: allowed, or blocked with the reasons and ways to resume."""
    with books.read() as uow:
        org = uow.org(org_id)
        who = uow.member(org, member)
        state = requests.SpendState(uow.session, uow.plan(org), org, who, periods.period_start(uow.today))
        event = {"type": "usage_precheck", "product": product}
        if model is not None:
            event["model"] = model
        if estimate is not None:
            event["estimate"] = estimate
        decision = uow.decide(requests.request(org, uow.today, event, **state.usage_parts(who)))
        return Authorization(decision, uow.balance(org))


def record(books: Books, org_id: str, *, idempotency_key: str, member: str, product: str, model: str,
           tokens: dict, occurred_at: datetime | None = None,
           render_decision: Callable[[Decision], dict] = Decision.to_dict,
           language: str | None = None) -> UsageResult:
    """Record and charge a usage once per key. ``render_decision`` makes the
    answer's decision (``language``: the language it renders in, kept with it)."""
    with books.write() as uow:
        if not idempotency_key or len(idempotency_key) > 255:
            raise InvalidInput.field("idempotency_key", "1 to 255 characters")
        when = _when(occurred_at, uow.now)
        counts = token_counts(tokens)
        digest = idempotency.fingerprint(member=member, product=product, model=model, tokens=counts,
                                         occurred_at=when.isoformat() if occurred_at else None)
        org = uow.lock_org(org_id)
        first = idempotency.first_use(uow.session, UsageRecord, org, idempotency_key, digest, "usage record")
        if first is not None:
            return _replay(first)
        who = uow.member(org, member)
        period = periods.period_start(when.date())
        if org.closed_through is not None and period <= org.closed_through:
            raise Conflict(f"the billing period of {when.date().isoformat()} is closed", "period_closed")
        state = requests.SpendState(uow.session, uow.plan(org), org, who, period)
        parts = state.usage_parts(who)
        check = uow.decide(requests.request(org, when.date(), {"type": "usage_precheck", "product": product,
                                                               "model": model}, **parts))
        if check.outcome != "allow":
            return _answered(UsageResult(False, check, credit_balance=uow.balance(org)), render_decision, language)
        event = {"type": "usage", "product": product, "model": model,
                 "tokens": {c: n for c, n in counts.items() if n}}
        decision = uow.decide(requests.request(org, when.date(), event, **parts))
        if decision.outcome != "allow":
            return _answered(UsageResult(False, decision, credit_balance=uow.balance(org)), render_decision,
                             language)
        kept = _apply(uow, org, who, state, decision, UsageRecord(
            org_pk=org.pk, member_pk=who.pk, idempotency_key=idempotency_key, request_hash=digest,
            period_start=period, occurred_at=when, recorded_at=uow.now, seat_type=who.seat_type, product=product,
            model=model, cost=decision.total, billed=money.ZERO, included=money.ZERO,
            request=json.dumps(decision.request_json(), sort_keys=True),
            **{TOKEN_COLUMNS[c]: n for c, n in counts.items()}))
        result = _answered(UsageResult(True, decision, views.usage(kept, who.id), uow.balance(org),
                                       {level: views.money(state.spend(level))
                                        for level in ("organization", "individual")}), render_decision, language)
        # The answer is kept as given, before the record has its id: one flush writes it all.
        kept.response = json.dumps({"answer": result.answer, "language": language}, sort_keys=True)
        uow.session.flush()
        return _with_id(result, kept.pk)


def _when(occurred_at: datetime | None, now: datetime) -> datetime:
    """When the usage happened: ``occurred_at`` (late is fine, not in the future), else now; in UTC."""
    if occurred_at is None:
        return now
    if occurred_at.tzinfo is None:
        raise InvalidInput.field("occurred_at", "give a time zone (e.g. 2026-04-10T12:00:00Z)")
    if occurred_at - now > CLOCK_SKEW:
        raise InvalidInput.field("occurred_at", "is in the future")
    return occurred_at.astimezone(timezone.utc)


def _answered(result: UsageResult, render_decision: Callable[[Decision], dict], language: str | None) -> UsageResult:
    result.answer, result.language = result.json(render_decision(result.decision)), language
    return result


def _replay(first: UsageRecord) -> UsageResult:
    kept = json.loads(first.response)
    if "answer" not in kept:  # kept before answers carried their language: the answer itself
        kept = {"answer": kept, "language": None}
    return _with_id(UsageResult(True, replayed=True, answer=kept["answer"], language=kept["language"]), first.pk)


def _with_id(result: UsageResult, pk: int) -> UsageResult:
    """The record's id, which it gets only once written, in the answer and the result alike."""
    result.answer["usage"]["id"] = pk
    if result.usage is not None:
        result.usage["id"] = pk
    return result


def _apply(uow: UnitOfWork, org: Organization, who: Member, state: requests.SpendState, decision: Decision,
           record: UsageRecord) -> UsageRecord:
    """The record and the decision's changes: spend counters, credits consumed, notifications."""
    uow.session.add(record)
    for change in decision.changes:
        if change["change"] == "record_usage":
            record.cost, record.billed, record.included = change["cost"], change["billed"], change["included"]
            _count(uow, org, state, record)
        elif change["change"] == "consume_credits" and change["amount"]:
            credits.append(uow, org, "consumption", change["amount"], who, record)
    for note in decision.notifications:
        _notify(uow, org, state, who, record, note)
    return record


def token_counts(tokens) -> dict[str, int]:
    """Every token class's count (0 when not given), or InvalidInput naming each bad class."""
    if not isinstance(tokens, dict):
        raise InvalidInput.field("tokens", "token counts by class: " + ", ".join(TOKEN_CLASSES))
    errors = {f"tokens.{name}": ["not a token class"] for name in tokens if name not in TOKEN_CLASSES}
    for name, count in tokens.items():
        if name in TOKEN_CLASSES and (type(count) is not int or count < 0):
            errors[f"tokens.{name}"] = ["a whole number, 0 or more"]
    if not errors and not any(tokens.values()):
        errors["tokens"] = ["at least one token count must be positive"]
    if errors:
        raise InvalidInput("the token counts are not valid", errors=errors)
    return {c: tokens.get(c, 0) for c in TOKEN_CLASSES}


def _count(uow: UnitOfWork, org: Organization, state: requests.SpendState, record: UsageRecord) -> None:
    """Month-to-date spend, kept beside the usage records, at every level."""
    for key in state.keys.values():
        counter = state.counters.get(key)
        if counter is None:
            counter = SpendCounter(org_pk=org.pk, period_start=state.period, level=key[0], subject=key[1],
                                   spend=money.ZERO, included=money.ZERO, records=0)
            uow.session.add(counter)
            state.counters[key] = counter
        counter.spend += record.billed
        counter.included += record.included
        counter.records += 1


def _notify(uow: UnitOfWork, org: Organization, state: requests.SpendState, who: Member, record: UsageRecord,
            note: dict) -> None:
    level = note.get("level")
    if level not in state.keys:
        return
    _, subject = state.keys[level]
    uow.session.add(Notification(org_pk=org.pk, period_start=state.period, level=level, subject=subject,
                                 threshold_pct=note["threshold_pct"], spend=note["spend"], limit=note["limit"],
                                 member_pk=who.pk, usage_record=record, created_at=uow.now))


def list_records(books: Books, org_id: str, *, member: str | None = None, period: date | None = None,
                 after: int | None = None, limit: int = 100) -> list[dict]:
    with books.read() as uow:
        org = uow.org(org_id)
        query = select(UsageRecord, Member.id).join(Member, Member.pk == UsageRecord.member_pk) \
            .where(UsageRecord.org_pk == org.pk).order_by(UsageRecord.pk).limit(limit)
        if member is not None:
            query = query.where(UsageRecord.member_pk == uow.member(org, member).pk)
        if period is not None:
            query = query.where(UsageRecord.period_start == periods.period_start(period))
        if after is not None:
            query = query.where(UsageRecord.pk > after)
        return [views.usage(row, member_id) for row, member_id in uow.session.execute(query)]


def notifications(books: Books, org_id: str, period: date | None = None) -> list[dict]:
    """Spend notifications sent (M3), oldest first."""
    with books.read() as uow:
        org = uow.org(org_id)
        query = select(Notification, Member.id).outerjoin(Member, Member.pk == Notification.member_pk) \
            .where(Notification.org_pk == org.pk).order_by(Notification.pk)
        if period is not None:
            query = query.where(Notification.period_start == periods.period_start(period))
        return [views.notification(note, member_id) for note, member_id in uow.session.execute(query)]

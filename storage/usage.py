"""Usage: authorize (the engine's ``usage_precheck``), record (``usage``, the
charge) and list.

Recording, in one unit of work holding the organization's lock:
1. a known idempotency key returns the first answer (``replayed``); the same
   key with a different body is a conflict;
2. one engine decision (``usage``) on the stored state: when credits are
   exhausted or a limit is reached (the pre-check's blocks, which the usage
   event carries too) the usage is *not* recorded (``recorded`` false, the
   block's reasons and ways to resume) and the key stays unused, so the same
   key can be sent again once the block is lifted;
3. otherwise the engine has priced the usage and its changes are applied: the
   usage record, month-to-date spend, credits consumed, notifications.

The work is done by ingest.py (a run of one organization's records, read in
two statements and written with Core statements built once, lean.py); the
batch endpoint runs the same code for up to 1,000 records.

The answer is made once, with the decision as the caller renders it
(``render_decision``: the API adds the end-user messages in the request's
language); a recorded usage keeps that answer, and a retry gets it back as it
was given.

Because the pre-check blocks only once credits are at or below zero, and
requests for one organization run one at a time, credits go below zero by
at most one request's charge; limits likewise (SPEC open points).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Callable

from sqlalchemy import select

from tariff.engine import Decision, periods

from . import ingest, pages, views
from .errors import InvalidInput
from .models import Member, Notification, UsageRecord, joined
from .unit_of_work import Books

token_counts = ingest.token_counts


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
    body: bytes | None = None  # a recorded answer as JSON: the very text kept with it (ingest.Run._apply)

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
    """Ask before using: allowed, or blocked with the reasons and ways to resume.
    Read-only, two reads (ingest.Run: the organization, then its state)."""
    with books.read(core=True) as uow:
        run = ingest.Run(uow, org_id, [ingest.Usage("", member, product, model or "", {})], lock=False)
        who = run.member(member)
        event = {"type": "usage_precheck", "product": product}
        if model is not None:
            event["model"] = model
        if estimate is not None:
            event["estimate"] = estimate
        decision = uow.decide(run.request(who, uow.today, event))
        return Authorization(decision, run.credit_balance())


def record(books: Books, org_id: str, *, idempotency_key: str, member: str, product: str, model: str,
           tokens: dict, occurred_at: datetime | None = None,
           render_decision: Callable[[Decision], dict] = Decision.to_dict,
           language: str | None = None) -> UsageResult:
    """Record and charge a usage once per key. ``render_decision`` makes the
    answer's decision (``language``: the language it renders in, kept with it).
    A run of one record (ingest.Run): two reads, one decision, the writes."""
    with books.write(core=True) as uow:
        if not idempotency_key or len(idempotency_key) > 255:
            raise InvalidInput.field("idempotency_key", "1 to 255 characters")
        ingest.when_of(occurred_at, uow.now)
        counts = ingest.token_counts(tokens)
        u = ingest.Usage(idempotency_key, member, product, model, tokens, occurred_at, counts=counts)
        run = ingest.Run(uow, org_id, [u])
        with run.writing():
            out = run.record(u, render_decision, language)
            run.flush()
        if out.status == "replayed":
            return UsageResult(True, replayed=True, answer=out.answer, language=out.language)
        if out.status == "blocked":
            return UsageResult(False, out.decision, credit_balance=out.answer["credit_balance"], answer=out.answer,
                               language=language)
        answer = out.answer
        return UsageResult(True, out.decision, dict(answer["usage"]), answer["credit_balance"],
                           answer["month_to_date"], answer=answer, language=language, body=out.body)


def list_records(books: Books, org_id: str, *, member: str | None = None, period: date | None = None,
                 cursor: str | None = None, limit: int = pages.DEFAULT_LIMIT) -> dict:
    """A page of the usage recorded, oldest first."""
    with books.read() as uow:
        org = uow.org(org_id)
        query = select(UsageRecord, Member.id).join(Member, joined(UsageRecord.member_pk, Member)) \
            .where(UsageRecord.org_pk == org.pk)
        if member is not None:
            query = query.where(UsageRecord.member_pk == uow.member(org, member, removed=True).pk)
        if period is not None:
            query = query.where(UsageRecord.period_start == periods.period_start(period))
        rows = uow.session.execute(pages.after(query, UsageRecord.pk, cursor, int, limit)).all()
        return pages.page(rows, limit, lambda row: row[0].pk, lambda row: views.usage(*row))


def notifications(books: Books, org_id: str, period: date | None = None, cursor: str | None = None,
                  limit: int = pages.DEFAULT_LIMIT) -> dict:
    """A page of the notifications sent, oldest first: spend thresholds (M3) and
    the daily forecast's credits_running_out and spend_limit_running_out (D17,
    storage/forecast.py)."""
    with books.read() as uow:
        org = uow.org(org_id)
        query = select(Notification, Member.id).outerjoin(Member, joined(Notification.member_pk, Member)) \
            .where(Notification.org_pk == org.pk)
        if period is not None:
            query = query.where(Notification.period_start == periods.period_start(period))
        rows = uow.session.execute(pages.after(query, Notification.pk, cursor, int, limit)).all()
        return pages.page(rows, limit, lambda row: row[0].pk, lambda row: views.notification(*row))

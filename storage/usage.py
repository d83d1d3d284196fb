"""Usage: authorize (the engine's ``usage_precheck``) and record (``usage``,
the charge), and the month-to-date summary (M1).

Recording, in one transaction holding the organization's lock:
1. a known idempotency key returns the first response (``replayed: true``);
   the same key with a different body is a conflict;
2. the pre-check runs on the stored state: when credits are exhausted or a
   limit is reached the usage is *not* recorded (``recorded: false``, the
   block's reasons and ways to resume) and the key stays unused, so the same
   key can be sent again once the block is lifted;
3. otherwise the engine prices the usage and its changes are applied: the
   usage record, month-to-date spend, credits consumed, notifications.

Because the pre-check blocks only once credits are at or below zero, and
requests for one organization run one at a time, credits go below zero by
at most one request's charge; limits likewise (SPEC open points).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from tariff.engine import TOKEN_CLASSES, periods

from . import facts, repository as repo, views
from .credits import fingerprint
from .errors import Conflict, InvalidInput
from .models import Member, Notification, SpendCounter, UsageRecord
from .views import TOKEN_COLUMNS

CLOCK_SKEW = timedelta(minutes=5)


class UsageOps:

    def authorize_usage(self, org_id: str, *, member: str, product: str, model: str | None = None,
                        estimate: Decimal | None = None) -> dict:
        """Ask before using: allowed, or blocked with the reasons and ways to resume."""
        day = self.today()
        with self.db.read() as session:
            org = repo.get_org(session, org_id)
            who = repo.get_member(session, org, member)
            state = facts.SpendState(session, self.plan(org), org, who, periods.period_start(day))
            event = {"type": "usage_precheck", "product": product}
            if model is not None:
                event["model"] = model
            if estimate is not None:
                event["estimate"] = estimate
            decision = self.decide(facts.request(org, day, event, **state.usage_parts(who)))
            return {"outcome": decision.outcome, "decision": decision.to_dict(),
                    "credit_balance": views.money(org.credit_balance) if self.prepaid(org) else None}

    def record_usage(self, org_id: str, *, idempotency_key: str, member: str, product: str, model: str,
                     tokens: dict, occurred_at: datetime | None = None) -> dict:
        now = self.now()
        if not idempotency_key or len(idempotency_key) > 255:
            raise InvalidInput.field("idempotency_key", "1 to 255 characters")
        if occurred_at is not None:
            if occurred_at.tzinfo is None:
                raise InvalidInput.field("occurred_at", "give a time zone (e.g. 2026-04-10T12:00:00Z)")
            if occurred_at - now > CLOCK_SKEW:
                raise InvalidInput.field("occurred_at", "is in the future")
        when = (occurred_at or now).astimezone(timezone.utc)
        day = when.date()
        period = periods.period_start(day)
        counts = self._token_counts(tokens)
        digest = fingerprint(member=member, product=product, model=model, tokens=counts,
                             occurred_at=occurred_at.astimezone(timezone.utc).isoformat() if occurred_at else None)
        with self.db.write() as session:
            org = repo.lock_org(session, org_id)
            first = session.execute(select(UsageRecord).where(
                UsageRecord.org_pk == org.pk, UsageRecord.idempotency_key == idempotency_key)).scalar_one_or_none()
            if first is not None:
                if first.request_hash != digest:
                    raise Conflict("this idempotency key was used for a different usage record",
                                   "idempotency_key_reused")
                return self._replay(first)
            who = repo.get_member(session, org, member)
            if org.closed_through is not None and period <= org.closed_through:
                raise Conflict(f"the billing period of {day.isoformat()} is closed", "period_closed")
            state = facts.SpendState(session, self.plan(org), org, who, period)
            parts = state.usage_parts(who)
            check = self.decide(facts.request(org, day, {"type": "usage_precheck", "product": product,
                                                         "model": model}, **parts))
            if check.outcome != "allow":
                return self._not_recorded(org, check)
            event = {"type": "usage", "product": product, "model": model,
                     "tokens": {c: n for c, n in counts.items() if n}}
            decision = self.decide(facts.request(org, day, event, **parts))
            if decision.outcome != "allow":
                return self._not_recorded(org, decision)
            record = UsageRecord(org_pk=org.pk, member_pk=who.pk, idempotency_key=idempotency_key,
                                 request_hash=digest, period_start=period, occurred_at=when, recorded_at=now,
                                 seat_type=who.seat_type, product=product, model=model,
                                 cost=decision.total, billed=repo.ZERO, included=repo.ZERO,
                                 request=json.dumps(decision.request_json(), sort_keys=True),
                                 **{TOKEN_COLUMNS[c]: n for c, n in counts.items()})
            session.add(record)
            for change in decision.changes:
                if change["change"] == "record_usage":
                    record.cost, record.billed, record.included = change["cost"], change["billed"], change["included"]
                    self._count(session, org, state, record)
                elif change["change"] == "consume_credits" and change["amount"]:
                    self.credit_entry(session, org, "consumption", change["amount"], who, record)
            for note in decision.notifications:
                self._notify(session, org, state, who, record, note)
            response = {"outcome": "allow", "recorded": True, "usage": views.usage(record, who.id),
                        "decision": decision.to_dict(),
                        "credit_balance": views.money(org.credit_balance) if self.prepaid(org) else None,
                        "month_to_date": {level: views.money(state.spend(level))
                                          for level in ("organization", "individual")},
                        "replayed": False}
            record.response = json.dumps(response, sort_keys=True)  # one flush writes it all, at commit
            session.flush()
            response["usage"]["id"] = record.pk
            return response

    @staticmethod
    def _replay(first: UsageRecord) -> dict:
        response = json.loads(first.response)
        response["usage"]["id"] = first.pk
        return response | {"replayed": True}

    @staticmethod
    def _token_counts(tokens) -> dict[str, int]:
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

    def _not_recorded(self, org, decision) -> dict:
        return {"outcome": decision.outcome, "recorded": False, "usage": None, "decision": decision.to_dict(),
                "credit_balance": views.money(org.credit_balance) if self.prepaid(org) else None,
                "month_to_date": None, "replayed": False}

    def _count(self, session, org, state: facts.SpendState, record: UsageRecord) -> None:
        """Month-to-date spend, kept beside the usage records, at every level."""
        for level, key in state.keys.items():
            counter = state.counters.get(key)
            if counter is None:
                counter = SpendCounter(org_pk=org.pk, period_start=state.period, level=key[0], subject=key[1],
                                       spend=repo.ZERO, included=repo.ZERO, records=0)
                session.add(counter)
                state.counters[key] = counter
            counter.spend += record.billed
            counter.included += record.included
            counter.records += 1

    def _notify(self, session, org, state, who: Member, record: UsageRecord, note: dict) -> None:
        level = note.get("level")
        if level not in state.keys:
            return
        _, subject = state.keys[level]
        session.add(Notification(org_pk=org.pk, period_start=state.period, level=level, subject=subject,
                                 threshold_pct=note["threshold_pct"], spend=note["spend"], limit=note["limit"],
                                 member_pk=who.pk, usage_record=record, created_at=self.now()))

    def list_usage(self, org_id: str, *, member: str | None = None, period=None, after: int | None = None,
                   limit: int = 100) -> list[dict]:
        with self.db.read() as session:
            org = repo.get_org(session, org_id)
            query = select(UsageRecord, Member.id).join(Member, Member.pk == UsageRecord.member_pk) \
                .where(UsageRecord.org_pk == org.pk).order_by(UsageRecord.pk).limit(limit)
            if member is not None:
                query = query.where(UsageRecord.member_pk == repo.get_member(session, org, member).pk)
            if period is not None:
                query = query.where(UsageRecord.period_start == periods.period_start(period))
            if after is not None:
                query = query.where(UsageRecord.pk > after)
            return [views.usage(record, member_id) for record, member_id in session.execute(query)]

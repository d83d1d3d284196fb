"""Spend limits at each level (L1-L4), set through the engine's
``limit_change`` event: only the roles the policy allows, only the levels
the plan has. Subjects: none for the organization, a seat type for the
seat-type level, a member's id for the individual level."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from sqlalchemy import select

from tariff.engine import UNLIMITED, Decision

from . import idempotency, inputs, repository as repo, requests, views
from .errors import InvalidInput
from .models import Limit, Organization
from .unit_of_work import Books, UnitOfWork


@dataclass
class LimitSet:
    """The limit as stored, and the engine's decision that allowed it. With an
    idempotency key, ``answer`` is the answer as first given (``language``: the
    one it was rendered in) and ``replayed`` whether this is a retry."""
    limit: dict
    decision: Decision | None
    answer: dict | None = None
    language: str | None = None
    replayed: bool = False

    def json(self, decision: dict | None = None) -> dict:
        """The answer, with ``decision`` as the caller renders it (default: the engine's JSON)."""
        if self.answer is not None:
            return self.answer
        return self.limit | {"decision": self.decision.to_dict() if decision is None else decision}


def set_limit(books: Books, org_id: str, *, actor: str, level: str, limit: Decimal | str,
              subject: str | None = None, idempotency_key: str | None = None,
              render_decision: Callable[[Decision], dict] = Decision.to_dict, language: str | None = None) -> LimitSet:
    """``render_decision`` makes the kept answer's decision (with an idempotency key)."""
    with books.write() as uow:
        org, who = uow.acting(org_id, actor)
        once = idempotency.Once(uow, org, "limits.set", idempotency_key, actor=actor, level=level,
                                limit=str(limit), subject=subject)
        if once.replay is not None:
            return LimitSet({k: v for k, v in once.replay.items() if k != "decision"}, None, dict(once.replay),
                            (once.extra or {}).get("language"), True)
        decision = uow.require_allow(uow.decide(requests.request(
            org, uow.today, {"type": "limit_change", "level": level, "limit": limit}, who)))
        subject = _subject(uow, org, level, subject)
        row = None
        for change in decision.changes:
            if change["change"] != "set_limit":
                continue
            row = uow.session.execute(select(Limit).where(
                Limit.org_pk == org.pk, Limit.level == level, Limit.subject == subject)).scalar_one_or_none()
            if row is None:
                row = Limit(org_pk=org.pk, level=level, subject=subject)
                uow.session.add(row)
            row.ended_on = None  # a level the plan has again starts afresh
            row.amount = None if change["limit"] == UNLIMITED else change["limit"]
            row.set_by = who.pk
            row.updated_at = uow.now
        uow.audit(org, decision, who)
        uow.session.flush()
        out = LimitSet(views.limit(row), decision)
        if idempotency_key is not None:
            out.answer = once.keep(out.json(render_decision(decision)), language=language)
            out.language = language
        return out


def _subject(uow: UnitOfWork, org: Organization, level: str, subject: str | None) -> str:
    if level == "organization":
        if subject:
            raise InvalidInput.field("subject", "the organization level has no subject")
        return ""
    if not subject:
        raise InvalidInput.field("subject", f"name the {'seat type' if level == 'seat_type' else 'member'} "
                                            f"this {level} limit is for")
    if level == "seat_type":
        return inputs.seat_type(uow.plan(org), subject, "subject")
    return uow.member(org, subject).id


def list_all(books: Books, org_id: str, *, ended: bool = False) -> list[dict]:
    """The limits in force; with ``ended``, those a renewal ended too (D11)."""
    with books.read() as uow:
        return [views.limit(row) for row in repo.limits(uow.session, uow.org(org_id), ended=ended)]


def end(uow: UnitOfWork, org: Organization, levels: list[str], on) -> None:
    """End the limits of levels the plan no longer has; they stay in the history."""
    for row in repo.limits(uow.session, org):
        if row.level in levels:
            row.ended_on, row.updated_at = on, uow.now

"""Spend limits at each level (L1-L4), set through the engine's
``limit_change`` event: only the roles the policy allows, only the levels
the plan has. Subjects: none for the organization, a seat type for the
seat-type level, a member's id for the individual level."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from tariff.engine import UNLIMITED, Decision

from . import inputs, repository as repo, requests, views
from .errors import InvalidInput
from .models import Limit, Organization
from .unit_of_work import Books, UnitOfWork


@dataclass
class LimitSet:
    """The limit as stored, and the engine's decision that allowed it."""
    limit: dict
    decision: Decision

    def json(self, decision: dict | None = None) -> dict:
        """The answer, with ``decision`` as the caller renders it (default: the engine's JSON)."""
        return self.limit | {"decision": self.decision.to_dict() if decision is None else decision}


def set_limit(books: Books, org_id: str, *, actor: str, level: str, limit: Decimal | str,
              subject: str | None = None) -> LimitSet:
    with books.write() as uow:
        org, who = uow.acting(org_id, actor)
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
        return LimitSet(views.limit(row), decision)


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

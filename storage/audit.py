"""The audit trail of one organization: every change applied (members,
seats, limits, credits, settings, billing runs), newest last, each with who
(the key's id and name, the acting member), what (the event, its charges and
changes), when, and the decision that allowed it (its id in the decision
log, the policy version). Usage has its own records (usage.py).

    audit.page(books, "acme", cursor=None, limit=100)  -> {"items": [...], "next": cursor | None}
"""
from __future__ import annotations

import json

from sqlalchemy import select

from . import pages, repository as repo
from .models import Event, Member, joined
from .unit_of_work import Books


def _item(event: Event, member_id: str | None) -> dict:
    decision = json.loads(event.decision)
    return {
        "id": event.pk,
        "at": event.created_at.isoformat(),
        "event": event.kind,
        "outcome": event.outcome,
        "as_of": event.as_of.isoformat(),
        "actor": member_id,
        "key_id": event.key_id,
        "key_name": event.key_name,
        "decision_id": decision.get("decision_id"),
        "policy_version": decision.get("policy_version"),
        "charges": decision.get("charges") or [],
        "changes": decision.get("changes") or [],
        "transition": decision.get("transition"),
    }


def page(books: Books, org_id: str, cursor: str | None = None, limit: int = pages.DEFAULT_LIMIT) -> dict:
    with books.read() as uow:
        org = repo.get_org(uow.session, org_id)
        query = (select(Event, Member.id).outerjoin(Member, joined(Event.actor_pk, Member))
                 .where(Event.org_pk == org.pk))
        rows = uow.session.execute(pages.after(query, Event.pk, cursor, int, limit)).all()
        return pages.page(rows, limit, key=lambda row: row[0].pk, view=lambda row: _item(row[0], row[1]))

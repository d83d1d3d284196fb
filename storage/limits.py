"""Spend limits at each level (L1-L4), set through the engine's
``limit_change`` event: only the roles the policy allows, only the levels
the plan has. Subjects: none for the organization, a seat type for the
seat-type level, a member's id for the individual level."""
from __future__ import annotations

from decimal import Decimal

from . import facts, repository as repo, views
from .errors import InvalidInput
from .models import Limit

UNLIMITED = "unlimited"


class LimitOps:

    def _limit_subject(self, session, org, level: str, subject: str | None) -> str:
        if level == "organization":
            if subject:
                raise InvalidInput.field("subject", "the organization level has no subject")
            return ""
        if not subject:
            raise InvalidInput.field("subject", f"name the {'seat type' if level == 'seat_type' else 'member'} "
                                                f"this {level} limit is for")
        if level == "seat_type":
            return self._seat_type(self.plan(org), subject, "subject")
        return repo.get_member(session, org, subject).id

    def set_limit(self, org_id: str, *, actor: str, level: str, limit: Decimal | str,
                  subject: str | None = None) -> dict:
        with self.db.write() as session:
            org = repo.lock_org(session, org_id)
            who = repo.actor(session, org, actor)
            decision = self.decide(facts.request(org, self.today(), {"type": "limit_change", "level": level,
                                                                     "limit": limit}, who))
            self.require_allow(decision)
            subject = self._limit_subject(session, org, level, subject)
            row = None
            for change in decision.changes:
                if change["change"] != "set_limit":
                    continue
                row = repo.limit_rows(session, org, [(level, subject)]).get((level, subject))
                if row is None:
                    row = Limit(org_pk=org.pk, level=level, subject=subject)
                    session.add(row)
                row.amount = None if change["limit"] == UNLIMITED else change["limit"]
                row.set_by = who.pk
                row.updated_at = self.now()
            self.audit(session, org, decision, who)
            session.flush()
            return views.limit(row) | {"decision": decision.to_dict()}

    def list_limits(self, org_id: str) -> list[dict]:
        with self.db.read() as session:
            org = repo.get_org(session, org_id)
            return [views.limit(row) for row in repo.limits(session, org)]

"""Seats: added mid-term with the prorated charge (S3), removed only when the
policy allows (S4), or scheduled to go at renewal.

Decided here: a removal the policy refuses mid-term can be scheduled for the
renewal date (``at_renewal``, as the refusal's resume option says); the
renewal run applies it before charging the new term. Seats that members
occupy cannot be removed (``seats_in_use``).
"""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from . import facts, repository as repo, views
from .errors import Conflict, Forbidden, NotFound
from .models import Member, Organization, SeatChange


class SeatOps:

    def _add_seats(self, session, org: Organization, who: Member, seat_type: str, count: int, hipaa: bool,
                   as_of: date, kind: str = "add") -> SeatChange:
        event = {"type": "seats_added", "count": count, "seat_type": seat_type}
        if hipaa:
            event["hipaa"] = True
        decision = self.decide(facts.request(org, as_of, event, who))
        self.require_allow(decision)
        change = SeatChange(org_pk=org.pk, kind=kind, status="applied", seat_type=seat_type, count=count,
                            hipaa=hipaa, actor_pk=who.pk, effective_on=as_of, charged=repo.ZERO,
                            created_at=self.now())
        session.add(change)
        for item in decision.changes:
            if item["change"] == "add_seats":
                self.set_seats(session, org, item["seat_type"], item["count"])
                if item["hipaa"]:
                    org.hipaa_seats += item["count"]
        self.record_charges(session, org, decision, change)
        self.audit(session, org, decision, who)
        return change

    def add_seats(self, org_id: str, *, actor: str, count: int, seat_type: str | None = None,
                  hipaa: bool = False) -> dict:
        with self.db.write() as session:
            org = repo.lock_org(session, org_id)
            who = repo.actor(session, org, actor)
            seat_type = self._seat_type(self.plan(org), seat_type, "seat_type")
            change = self._add_seats(session, org, who, seat_type, count, hipaa, self.today())
            return self._seat_result(session, org, change)

    def remove_seats(self, org_id: str, *, actor: str, count: int, seat_type: str | None = None,
                     at_renewal: bool = False) -> dict:
        with self.db.write() as session:
            org = repo.lock_org(session, org_id)
            who = repo.actor(session, org, actor)
            seat_type = self._seat_type(self.plan(org), seat_type, "seat_type")
            as_of = org.renewal_date if at_renewal else self.today()
            if at_renewal:
                # Decided now as of the renewal date (role, seat type); decided again at renewal.
                self.require_allow(self._removal_decision(org, who, seat_type, count, as_of))
                change = SeatChange(org_pk=org.pk, kind="remove", status="scheduled", seat_type=seat_type,
                                    count=count, hipaa=False, actor_pk=who.pk, effective_on=as_of,
                                    charged=repo.ZERO, created_at=self.now())
                session.add(change)
                session.flush()
                return self._seat_result(session, org, change)
            change = self._remove_seats(session, org, who, seat_type, count, as_of)
            return self._seat_result(session, org, change)

    def _removal_decision(self, org, who, seat_type, count, as_of):
        return self.decide(facts.request(org, as_of, {"type": "seat_removal", "count": count,
                                                      "seat_type": seat_type}, who))

    def _remove_seats(self, session, org: Organization, who: Member, seat_type: str, count: int,
                      as_of: date, change: SeatChange | None = None) -> SeatChange:
        decision = self._removal_decision(org, who, seat_type, count, as_of)
        self.require_allow(decision)
        for item in decision.changes:
            if item["change"] == "remove_seats":
                free = org.seats.get(item["seat_type"], 0) - repo.assigned_seats(session, org).get(item["seat_type"], 0)
                if item["count"] > free:
                    raise Conflict(f"only {free} {item['seat_type']} seats are free; members occupy the rest "
                                   "(change their seat type first)", "seats_in_use")
                self.set_seats(session, org, item["seat_type"], -item["count"])
        if change is None:
            change = SeatChange(org_pk=org.pk, kind="remove", seat_type=seat_type, count=count, hipaa=False,
                                actor_pk=who.pk, charged=repo.ZERO, created_at=self.now())
            session.add(change)
        change.status, change.effective_on = "applied", as_of
        self.audit(session, org, decision, who)
        return change

    def _seat_result(self, session, org: Organization, change: SeatChange) -> dict:
        session.flush()
        names = self._member_names(session, org, [change.actor_pk, change.member_pk])
        return {"organization": self.view_org(session, org),
                "seat_change": views.seat_change(change, names, list(change.charges))}

    def _member_names(self, session, org: Organization, pks) -> dict[int, str]:
        pks = [pk for pk in pks if pk is not None]
        if not pks:
            return {}
        return dict(session.execute(select(Member.pk, Member.id).where(Member.pk.in_(pks))).all())

    def list_seat_changes(self, org_id: str) -> list[dict]:
        with self.db.read() as session:
            org = repo.get_org(session, org_id)
            changes = list(session.execute(select(SeatChange).where(SeatChange.org_pk == org.pk)
                                           .order_by(SeatChange.pk)).scalars())
            names = dict(session.execute(select(Member.pk, Member.id).where(Member.org_pk == org.pk)).all())
            return [views.seat_change(c, names, list(c.charges)) for c in changes]

    def cancel_seat_change(self, org_id: str, change_id: int, *, actor: str) -> dict:
        """Cancel a scheduled removal before it applies."""
        with self.db.write() as session:
            org = repo.lock_org(session, org_id)
            who = repo.actor(session, org, actor)
            change = session.get(SeatChange, change_id)
            if change is None or change.org_pk != org.pk:
                raise NotFound(f"no seat change {change_id} in organization {org.id!r}", "seat_change_not_found")
            if change.status != "scheduled":
                raise Conflict(f"seat change {change_id} is {change.status}, not scheduled", "not_scheduled")
            if who.role not in ("primary_owner", "owner", "admin"):
                raise Forbidden("only an owner, the primary owner or an admin can cancel a seat change")
            change.status = "cancelled"
            change.detail = json.dumps({"cancelled_by": who.id})
            return self._seat_result(session, org, change)

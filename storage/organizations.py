"""Organizations and their members (S2, S7).

Decided here, where the policy is silent (documented in docs/ledger.md):
- Creating an organization charges its initial seats for the whole term
  (S2): the engine decides a ``seats_added`` event as of the term's start,
  by the primary owner, which prices twelve months.
- Members occupy seats: a member can be added only to a free seat of its
  seat type (``no_free_seat``: add seats first). A seat type change converts
  the member's seat, so seat counts follow it.
- Roles: the organization is created with its primary owner; owners,
  admins and members are added by an owner, the primary owner or an admin
  (only owners and the primary owner add or make owners). There is exactly
  one primary owner; transferring that role is not offered.
"""
from __future__ import annotations

import re
import secrets
from datetime import date

from sqlalchemy.exc import IntegrityError

from tariff.engine import periods

from . import facts, repository as repo, views
from .errors import Conflict, Forbidden, InvalidInput
from .models import Member, Organization, SeatChange

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$")
OWNERS = ("primary_owner", "owner")
MANAGERS = ("primary_owner", "owner", "admin")
ASSIGNABLE_ROLES = ("owner", "admin", "member")


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def check_id(value: str, path: str) -> str:
    if not ID.match(value):
        raise InvalidInput.field(path, "1 to 64 letters, digits or _.:@-, starting with a letter or digit")
    return value


class OrganizationOps:

    def _plan_and_channel(self, plan_id: str, channel: str | None):
        plan = self.policy.plans.get(plan_id)
        if plan is None:
            raise InvalidInput.field("plan", f"unknown plan {plan_id!r}; known: {', '.join(sorted(self.policy.plans))}",
                                     "unknown_plan")
        if channel is None:
            if len(plan.channels) != 1:
                raise InvalidInput.field("channel", f"plan {plan.id} is sold {' and '.join(plan.channels)}: say which")
            channel = plan.channels[0]
        elif channel not in plan.channels:
            raise InvalidInput.field("channel", f"plan {plan.id} is not sold {channel}")
        return plan, channel

    def _seat_type(self, plan, given: str | None, path: str, seats: dict | None = None) -> str:
        """``given``, checked; when not given, the plan's only seat type, or the
        only one the organization has ``seats`` of."""
        if given is None:
            if len(plan.seat_types) == 1:
                return next(iter(plan.seat_types))
            bought = [seat_type for seat_type, count in (seats or {}).items() if count]
            if len(bought) == 1:
                return bought[0]
            raise InvalidInput.field(path, f"plan {plan.id} has seat types {', '.join(plan.seat_types)}: say which")
        if given not in plan.seat_types:
            raise InvalidInput.field(path, f"{given!r} is not a seat type of plan {plan.id} "
                                           f"({', '.join(plan.seat_types)})")
        return given

    def create_organization(self, *, name: str, plan: str, term_start: date, seats: dict[str, int],
                            primary_owner: dict, id: str | None = None, channel: str | None = None,
                            hipaa_seats: int = 0, extra_usage: bool = False) -> dict:
        plan_obj, channel = self._plan_and_channel(plan, channel)
        org_id = check_id(id, "id") if id else new_id("org")
        for seat_type in seats:
            self._seat_type(plan_obj, seat_type, f"seats.{seat_type}")
        if sum(seats.values()) < 1:
            raise InvalidInput.field("seats", "an organization needs at least one seat (its primary owner's)")
        owner_seat = self._seat_type(plan_obj, primary_owner.get("seat_type"), "primary_owner.seat_type", seats)
        if seats.get(owner_seat, 0) < 1:
            raise InvalidInput.field("primary_owner.seat_type", f"no {owner_seat} seat for the primary owner")
        if extra_usage and plan_obj.usage != "included_allowance":
            raise InvalidInput.field("extra_usage", f"plan {plan_obj.id} bills all usage; extra usage is for "
                                                    "seat-based plans (P2)")
        now = self.now()
        try:
            with self.db.write() as session:
                if session.query(Organization.pk).filter_by(id=org_id).first() is not None:
                    raise Conflict(f"organization {org_id!r} exists", "organization_exists")
                org = Organization(id=org_id, name=name, plan=plan_obj.id, channel=channel, term_start=term_start,
                                   renewal_date=periods.term_end(term_start), hipaa_seats=0, extra_usage=extra_usage,
                                   credit_balance=repo.ZERO, closed_through=None, created_at=now, updated_at=now)
                session.add(org)
                owner = Member(id=check_id(primary_owner.get("id") or new_id("mem"), "primary_owner.id"),
                               name=primary_owner.get("name"), email=primary_owner.get("email"),
                               role="primary_owner", seat_type=owner_seat, created_at=now, updated_at=now)
                session.flush()
                owner.org_pk = org.pk
                session.add(owner)
                session.flush()
                hipaa_left = hipaa_seats
                for seat_type, count in sorted(seats.items()):
                    hipaa = min(hipaa_left, count) if hipaa_left else 0
                    for part, is_hipaa in ((count - hipaa, False), (hipaa, True)):
                        if part:
                            self._add_seats(session, org, owner, seat_type, part, is_hipaa, term_start, "initial")
                    hipaa_left -= hipaa
                if hipaa_left:
                    raise InvalidInput.field("hipaa_seats", "more HIPAA seats than seats")
                return self.view_org(session, org) | {"primary_owner": views.member(owner)}
        except IntegrityError:
            raise Conflict(f"organization {org_id!r} exists", "organization_exists") from None

    def get_organization(self, org_id: str) -> dict:
        with self.db.read() as session:
            org = repo.get_org(session, org_id)
            return self.view_org(session, org)

    def update_organization(self, org_id: str, *, actor: str, name: str | None = None,
                            extra_usage: bool | None = None) -> dict:
        """Rename, or switch extra usage (P2) on or off. Switching off is the
        engine's ``disable_usage_billing`` (refused on usage-based plans, U4);
        switching on has no event in the policy: owners only, seat-based plans."""
        with self.db.write() as session:
            org = repo.lock_org(session, org_id)
            who = repo.actor(session, org, actor)
            if extra_usage is False and (org.extra_usage or self.plan(org).usage != "included_allowance"):
                decision = self.decide(facts.request(org, self.today(), {"type": "disable_usage_billing"}, who))
                self.require_allow(decision)
                for change in decision.changes:
                    if change["change"] == "disable_extra_usage":
                        org.extra_usage = False
                self.audit(session, org, decision, who)
            elif extra_usage is True and not org.extra_usage:
                if self.plan(org).usage != "included_allowance":
                    raise InvalidInput.field("extra_usage", f"plan {org.plan} bills all usage; extra usage is for "
                                                            "seat-based plans (P2)")
                if who.role not in OWNERS:
                    raise Forbidden("only an owner or the primary owner can switch extra usage on")
                org.extra_usage = True
            if name is not None:
                if who.role not in MANAGERS:
                    raise Forbidden("only an owner, the primary owner or an admin can rename the organization")
                org.name = name
            org.updated_at = self.now()
            return self.view_org(session, org)

    # -- members ---------------------------------------------------------

    def add_member(self, org_id: str, *, actor: str, id: str | None = None, role: str = "member",
                   seat_type: str | None = None, name: str | None = None, email: str | None = None) -> dict:
        if role not in ASSIGNABLE_ROLES:
            raise InvalidInput.field("role", f"one of {', '.join(ASSIGNABLE_ROLES)} (the primary owner is "
                                             "named when the organization is created)")
        member_id = check_id(id, "id") if id else new_id("mem")
        with self.db.write() as session:
            org = repo.lock_org(session, org_id)
            who = repo.actor(session, org, actor)
            self._may_manage(who, role)
            seat_type = self._seat_type(self.plan(org), seat_type, "seat_type", org.seats)
            if repo.find_member(session, org, member_id) is not None:
                raise Conflict(f"member {member_id!r} exists in organization {org.id!r}", "member_exists")
            self._need_free_seat(session, org, seat_type)
            now = self.now()
            member = Member(org_pk=org.pk, id=member_id, name=name, email=email, role=role, seat_type=seat_type,
                            created_at=now, updated_at=now)
            session.add(member)
            session.flush()
            return views.member(member)

    def _may_manage(self, who: Member, role: str) -> None:
        if who.role not in MANAGERS:
            raise Forbidden(f"a {who.role} cannot manage members; ask an admin or owner")
        if role in OWNERS and who.role not in OWNERS:
            raise Forbidden("only an owner or the primary owner can add or make owners")

    def _need_free_seat(self, session, org: Organization, seat_type: str) -> None:
        bought = org.seats.get(seat_type, 0)
        used = repo.assigned_seats(session, org).get(seat_type, 0)
        if used >= bought:
            raise Conflict(f"all {bought} {seat_type} seats are taken: add seats first", "no_free_seat")

    def get_member(self, org_id: str, member_id: str) -> dict:
        with self.db.read() as session:
            org = repo.get_org(session, org_id)
            return views.member(repo.get_member(session, org, member_id))

    def list_members(self, org_id: str) -> list[dict]:
        with self.db.read() as session:
            org = repo.get_org(session, org_id)
            return [views.member(m) for m in repo.members(session, org)]

    def change_member(self, org_id: str, member_id: str, *, actor: str, role: str | None = None,
                      seat_type: str | None = None) -> dict:
        """Change a member's role, or seat type (S7: the engine's seat_type_change,
        effective at once; a dearer seat type is charged for the months left)."""
        with self.db.write() as session:
            org = repo.lock_org(session, org_id)
            who = repo.actor(session, org, actor)
            member = repo.get_member(session, org, member_id)
            change = None
            if seat_type is not None and seat_type != member.seat_type:
                change = self._change_seat_type(session, org, who, member, seat_type)
            if role is not None and role != member.role:
                if role not in ASSIGNABLE_ROLES or member.role == "primary_owner":
                    raise InvalidInput.field("role", "the primary owner's role is fixed, and no one else can "
                                                     f"become primary owner; roles: {', '.join(ASSIGNABLE_ROLES)}")
                if who.role not in OWNERS:
                    raise Forbidden("only an owner or the primary owner can change roles")
                member.role = role
            member.updated_at = self.now()
            out = views.member(member)
            if change is not None:
                out["seat_change"] = views.seat_change(change, {member.pk: member.id, who.pk: who.id},
                                                       list(change.charges))
            return out

    def _change_seat_type(self, session, org: Organization, who: Member, member: Member, to: str) -> SeatChange:
        today = self.today()
        event = {"type": "seat_type_change", "from": member.seat_type, "to": to}
        decision = self.decide(facts.request(org, today, event, who))
        self.require_allow(decision)
        change = SeatChange(org_pk=org.pk, kind="type_change", status="applied", seat_type=member.seat_type,
                            to_seat_type=to, count=1, hipaa=False, member_pk=member.pk, actor_pk=who.pk,
                            effective_on=today, charged=repo.ZERO, created_at=self.now())
        session.add(change)
        for item in decision.changes:
            if item["change"] == "change_seat_type":
                self.set_seats(session, org, item["from"], -1)
                self.set_seats(session, org, item["to"], +1)
                member.seat_type = item["to"]
        self.record_charges(session, org, decision, change)
        self.audit(session, org, decision, who)
        return change
